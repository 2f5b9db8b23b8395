import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../src/core/errors.ts';
import { createRng } from '../../src/core/rng.ts';
import {
  simulateAcrossSeeds, simulateLiquidations, type ScheduledParams, type SimBars, type SimOptions, type SimResult,
} from '../../src/evaluation/liquidation-sim.ts';
import { SHARED_DATA } from '../helpers/http-server.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

/** Bars from a list of closes: each opens at the previous close; high/low are the open/close envelope widened by `wick`. */
function pathBars(closes: readonly number[], quoteVolumeUsd = 1e9, wick = 0): SimBars {
  const n = closes.length;
  const col = (): Float64Array => new Float64Array(n);
  const bars = { timeMs: col(), open: col(), high: col(), low: col(), close: col(), quoteVolumeUsd: col() };
  let prev = closes[0]!;
  closes.forEach((c, i) => {
    bars.timeMs[i] = T0 + i * HOUR;
    bars.open[i] = prev;
    bars.close[i] = c;
    bars.high[i] = Math.max(prev, c) * (1 + wick);
    bars.low[i] = Math.min(prev, c) * (1 - wick);
    bars.quoteVolumeUsd[i] = quoteVolumeUsd;
    prev = c;
  });
  return bars;
}

/** A seeded log-normal random walk of `n` hourly bars starting at 100, with random wicks. */
function walkBars(seed: number, n: number, sigma: number, quoteVolumeUsd = 5e7): SimBars {
  const rng = createRng(seed);
  const closes: number[] = [];
  let p = 100;
  for (let i = 0; i < n; i++) { p *= Math.exp(sigma * rng.normal()); closes.push(p); }
  const bars = pathBars(closes, quoteVolumeUsd);
  for (let i = 0; i < n; i++) {
    bars.high[i] = bars.high[i]! * Math.exp(Math.abs(sigma * rng.normal()) / 2);
    bars.low[i] = bars.low[i]! * Math.exp(-Math.abs(sigma * rng.normal()) / 2);
  }
  return bars;
}

/** `n` closes falling geometrically by `step` per bar from 100, then flat for `flat` bars. */
function declining(n: number, step: number, flat = 0): number[] {
  const out: number[] = [];
  let p = 100;
  for (let i = 0; i < n; i++) { p *= 1 - step; out.push(p); }
  for (let i = 0; i < flat; i++) out.push(p);
  return out;
}

function params(mmr: number, over: Partial<ScheduledParams> = {}): ScheduledParams {
  return { announcedMs: T0, effectiveMs: T0, maintenanceMarginRatio: mmr, initialMarginRatio: Math.min(1, 2 * mmr), liquidationPenalty: mmr / 4, closeFactor: 0.5, ...over };
}

const quiet = { grandfather: false, slippage: { impactCoef: 0 }, cascade: { impactCoef: 0, maxRounds: 0 } } as const;

function ledgerGap(r: SimResult): { gap: number; scale: number } {
  const l = r.ledger;
  const gap = l.collateralInUsd + l.pnlUsd - l.penaltiesUsd - (l.payoutsUsd - l.badDebtUsd);
  const scale = l.collateralInUsd + Math.abs(l.pnlUsd) + l.penaltiesUsd + l.payoutsUsd + l.badDebtUsd;
  return { gap, scale };
}

/** Uniform on [min, max] (fc.double is uniform over float bit patterns, so it mostly draws values near 0). */
const between = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: 1_000_000 }).map((i) => min + ((max - min) * i) / 1_000_000);

const scheduleArb = (nBars: number): fc.Arbitrary<ScheduledParams[]> =>
  fc.array(fc.record({
    at: fc.integer({ min: 1, max: nBars - 1 }), mmr: between(0.005, 0.3), imrX: between(1, 3),
    penX: between(0, 1.5), cf: between(0.05, 1), notice: fc.integer({ min: 0, max: 48 }),
  }), { minLength: 1, maxLength: 4 }).map((xs) => {
    const times = [...new Set(xs.map((x, j) => (j === 0 ? 0 : x.at)))].sort((a, b) => a - b);
    return times.map((at, j) => {
      const x = xs[j]!;
      return {
        announcedMs: T0 + (at - x.notice) * HOUR, effectiveMs: T0 + at * HOUR, maintenanceMarginRatio: x.mmr,
        initialMarginRatio: Math.min(1, x.mmr * x.imrX), liquidationPenalty: Math.min(0.99, x.mmr * x.penX), closeFactor: x.cf,
      };
    });
  });

