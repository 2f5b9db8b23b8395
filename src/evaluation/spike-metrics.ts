/**
 * Skill of volatility-spike probability forecasts: discrimination (ROC AUC), calibration (Brier, Brier
 * skill), alarm quality at a threshold (precision, recall) and warning time (lead time before an
 * episode). Labels are 1 (the forward realised variance was a spike) or 0, aligned by origin with the
 * probabilities; pairs with a NaN label or a non-finite probability are skipped and counted.
 */
import { AppError } from '../core/errors.ts';

function checkLengths(what: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) {
    throw new AppError('badRequest', `${what} needs labels and probabilities of equal length, got ${a.length} and ${b.length}: align them by origin first.`, {
      context: { what, lengths: [a.length, b.length] },
    });
  }
}

/** A label counts as a spike when ≥ 0.5 (labels are 0/1; this only guards against float noise). */
const isSpike = (label: number): boolean => label >= 0.5;

/** ROC AUC and its sample. */
export interface RocAuc {
  /** P(score of a random spike > score of a random non-spike), ties counted ½; NaN without both classes. */
  readonly auc: number;
  readonly n: number;
  readonly positives: number;
  readonly skipped: number;
}

/**
 * Area under the ROC curve via the Mann–Whitney U statistic (Hanley & McNeil 1982):
 * AUC = (R₊ − n₊(n₊+1)/2) / (n₊·n₋), where R₊ is the sum of the positives' ranks among all scores and
 * tied scores share their average rank. O(n log n).
 */
export function rocAuc(labels: Float64Array, scores: Float64Array): RocAuc {
  checkLengths('rocAuc', labels, scores);
  const idx: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isNaN(labels[i]!) && !Number.isNaN(scores[i]!)) idx.push(i);
  }
  const n = idx.length;
  const skipped = labels.length - n;
  idx.sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSumPos = 0;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && scores[idx[j]!]! === scores[idx[i]!]!) j++;
    const avgRank = (i + 1 + j) / 2; // ranks i+1 … j, averaged
    for (let k = i; k < j; k++) {
      if (isSpike(labels[idx[k]!]!)) {
        positives++;
        rankSumPos += avgRank;
      }
    }
    i = j;
  }
  const negatives = n - positives;
  const auc = positives > 0 && negatives > 0 ? (rankSumPos - (positives * (positives + 1)) / 2) / (positives * negatives) : Number.NaN;
  return { auc, n, positives, skipped };
}

/** Brier score and its sample. */
export interface Brier {
  /** mean (p − y)²; 0 is perfect, 0.25 is a constant ½. */
  readonly brier: number;
  readonly n: number;
  readonly skipped: number;
}

/** Brier (1950) score: mean over usable pairs of (p − y)², y ∈ {0, 1}. */
export function brier(labels: Float64Array, probs: Float64Array): Brier {
  checkLengths('brier', labels, probs);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    const p = probs[i]!;
    if (Number.isNaN(y) || !Number.isFinite(p)) continue;
    const d = p - (isSpike(y) ? 1 : 0);
    sum += d * d;
    n++;
  }
  return { brier: n > 0 ? sum / n : Number.NaN, n, skipped: labels.length - n };
}

/** Brier skill score and its parts. */
export interface BrierSkill {
  /** 1 − Brier / Brier_clim: 1 is perfect, 0 is no better than climatology, negative is worse. */
  readonly skill: number;
  readonly brier: number;
  /** Brier score of the climatological forecast on the same pairs. */
  readonly brierClimatology: number;
  readonly n: number;
  readonly skipped: number;
}

/**
 * Brier skill score BSS = 1 − BS / BS_clim, where BS_clim scores the constant climatological
 * probability c on the same pairs: mean (c − y)².
 *
 * `climatology` defaults to the base rate of `labels` themselves, which peeks at the test sample (then
 * BS_clim = ȳ(1 − ȳ)). Out of sample — in walk-forward evaluation — pass the TRAINING base rate: a
 * number, or one value per origin when it changes from fold to fold.
 */
