import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePolicyConfig } from '../../src/calibration/config.ts';
import { liquidationCostRatio, marginParams } from '../../src/calibration/margin-policy.ts';

const cfg = parsePolicyConfig({});

describe('marginParams', () => {
  it('adds the oracle buffer and the liquidation cost to the risk part, and explains each value', () => {
    const state = { sigmaBar: 0.01, barQuoteVolumeUsd: 50_000_000 };
    const { params, rationale } = marginParams({ riskRatio: 0.03, state, cfg, barMs: 3_600_000 });
    const cost = liquidationCostRatio(100_000, state, cfg);
    expect(params.maintenanceMarginRatio).toBeGreaterThan(0.03 + cost);
    expect(params.initialMarginRatio).toBeCloseTo(params.maintenanceMarginRatio * 1.5, 5);
    expect(params.maxLeverage).toBeCloseTo(1 / params.initialMarginRatio, 1);
    const mm = rationale.find((r) => r.parameter === 'maintenanceMarginRatio')!;
    expect(mm.drivers.riskRatio).toBe(0.03);
    expect(mm.clippedBy).toEqual([]);
  });

  it('names the bound that clipped a value', () => {
    const { params, rationale } = marginParams({ riskRatio: 0.9, state: { sigmaBar: 0.01, barQuoteVolumeUsd: 1e8 }, cfg, barMs: 3_600_000 });
    expect(params.maintenanceMarginRatio).toBe(cfg.bounds.maxMaintenance);
    expect(rationale.find((r) => r.parameter === 'maintenanceMarginRatio')!.clippedBy).toContain('bounds.maxMaintenance');
  });

  it('charges larger positions more (tiers) and liquidates thin markets partially', () => {
    const { params } = marginParams({ riskRatio: 0.02, state: { sigmaBar: 0.02, barQuoteVolumeUsd: 1_000_000 }, cfg, barMs: 3_600_000 });
    const mms = params.leverageTiers.map((t) => t.maintenanceMarginRatio);
    expect(mms.at(-1)!).toBeGreaterThan(mms[0]!);
    expect(params.closeFactor).toBeLessThan(1);
  });

  it('keeps leverage within 1 / initial after rounding (the counterexample fast-check found)', () => {
    const c = parsePolicyConfig({ initialBufferRatio: 2.3342125 });
    const { params: p } = marginParams({ riskRatio: 0, state: { sigmaBar: 0.00001, barQuoteVolumeUsd: 0, divergenceBps: 0 }, cfg: c, barMs: 3_600_000 });
    for (const t of [p, ...p.leverageTiers]) expect(t.maxLeverage).toBeLessThanOrEqual(1 / t.initialMarginRatio);
  });

  it('never violates an invariant or a bound under random inputs (property)', () => {
    fc.assert(fc.property(
      fc.double({ min: 0, max: 2, noNaN: true }), fc.double({ min: 1e-5, max: 0.3, noNaN: true }), fc.double({ min: 0, max: 1e11, noNaN: true }),
      fc.double({ min: 0, max: 500, noNaN: true }), fc.double({ min: 0.05, max: 3, noNaN: true }),
      (risk, sigmaBar, vol, div, buffer) => {
        const c = parsePolicyConfig({ initialBufferRatio: buffer });
        const { params: p } = marginParams({ riskRatio: risk, state: { sigmaBar, barQuoteVolumeUsd: vol, divergenceBps: div }, cfg: c, barMs: 3_600_000 });
        expect(p.maintenanceMarginRatio).toBeGreaterThanOrEqual(c.bounds.minMaintenance);
        expect(p.maintenanceMarginRatio).toBeLessThanOrEqual(c.bounds.maxMaintenance);
        expect(p.initialMarginRatio).toBeGreaterThan(p.maintenanceMarginRatio);
        expect(p.initialMarginRatio).toBeLessThanOrEqual(1);
        expect(p.liquidationPenalty).toBeLessThan(p.maintenanceMarginRatio);
        expect(p.liquidationPenalty).toBeGreaterThan(0);
        expect(p.maxLeverage).toBeLessThanOrEqual(1 / p.initialMarginRatio);
        expect(p.maxLeverage).toBeGreaterThan(1 / p.initialMarginRatio - 0.011);
        expect(p.closeFactor).toBeGreaterThan(0);
        expect(p.closeFactor).toBeLessThanOrEqual(1);
        expect(p.oracleLatencyBufferBps).toBeGreaterThanOrEqual(div * (1 - 5e-4) - 1e-9); // 4 significant digits
        for (let i = 1; i < p.leverageTiers.length; i++) {
          expect(p.leverageTiers[i]!.maintenanceMarginRatio).toBeGreaterThanOrEqual(p.leverageTiers[i - 1]!.maintenanceMarginRatio);
          expect(p.leverageTiers[i]!.maxLeverage).toBeLessThanOrEqual(p.leverageTiers[i - 1]!.maxLeverage);
        }
        for (const t of p.leverageTiers) {
          expect(t.initialMarginRatio).toBeGreaterThan(t.maintenanceMarginRatio);
          expect(t.maxLeverage).toBeLessThanOrEqual(1 / t.initialMarginRatio);
        }
      },
    ), { numRuns: 2000 });
  });

  it('refuses a broken configuration, naming the field', () => {
    expect(() => parsePolicyConfig({ confidence: 1.2 })).toThrow(/confidence/);
    expect(() => parsePolicyConfig({ governor: { apcBuffer: 0.1 } })).toThrow(/apcBuffer/);
    expect(() => parsePolicyConfig({ tiers: [{ maxNotionalUsd: 1e6 }, { maxNotionalUsd: 1e5 }, { maxNotionalUsd: null }] })).toThrow(/tiers\[1\]/);
    expect(() => parsePolicyConfig({ bogus: 1 })).toThrow(/bogus|Unrecognized/);
  });
});