const populationArb = fc.record({
  openPerDay: between(0, 400), longShare: between(0, 1),
  leverage: fc.tuple(between(1, 20), between(1, 100)).map(([a, b]) => ({ min: Math.min(a, b), max: Math.max(a, b) })),
  notionalUsd: fc.record({ median: between(2, 6).map((e) => 10 ** e), sigmaLog: between(0, 2) }),
  meanLifetimeHours: between(0.5, 200),
});

describe('simulateLiquidations: accounting', () => {
  it('conserves value: collateral + pnl − penalties = payouts − bad debt, for random bars, schedules and populations', () => {
    const input = fc.record({
      n: fc.integer({ min: 2, max: 150 }), barSeed: fc.integer(), sigma: between(0.0005, 0.08),
      crashAt: fc.option(fc.integer({ min: 1, max: 149 })), crash: between(0.05, 0.6), qv: between(4, 9).map((e) => 10 ** e),
      population: populationArb, seed: fc.integer(), grandfather: fc.boolean(), slip: between(0, 3),
      cascade: fc.record({ impactCoef: between(0, 5), maxRounds: fc.integer({ min: 0, max: 5 }) }),
      fullBelow: fc.option(between(0, 0.2), { nil: undefined }),
    }).chain((x) => scheduleArb(x.n).map((schedule) => ({ ...x, schedule })));
    fc.assert(fc.property(input, (x) => {
      const bars = walkBars(x.barSeed, x.n, x.sigma, x.qv);
      if (x.crashAt !== null && x.crashAt < x.n) bars.low[x.crashAt] = bars.low[x.crashAt]! * (1 - x.crash);
      const r = simulateLiquidations({
        bars, schedule: x.schedule, population: x.population, seed: x.seed, grandfather: x.grandfather, slippage: { impactCoef: x.slip },
        cascade: x.cascade, fullLiquidationBelowEquityRatio: x.fullBelow,
      });
      const { gap, scale } = ledgerGap(r);
      expect(Math.abs(gap)).toBeLessThanOrEqual(1e-9 * Math.max(1, scale));
      expect(r.badDebtUsd).toBeGreaterThanOrEqual(0);
      expect(r.ledger.payoutsUsd).toBeGreaterThanOrEqual(0);
      expect(r.penaltyShortfallUsd).toBeGreaterThanOrEqual(-1e-9);
      expect(r.liquidatedPositions).toBeLessThanOrEqual(Math.min(r.positionsOpened, r.liquidations));
    }), { numRuns: 150 });
  });

  it('is deterministic per seed and differs between seeds', () => {
    const opts = { ...quiet, bars: walkBars(3, 24 * 10, 0.01), schedule: [params(0.02)], population: {}, slippage: { impactCoef: 0.3 } };
    const a = simulateLiquidations({ ...opts, seed: 7 });
    expect(simulateLiquidations({ ...opts, seed: 7 })).toEqual(a);
    const b = simulateLiquidations({ ...opts, seed: 8 });
    expect(b.positionsOpened).toBeGreaterThan(1000);
    expect(b.ledger.collateralInUsd).not.toBe(a.ledger.collateralInUsd);
    expect(b.liquidatedNotionalUsd).not.toBe(a.liquidatedNotionalUsd);
  });

  it('a flat path liquidates nobody and pays every collateral back; a crash liquidates and leaves bad debt', () => {
    const schedule = [params(0.02)];
    const flat = simulateLiquidations({ ...quiet, bars: pathBars(new Array(200).fill(100)), schedule, population: {}, seed: 1 });
    expect(flat.positionsOpened).toBeGreaterThan(1000);
    expect(flat.liquidations).toBe(0);
    expect(flat.badDebtUsd).toBe(0);
    expect(flat.ledger.payoutsUsd).toBeCloseTo(flat.ledger.collateralInUsd, 6);
    const crash = simulateLiquidations({ ...quiet, bars: pathBars([...new Array(48).fill(100), 75, ...new Array(48).fill(75)]), schedule, population: {}, seed: 1 });
    expect(crash.liquidations).toBeGreaterThan(50);
    expect(crash.badDebtUsd).toBeGreaterThan(0);
    expect(crash.perBar.badDebtUsd[48]).toBe(crash.badDebtUsd);
  });
});