export function brierSkill(labels: Float64Array, probs: Float64Array, climatology?: number | Float64Array): BrierSkill {
  checkLengths('brierSkill', labels, probs);
  if (climatology instanceof Float64Array) checkLengths('brierSkill (climatology)', labels, climatology);
  let base = Number.NaN;
  if (climatology === undefined) {
    let pos = 0;
    let cnt = 0;
    for (let i = 0; i < labels.length; i++) {
      if (Number.isNaN(labels[i]!) || !Number.isFinite(probs[i]!)) continue;
      if (isSpike(labels[i]!)) pos++;
      cnt++;
    }
    base = cnt > 0 ? pos / cnt : Number.NaN;
  }
  let sum = 0;
  let sumClim = 0;
  let n = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    const p = probs[i]!;
    const c = climatology === undefined ? base : typeof climatology === 'number' ? climatology : climatology[i]!;
    if (Number.isNaN(y) || !Number.isFinite(p) || !Number.isFinite(c)) continue;
    const yy = isSpike(y) ? 1 : 0;
    sum += (p - yy) * (p - yy);
    sumClim += (c - yy) * (c - yy);
    n++;
  }
  const bs = n > 0 ? sum / n : Number.NaN;
  const bsClim = n > 0 ? sumClim / n : Number.NaN;
  const skill = n > 0 && bsClim > 0 ? 1 - bs / bsClim : Number.NaN;
  return { skill, brier: bs, brierClimatology: bsClim, n, skipped: labels.length - n };
}

/** Alarm quality at a threshold. */
export interface PrecisionRecall {
  /** tp / (tp + fp): share of alarms that preceded a spike; NaN without alarms. */
  readonly precision: number;
  /** tp / (tp + fn): share of spikes that had an alarm; NaN without spikes. */
  readonly recall: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly n: number;
  readonly skipped: number;
}

/** Precision and recall of the alarm rule "prob ≥ threshold" against the spike labels, origin by origin. */
export function precisionRecall(labels: Float64Array, probs: Float64Array, threshold: number): PrecisionRecall {
  checkLengths('precisionRecall', labels, probs);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let n = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    const p = probs[i]!;
    if (Number.isNaN(y) || Number.isNaN(p)) continue;
    n++;
    const alarm = p >= threshold;
    if (isSpike(y)) {
      if (alarm) tp++;
      else fn++;
    } else if (alarm) fp++;
  }
  return {
    precision: tp + fp > 0 ? tp / (tp + fp) : Number.NaN,
    recall: tp + fn > 0 ? tp / (tp + fn) : Number.NaN,
    tp, fp, fn, n, skipped: labels.length - n,
  };
}

/** Warning time before spike episodes. */
export interface LeadTime {
  /** Median lead time over detected episodes, ms; NaN when none was detected. */
  readonly medianMs: number;
  readonly detected: number;
  readonly missed: number;
  /** Lead time of each detected episode, ms, in episode order (for pooling across symbols). */
  readonly leadTimesMs: Float64Array;
}

/** Median of the values (NaN for none). */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  const s = Float64Array.from(values).sort();
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * How long before each spike episode the alarm rule "prob ≥ threshold" first fired. An episode is a run
 * of consecutive origins labelled 1 (a NaN label ends a run); its start is its first origin. Its lead
 * time is originMs[start] − originMs[a], where a is the earliest alarm among the `lookbackBars` origins
 * before the start, and the start itself (an alarm at the start still warns before the forward window
 * that holds the spike: lead time 0). The look-back never reaches into the previous episode, whose
 * alarms belong to it. Episodes with no alarm in that window are missed.
 *
 * @param originMs origin times (epoch ms, ascending), aligned with labels and probs
 * @param opts.lookbackBars how many preceding origins count as a warning (bars when there is one origin per bar)
 */
export function medianLeadTime(
  labels: Float64Array,
  probs: Float64Array,
  threshold: number,
  originMs: Float64Array,
  opts: { readonly lookbackBars: number },
): LeadTime {
  checkLengths('medianLeadTime', labels, probs);
  checkLengths('medianLeadTime (originMs)', labels, originMs);
  if (!(Number.isInteger(opts.lookbackBars) && opts.lookbackBars >= 0)) {
    throw new AppError('badRequest', `lookbackBars must be a non-negative integer, got ${opts.lookbackBars}.`, { context: { lookbackBars: opts.lookbackBars } });
  }
  const leads: number[] = [];
  let missed = 0;
  let prevEpisodeEnd = -1; // index of the last origin of the previous episode
  for (let t = 0; t < labels.length; t++) {
    const inEpisode = isSpike(labels[t]!);
    const startsEpisode = inEpisode && (t === 0 || !isSpike(labels[t - 1]!));
    if (startsEpisode) {
      const from = Math.max(t - opts.lookbackBars, prevEpisodeEnd + 1, 0);
      let alarmAt = -1;
      for (let a = from; a <= t; a++) {
        if (probs[a]! >= threshold) {
          alarmAt = a;
          break;
        }
      }
      if (alarmAt >= 0) leads.push(originMs[t]! - originMs[alarmAt]!);
      else missed++;
    }
    if (inEpisode) prevEpisodeEnd = t;
  }
  return { medianMs: median(leads), detected: leads.length, missed, leadTimesMs: Float64Array.from(leads) };
}
