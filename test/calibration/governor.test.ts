import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_CONFIG } from '../../src/calibration/config.ts';
import { runGovernor } from '../../src/calibration/governor.ts';

const H = 3_600_000;
const cfg = DEFAULT_POLICY_CONFIG.governor;
const hours = (n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => i * H);

describe('runGovernor', () => {
  it('starts with the APC buffer above the target and absorbs a rise within it', () => {
    const target = new Float64Array(48).fill(0.04);
    for (let i = 24; i < 48; i++) target[i] = 0.048; // +20 % < the 25 % buffer
    const g = runGovernor({ decisionMs: hours(48), target, cfg });
    expect(g.inForce[0]).toBeCloseTo(0.05, 12);
    expect(g.inForce[47]).toBeCloseTo(0.05, 12);
    expect(g.changes).toHaveLength(1);
    expect(g.bindings.apcBuffer).toBeGreaterThan(0);
  });

  it('raises in announced steps of at most maxStepUp, with notice and the minimum delay', () => {
    const target = new Float64Array(72).fill(0.02);
    for (let i = 10; i < 72; i++) target[i] = 0.2; // ×10
    const g = runGovernor({ decisionMs: hours(72), target, cfg });
    const ups = g.changes.slice(1);
    expect(ups.length).toBeGreaterThanOrEqual(3); // 0.025 → 0.2 at ≤ ×(1 + maxStepUp) per step
    for (const c of ups) {
      expect(c.to / c.from).toBeLessThanOrEqual(1 + cfg.maxStepUp + 1e-12);
      expect(c.effectiveMs - c.announcedMs).toBe(cfg.noticeMs);
    }
    for (let k = 1; k < ups.length; k++) expect(ups[k]!.effectiveMs - ups[k - 1]!.effectiveMs).toBeGreaterThanOrEqual(cfg.minDelayMs);
    // In force only from the effective time on.
    const first = ups[0]!;
    const at = first.announcedMs / H;
    expect(g.inForce[at]).toBeCloseTo(first.from, 12);
    expect(g.inForce[at + 1]).toBeCloseTo(first.to, 12);
    expect(g.bindings.maxStepUp).toBeGreaterThan(0);
  });

  it('lowers only after the target stayed lower for decreaseAfterMs, by at most maxStepDown per change', () => {
    const target = new Float64Array(24 * 6).fill(0.1);
    for (let i = 24; i < target.length; i++) target[i] = 0.02;
    const g = runGovernor({ decisionMs: hours(target.length), target, cfg });
    const downs = g.changes.filter((c) => c.to < c.from);
    expect(downs[0]!.announcedMs).toBeGreaterThanOrEqual(24 * H + cfg.decreaseAfterMs);
    for (const c of downs) {
      expect(c.to / c.from).toBeGreaterThanOrEqual(1 - cfg.maxStepDown - 1e-12);
      expect(c.effectiveMs).toBe(c.announcedMs);
    }
    expect(g.bindings.hysteresis).toBeGreaterThan(0);
  });

  it('holds the floor', () => {
    const target = new Float64Array(30).fill(0.01);
    const floor = new Float64Array(30).fill(0.03);
    const g = runGovernor({ decisionMs: hours(30), target, floor, cfg });
    expect(Math.min(...g.inForce)).toBeCloseTo(0.03, 12);
    expect(g.bindings.floor).toBe(30);
  });

  it('never breaks its step, delay and notice rules on random targets (property)', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0.001, max: 0.5, noNaN: true }), { minLength: 2, maxLength: 300 }), (xs) => {
      const g = runGovernor({ decisionMs: hours(xs.length), target: Float64Array.from(xs), cfg });
      const cs = g.changes.slice(1);
      for (let k = 0; k < cs.length; k++) {
        const c = cs[k]!;
        const r = c.to / c.from;
        if (r > 1) expect(r).toBeLessThanOrEqual(1 + cfg.maxStepUp + 1e-9);
        else expect(r).toBeGreaterThanOrEqual(1 - cfg.maxStepDown - 1e-9);
        if (r > 1) expect(c.effectiveMs - c.announcedMs).toBe(cfg.noticeMs);
        if (k > 0) expect(c.announcedMs - cs[k - 1]!.effectiveMs).toBeGreaterThanOrEqual(cfg.minDelayMs);
      }
      for (const v of g.inForce) expect(v).toBeGreaterThan(0);
    }), { numRuns: 200 });
  });
});