describe('simulateLiquidations: opening halts (circuit breakers)', () => {
  it('opens no position during a halt and leaves the rest of the population unchanged', () => {
    const opts = { ...quiet, bars: walkBars(5, 24 * 4, 0.01), schedule: [params(0.02)], population: {}, seed: 3 };
    const free = simulateLiquidations(opts);
    const halt = { fromMs: T0 + 24 * HOUR, toMs: T0 + 48 * HOUR };
    const halted = simulateLiquidations({ ...opts, openingHalts: [halt] });
    expect(halted.positionsOpened).toBeLessThan(free.positionsOpened);
    expect(halted.positionsOpened).toBeGreaterThan(free.positionsOpened / 2);
    // A halt outside the window changes nothing: the draws are the same.
    expect(simulateLiquidations({ ...opts, openingHalts: [{ fromMs: T0 - 10 * HOUR, toMs: T0 - 5 * HOUR }] })).toEqual(free);
    expect(() => simulateLiquidations({ ...opts, openingHalts: [{ fromMs: T0 + HOUR, toMs: T0 }] })).toThrow(/openingHalts/);
  });
});

describe('simulateLiquidations: liquidation mechanics', () => {
  // One long: $100k at 10× from 100, so equity ratio = 1 − 90/p, below MMR 5% once p < 94.737.
  const onePosition = { ...quiet, population: { openPerDay: 0 }, seed: 1, initialPositions: [{ side: 1 as const, notionalUsd: 100_000, leverage: 10 }] };

  it('partial liquidation closes closeFactor of the position and restores its margin', () => {
    const bars = pathBars([100, ...declining(120, 0.0005, 24)]); // gapless: low = close; the position opens at 100
    const r = simulateLiquidations({ ...onePosition, bars, schedule: [params(0.05, { initialMarginRatio: 0.1, liquidationPenalty: 0.01, closeFactor: 0.25 })] });
    const j = r.perBar.liquidatedNotionalUsd.findIndex((v) => v > 0);
    expect(bars.low[j]!).toBeLessThan(100 * 0.9 / 0.95);
    expect(bars.low[j - 1]!).toBeGreaterThanOrEqual(100 * 0.9 / 0.95);
    expect(r.liquidations).toBe(1);
    expect(r.liquidatedNotionalUsd).toBeCloseTo(0.25 * 1000 * bars.low[j]!, 6);
    expect(r.penaltiesUsd).toBeCloseTo(0.01 * r.liquidatedNotionalUsd, 8);
    expect(r.badDebtUsd).toBe(0);
  });

  it('closes 100% below fullLiquidationBelowEquityRatio, and the tiny remainder rule closes small positions whole', () => {
    const bars = pathBars([100, 93, 93]); // ratio at 93 = 1 − 90/93 ≈ 3.2%
    const schedule = [params(0.05, { initialMarginRatio: 0.1, liquidationPenalty: 0.01, closeFactor: 0.25 })];
    const full = simulateLiquidations({ ...onePosition, bars, schedule, fullLiquidationBelowEquityRatio: 0.04 });
    expect(full.liquidatedNotionalUsd).toBeCloseTo(1000 * 93, 6);
    expect(full.liquidations).toBe(1);
    const partial = simulateLiquidations({ ...onePosition, bars, schedule, fullLiquidationBelowEquityRatio: 0.03 });
    expect(partial.liquidations).toBeGreaterThan(1); // several partial closes at the same reading
    expect(partial.liquidatedNotionalUsd).toBeLessThan(1000 * 93);
    const tiny = simulateLiquidations({ ...onePosition, bars, schedule, minRemainderNotionalUsd: 80_000 });
    expect(tiny.liquidatedNotionalUsd).toBeCloseTo(1000 * 93, 6);
  });

  it('a penalty below MMR never creates bad debt on a gapless path; above MMR it would (shortfall)', () => {
    const bars = pathBars(declining(700, 0.0005));
    const input = fc.record({
      mmr: between(0.02, 0.2), penShare: between(0, 0.9),
      cf: between(0.1, 1), seed: fc.integer(), fullBelow: fc.option(between(0, 0.02), { nil: undefined }),
    });
    fc.assert(fc.property(input, (x) => {
      const schedule = [params(x.mmr, { initialMarginRatio: Math.min(1, 2 * x.mmr), liquidationPenalty: x.penShare * x.mmr, closeFactor: x.cf })];
      const r = simulateLiquidations({
        ...quiet, bars, schedule, seed: x.seed, population: { openPerDay: 50, longShare: 0.8, meanLifetimeHours: 200 }, fullLiquidationBelowEquityRatio: x.fullBelow,
        initialPositions: [{ side: 1, notionalUsd: 50_000, leverage: 50 }], // at max leverage, liquidated before the path's −30%
      });
      expect(r.liquidations).toBeGreaterThan(0);
      expect(r.badDebtUsd).toBe(0);
      expect(r.penaltyShortfallUsd).toBeLessThanOrEqual(1e-9 * r.penaltiesUsd);
    }), { numRuns: 25 });
    const overSchedule = [params(0.02, { initialMarginRatio: 0.04, liquidationPenalty: 0.05, closeFactor: 1 })];
    const over = simulateLiquidations({ ...quiet, bars, schedule: overSchedule, seed: 1, population: { openPerDay: 50 } });
    expect(over.penaltyShortfallUsd).toBeGreaterThan(0);
  });

  it('slippage worsens execution: same liquidations, more loss, counted in pnl', () => {
    const bars = pathBars([...new Array(24).fill(100), 90, ...new Array(24).fill(90)], 1e6);
    const opts = { ...quiet, bars, schedule: [params(0.02)], population: {}, seed: 5 };
    const a = simulateLiquidations(opts);
    const b = simulateLiquidations({ ...opts, slippage: { impactCoef: 1 } });
    expect(a.slippageUsd).toBe(0);
    expect(b.slippageUsd).toBeGreaterThan(0);
    expect(b.ledger.pnlUsd).toBeLessThan(a.ledger.pnlUsd);
    expect(b.badDebtUsd).toBeGreaterThan(a.badDebtUsd);
  });

  it('cascade feedback liquidates more notional than the same crash without it', () => {
    const bars = pathBars([...new Array(48).fill(100), 92, ...new Array(24).fill(92)], 5e6);
    const opts = { ...quiet, bars, schedule: [params(0.02)], population: {}, seed: 11 };
    const off = simulateLiquidations(opts);
    const on = simulateLiquidations({ ...opts, cascade: { impactCoef: 1, maxRounds: 5 } });
    expect(off.liquidations).toBeGreaterThan(0);
    expect(on.liquidatedNotionalUsd).toBeGreaterThan(1.2 * off.liquidatedNotionalUsd);
    expect(on.perBar.liquidatedNotionalUsd[49]).toBe(0); // temporary impact: the next bar starts from history
  });
});

