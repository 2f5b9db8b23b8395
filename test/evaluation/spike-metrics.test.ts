import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.ts';
import { brier, brierSkill, median, medianLeadTime, precisionRecall, rocAuc } from '../../src/evaluation/spike-metrics.ts';

const f64 = (xs: readonly number[]): Float64Array => Float64Array.from(xs);

/** O(n²) definition: share of (positive, negative) pairs ranked correctly, ties ½. */
function naiveAuc(labels: Float64Array, scores: Float64Array): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

describe('rocAuc', () => {
  it('matches hand-computed values, with ties averaged', () => {
    // sklearn's roc_auc_score documentation example: 0.75
    expect(rocAuc(f64([0, 0, 1, 1]), f64([0.1, 0.4, 0.35, 0.8])).auc).toBeCloseTo(0.75, 15);
    // pairs (pos 0.5 vs neg 0.5) = ½, (0.5 vs 0.2) = 1, (0.9 vs both) = 2 → 3.5/4
    expect(rocAuc(f64([0, 1, 0, 1]), f64([0.5, 0.5, 0.2, 0.9])).auc).toBeCloseTo(0.875, 15);
    expect(rocAuc(f64([0, 1]), f64([0.3, 0.3])).auc).toBe(0.5);
  });

  it('matches the O(n²) definition on seeded data with many ties', () => {
    const rng = createRng(7);
    const n = 500;
    const labels = new Float64Array(n);
    const scores = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = rng.next() < 0.2 ? 1 : 0;
      scores[i] = Math.round((rng.next() + 0.3 * labels[i]!) * 20) / 20;
    }
    expect(rocAuc(labels, scores).auc).toBeCloseTo(naiveAuc(labels, scores), 12);
  });

  it('skips NaN pairs and returns NaN with a single class', () => {
    const r = rocAuc(f64([0, 1, Number.NaN, 1]), f64([0.1, 0.9, 0.5, Number.NaN]));
    expect(r).toMatchObject({ auc: 1, n: 2, positives: 1, skipped: 2 });
    expect(rocAuc(f64([1, 1]), f64([0.1, 0.2])).auc).toBeNaN();
  });
});

describe('brier and brierSkill', () => {
  it('match hand-computed values', () => {
    // (0.8 − 1)² = 0.04, (0.3 − 0)² = 0.09 → 0.065
    expect(brier(f64([1, 0, Number.NaN]), f64([0.8, 0.3, 0.5]))).toMatchObject({ n: 2, skipped: 1 });
    expect(brier(f64([1, 0]), f64([0.8, 0.3])).brier).toBeCloseTo(0.065, 15);
    // default climatology = sample base rate ½ → BS_clim = 0.25 → 1 − 0.065/0.25 = 0.74
    expect(brierSkill(f64([1, 0]), f64([0.8, 0.3])).skill).toBeCloseTo(0.74, 14);
    // training base rate 0.1 → BS_clim = (0.81 + 0.01)/2 = 0.41
    const s = brierSkill(f64([1, 0]), f64([0.8, 0.3]), 0.1);
    expect(s.brierClimatology).toBeCloseTo(0.41, 15);
    expect(s.skill).toBeCloseTo(1 - 0.065 / 0.41, 14);
    // per-origin climatology
    expect(brierSkill(f64([1, 0]), f64([0.8, 0.3]), f64([0.1, 0.1])).skill).toBeCloseTo(s.skill, 15);
  });

  it('is zero for the climatological forecast itself', () => {
    expect(brierSkill(f64([1, 0, 0, 0]), f64([0.25, 0.25, 0.25, 0.25])).skill).toBeCloseTo(0, 15);
  });
});

describe('precisionRecall', () => {
  it('counts alarms at the threshold', () => {
    const r = precisionRecall(f64([1, 1, 0, 0, 1, Number.NaN]), f64([0.9, 0.2, 0.6, 0.1, 0.5, 0.9]), 0.5);
    expect(r).toMatchObject({ tp: 2, fp: 1, fn: 1, n: 5, skipped: 1 });
    expect(r.precision).toBeCloseTo(2 / 3, 15);
    expect(r.recall).toBeCloseTo(2 / 3, 15);
  });
});

describe('medianLeadTime', () => {
  const H = 3_600_000;
  it('measures the time from the first alarm in the look-back to the episode start', () => {
    //            0  1  2  3  4  5  6  7  8  9 10 11
    const labels = f64([0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0]);
    const probs = f64([0, 0.7, 0.8, 0.9, 0, 0, 0, 0, 0, 0, 0.1, 0]);
    const originMs = f64(Array.from({ length: 12 }, (_, i) => i * H));
    // episode 1 starts at 3, first alarm within 2 bars before it is at index 1 → 2 h; episode 2 (at 10) missed
    const r = medianLeadTime(labels, probs, 0.5, originMs, { lookbackBars: 2 });
    expect(r).toMatchObject({ medianMs: 2 * H, detected: 1, missed: 1 });
    // a 1-bar look-back only sees index 2 → 1 h
    expect(medianLeadTime(labels, probs, 0.5, originMs, { lookbackBars: 1 }).medianMs).toBe(H);
    // an alarm at the start itself counts with lead 0
    expect(medianLeadTime(f64([0, 1]), f64([0, 0.9]), 0.5, f64([0, H]), { lookbackBars: 5 }).medianMs).toBe(0);
  });

  it('does not credit an episode with the previous episode\'s alarms', () => {
    const labels = f64([1, 1, 0, 1]);
    const probs = f64([0.9, 0.9, 0, 0]);
    const r = medianLeadTime(labels, probs, 0.5, f64([0, H, 2 * H, 3 * H]), { lookbackBars: 3 });
    expect(r).toMatchObject({ detected: 1, missed: 1, medianMs: 0 });
  });

  it('median of an even count averages the middle two', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
