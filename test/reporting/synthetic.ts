/** Hand-made, deterministic report inputs for the pure reporting tests (no data, no store). */
import type { BacktestReport, BacktestRow } from '../../src/calibration/backtest.ts';
import type { MarketRecommendation, RecommendReport } from '../../src/calibration/recommend.ts';
import type { ReportInput } from '../../src/reporting/build.ts';

/** One hour, ms. */
export const HOUR = 3_600_000;
/** Start of the synthetic histories, epoch ms. */
export const T0 = Date.parse('2025-01-01T00:00:00Z');

/** A hand-made recommendation with an hourly history of `n` decisions (deterministic waves, every 97th a breach; spike probabilities with `spike`). */
export function rec(market: string, n: number, breaker: MarketRecommendation['circuitBreaker']['state'] = 'NORMAL', spike = false): MarketRecommendation {
  const t = Array.from({ length: n }, (_, i) => T0 + i * HOUR);
  return {
    market, asOf: '2025-02-01T00:00:00.000Z', policy: 'har',
    params: { maintenanceMarginRatio: 0.05, initialMarginRatio: 0.075, liquidationPenalty: 0.003, oracleLatencyBufferBps: 12, closeFactor: 1, maxLeverage: 13.33, leverageTiers: [{ maxNotionalUsd: null, maintenanceMarginRatio: 0.05, initialMarginRatio: 0.075, maxLeverage: 13.33 }] },
    rationale: [{ parameter: 'maintenanceMarginRatio', value: 0.05, drivers: { sigmaH: 0.01, scale: Number.NaN }, clippedBy: ['bounds.minMaintenance'], text: 'Because | pipes are escaped.' }],
    currentMaintenanceMarginRatio: 0.05, change: null,
    circuitBreaker: { state: breaker, reasons: breaker === 'NORMAL' ? [] : [{ driver: 'spikeProb', value: 0.7, threshold: 0.5, state: breaker, known: true }], blocked: { openRisk: breaker !== 'NORMAL' && breaker !== 'CAUTION', increaseRisk: false, reduceRisk: false, liquidations: false, withdrawals: false } },
    forecast: { model: 'har', sigmaH: 0.01, spikeProb: null, horizon: '4h' },
    validation: { observations: 100, breaches: 1, breachRate: 0.01, kupiecP: 0.99 },
    history: {
      timeMs: t, sigmaH: t.map((_, i) => 0.01 + 0.005 * Math.sin(i / 50)), realisedSigmaH: t.map((_, i) => (i === n - 1 ? Number.NaN : 0.01 + 0.006 * Math.sin(i / 7))),
      margin: t.map((_, i) => 0.05 + 0.01 * Math.sin(i / 300)), breach: t.map((_, i) => i % 97 === 0), spikeProb: t.map((_, i) => (spike ? 0.5 + 0.4 * Math.sin(i / 40) : Number.NaN)),
      breaker: t.map((_, i) => (Math.floor(i / 500) % 2 ? 'CAUTION' : 'NORMAL')),
    },
  };
}

/** A recommend report of `recs` (policy har, 0.99, 4h). */
export function report(recs: MarketRecommendation[]): RecommendReport {
  return { policy: 'har', confidence: 0.99, horizon: '4h', interval: '1h', venue: 'binance-spot', recommendations: recs, elapsedMs: 1 };
}

/** A minimal run. */
export const RUN: ReportInput['run'] = { id: 'r1', pipeline: null, status: 'succeeded', startedAtMs: T0, endedAtMs: null, configHash: null, gitSha: null, seed: null, dataWatermarkMs: null };

/** A backtest row with the numbers the trade-offs read. */
export function row(policy: string, symbol: string, meanMarginRatio: number, breachRate: number, badDebtUsd: number, maxIncrease30d: number): BacktestRow {
  return {
    policy, symbol, observations: 1000, breaches: Math.round(breachRate * 1000), breachRate, kupiecP: 0.5, christoffersenP: 0.4, christoffersenIndP: 0.4, baselZone: 'green', esExcess: -0.01,
    meanMarginRatio, peakToTrough: 1 + maxIncrease30d, maxIncrease1d: 0, maxIncrease7d: 0, maxIncrease30d, changes: 10,
    badDebtUsd, badDebtMeanUsd: badDebtUsd / 2, liquidations: 10, liquidatedNotionalP95Usd: 1e6, healthyLiquidatedByChange: 0, boundsClipped: 0,
  };
}

/** A backtest report of `rows` with one stress episode. */
export function backtest(rows: BacktestRow[]): BacktestReport {
  return {
    confidence: 0.99, horizon: '4h', horizonBars: 4, interval: '1h', venue: 'binance-spot', from: '2024-01-01T00:00:00.000Z', to: '2024-07-01T00:00:00.000Z', symbols: ['BTCUSDT'],
    retrainEveryDays: 90, warmupDays: 180, folds: 2, seed: 42, policies: rows, episodes: [{ name: 'crash', from: '2024-03-01T00:00:00.000Z', to: '2024-03-10T00:00:00.000Z' }],
    timing: { forecastMs: 0, policiesMs: 0, stressMs: 0 }, elapsedMs: 0,
  };
}