describe('simulateLiquidations: parameter changes', () => {
  const bars = walkBars(21, 24 * 8, 0.003);
  const hike = [params(0.01, { initialMarginRatio: 0.02 }), params(0.1, { effectiveMs: T0 + 100 * HOUR, announcedMs: T0 + 76 * HOUR, initialMarginRatio: 0.15 })];

  it('a sudden MMR increase liquidates healthy positions without grandfathering and none with it', () => {
    const opts = { ...quiet, bars, schedule: hike, population: { meanLifetimeHours: 48 }, seed: 4 };
    const flat = simulateLiquidations({ ...opts, schedule: [hike[0]!] });
    const hard = simulateLiquidations(opts);
    const ramp = simulateLiquidations({ ...opts, grandfather: true });
    expect(hard.healthyLiquidatedByChange).toBeGreaterThan(50);
    expect(hard.perBar.liquidatedNotionalUsd[100]!).toBeGreaterThan(10 * flat.perBar.liquidatedNotionalUsd[100]!);
    expect(ramp.healthyLiquidatedByChange).toBe(0);
    expect(ramp.perBar.liquidatedNotionalUsd[100]!).toBeLessThan(hard.perBar.liquidatedNotionalUsd[100]! / 10);
    expect(flat.healthyLiquidatedByChange).toBe(0);
  });

  it('grandfathered positions ratchet up to the new MMR: a later adverse move still liquidates them', () => {
    const path = pathBars([...new Array(100).fill(100), ...new Array(24).fill(100), 80, ...new Array(24).fill(80)]);
    const schedule = [params(0.01, { initialMarginRatio: 0.02 }), params(0.1, { effectiveMs: T0 + 100 * HOUR, initialMarginRatio: 0.15 })];
    const r = simulateLiquidations({ ...quiet, grandfather: true, bars: path, schedule, population: { longShare: 1 }, seed: 2 });
    expect(r.healthyLiquidatedByChange).toBe(0);
    expect(r.perBar.liquidatedNotionalUsd.slice(100, 124).every((v) => v === 0)).toBe(true);
    expect(r.perBar.liquidatedNotionalUsd[124]!).toBeGreaterThan(0);
  });

  it('with grandfathering no change ever liquidates a healthy position (random schedules and paths)', () => {
    const input = fc.record({ barSeed: fc.integer(), sigma: between(0.001, 0.03), seed: fc.integer(), population: populationArb })
      .chain((x) => scheduleArb(120).map((schedule) => ({ ...x, schedule })));
    fc.assert(fc.property(input, (x) => {
      const r = simulateLiquidations({
        ...quiet, grandfather: true, bars: walkBars(x.barSeed, 120, x.sigma), schedule: x.schedule, population: x.population, seed: x.seed,
        cascade: { impactCoef: 0.5, maxRounds: 2 },
      });
      expect(r.healthyLiquidatedByChange).toBe(0);
    }), { numRuns: 100 });
  });
});

describe('simulateAcrossSeeds', () => {
  it('reports p95 / mean bad debt (VaR) and p95 liquidated notional (LaR) over the runs', () => {
    const bars = pathBars([...new Array(24).fill(100), 85, ...new Array(24).fill(85)], 1e7);
    const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    const s = simulateAcrossSeeds({ ...quiet, bars, schedule: [params(0.02)], population: {}, slippage: { impactCoef: 0.5 } }, seeds);
    expect(s.runs).toHaveLength(11);
    const debts = s.runs.map((r) => r.badDebtUsd).sort((a, b) => a - b);
    expect(s.badDebtP95Usd).toBeCloseTo(debts[9]! + 0.5 * (debts[10]! - debts[9]!), 6); // type 7: h = 10 × 0.95 = 9.5
    expect(s.badDebtMeanUsd).toBeCloseTo(debts.reduce((a, b) => a + b) / 11, 6);
    expect(s.liquidationsMean).toBeGreaterThan(0);
    expect(s.runs[3]).toEqual(simulateLiquidations({ ...quiet, bars, schedule: [params(0.02)], population: {}, slippage: { impactCoef: 0.5 }, seed: 4 }));
  });
});

describe('simulateLiquidations: validation', () => {
  const bars = pathBars([100, 101, 102]);
  const base: SimOptions = { ...quiet, bars, schedule: [params(0.02)], population: {}, seed: 1 };
  it.each([
    ['config', { schedule: [params(0.02, { effectiveMs: T0 + HOUR })] }],
    ['config', { schedule: [params(0.05, { initialMarginRatio: 0.01 })] }],
    ['config', { schedule: [params(0.02), params(0.03)] }],
    ['config', { population: { leverage: { min: 10, max: 5 } } }],
    ['config', { cascade: { impactCoef: -1, maxRounds: 1 } }],
    ['dataQuality', { bars: { ...bars, timeMs: Float64Array.from([T0, T0, T0 + HOUR]) } }],
    ['dataQuality', { bars: { ...bars, low: Float64Array.from([100, 0, 100]) } }],
  ] as const)('rejects bad input with a %s error', (kind, over) => {
    expect(() => simulateLiquidations({ ...base, ...over } as SimOptions)).toThrow(expect.objectContaining({ kind }));
    try { simulateLiquidations({ ...base, ...over } as SimOptions); } catch (e) { expect(isAppError(e, kind)).toBe(true); }
  });
});

describe('simulateLiquidations: real data (BTCUSDT, August 2024 unwind)', () => {
  it('concentrates bad debt on 2024-08-05 and conserves value', () => {
    const text = readFileSync(`${SHARED_DATA}market/binance-spot__finom-static-klines/BTCUSDT/1h/BTCUSDT-1h-2024.csv`, 'utf8');
    const from = Date.UTC(2024, 6, 29);
    const to = Date.UTC(2024, 7, 12);
    const rows = text.trim().split('\n').slice(1).map((l) => l.split(',').map(Number)).filter((r) => r[0]! >= from - 48 * HOUR && r[0]! < to + 48 * HOUR);
    const col = (j: number): Float64Array => Float64Array.from(rows, (r) => r[j]!);
    const bars: SimBars = { timeMs: col(0), open: col(1), high: col(2), low: col(3), close: col(4), quoteVolumeUsd: col(6) };
    const r = simulateLiquidations({
      bars, fromMs: from, toMs: to, schedule: [params(0.02, { effectiveMs: 0, announcedMs: 0, initialMarginRatio: 0.04, liquidationPenalty: 0.01 })],
      population: { longShare: 1 }, seed: 1, grandfather: false, slippage: { impactCoef: 0.5 }, cascade: { impactCoef: 1, maxRounds: 3 },
    });
    expect(r.perBar.timeMs.length).toBe(14 * 24);
    expect(r.perBar.timeMs[0]).toBe(from);
    const byDay = new Map<string, number>();
    r.perBar.timeMs.forEach((t, i) => { const d = new Date(t).toISOString().slice(0, 10); byDay.set(d, (byDay.get(d) ?? 0) + r.perBar.badDebtUsd[i]!); });
    const [worstDay, worst] = [...byDay].reduce((a, b) => (b[1] > a[1] ? b : a));
    expect(worstDay).toBe('2024-08-05');
    expect(worst).toBeGreaterThan(0.4 * r.badDebtUsd);
    const { gap, scale } = ledgerGap(r);
    expect(Math.abs(gap)).toBeLessThanOrEqual(1e-9 * scale);
  });
});
