import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/calibration/backtest.ts';
import { recommend } from '../../src/calibration/recommend.ts';
import { fixedClock } from '../../src/core/time.ts';
import { importCsv } from '../../src/ingest/csv.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { MarketData } from '../../src/store/market-data.ts';
import { spotFiles } from '../features/real-data.ts';
import { tempDir } from '../helpers/tmp.ts';

// A small real slice: BTC and ETH 1h, 2023 → Feb 2024; a tiny neural model keeps the walk-forward fast.
const SMALL_ML = { ml: { kind: 'ml', epochs: 3, ensemble: 1, maxTrainSamples: 6000, hidden: [16] } };
const tmp = tempDir();
let store: Store;
let md: MarketData;

beforeAll(async () => {
  store = openStore(tmp.path('bt.db'));
  md = new MarketData(store);
  for (const symbol of ['BTCUSDT', 'ETHUSDT']) await importCsv({ md, venue: 'binance-spot', symbol, interval: '1h', files: spotFiles(symbol, [2023, 2024]) });
});
afterAll(() => {
  store.close();
  tmp.cleanup();
});

describe('runBacktest on real bars', () => {
  it('reports coverage, procyclicality, capital and the stress replay per policy and symbol, walk-forward', async () => {
    const r = await runBacktest({
      md, symbols: ['BTCUSDT', 'ETHUSDT'], interval: '1h', fromMs: Date.parse('2024-01-01'), toMs: Date.parse('2024-03-01'),
      policies: ['static', 'ewma', 'har', 'ml-anticipatory'], warmupDays: 60, retrainEveryDays: 60, modelSpecs: SMALL_ML, stress: { seeds: 2 },
    });
    expect(r.confidence).toBe(0.99);
    expect(r.horizon).toBe('4h');
    expect(r.episodes.length).toBe(1); // no listed stress date in the period: the largest move
    for (const policy of ['static', 'ewma', 'har', 'ml-anticipatory']) {
      for (const symbol of ['BTCUSDT', 'ETHUSDT', 'pooled']) {
        const row = r.policies.find((p) => p.policy === policy && p.symbol === symbol)!;
        expect(row, `${policy} ${symbol}`).toBeDefined();
        // 60 days of non-overlapping 4h horizons per symbol.
        expect(row.observations).toBe(symbol === 'pooled' ? 2 * 360 : 360);
        expect(row.breachRate).toBeGreaterThanOrEqual(0);
        expect(row.breachRate).toBeLessThan(0.1);
        expect(row.kupiecP).toBeGreaterThanOrEqual(0);
        expect(['green', 'yellow', 'red']).toContain(row.baselZone);
        expect(row.meanMarginRatio).toBeGreaterThan(0.005);
        expect(row.meanMarginRatio).toBeLessThan(0.5);
        expect(row.liquidations).toBeGreaterThanOrEqual(0);
      }
    }
    const get = (policy: string, symbol: string) => r.policies.find((p) => p.policy === policy && p.symbol === symbol)!;
    expect(get('static', 'BTCUSDT').maxIncrease30d).toBe(0);
    expect(get('static', 'BTCUSDT').peakToTrough).toBe(1);
    expect(get('ewma', 'BTCUSDT').changes).toBeGreaterThan(get('ml-anticipatory', 'BTCUSDT').changes);
    // The anticipatory policy's increases never liquidate a healthy position; instant ones can.
    expect(get('ml-anticipatory', 'pooled').healthyLiquidatedByChange).toBe(0);
    expect(get('ml-anticipatory', 'BTCUSDT').bindings?.steps).toBeGreaterThan(0);
    expect(r.folds).toBeGreaterThan(0);
    // Circuit-breaker states over the test period: shares of NORMAL … HALT sum to 1.
    const share = get('ml-anticipatory', 'pooled').breakers!.share;
    expect(Object.values(share).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(share.NORMAL).toBeGreaterThan(0.3);
  }, 120_000);

  it('recommends parameters with rationale and a circuit-breaker state, and flags stale data', async () => {
    const { report } = await recommend({ md, symbols: ['BTCUSDT', 'ETHUSDT'], policy: 'ml-anticipatory', calibrationDays: 60, modelSpecs: SMALL_ML, includeHistory: true, clock: fixedClock(Date.parse('2025-01-05')) });
    expect(report.recommendations).toHaveLength(2);
    for (const rec of report.recommendations) {
      const p = rec.params;
      expect(p.maintenanceMarginRatio).toBeGreaterThan(0);
      expect(p.initialMarginRatio).toBeGreaterThan(p.maintenanceMarginRatio);
      expect(p.liquidationPenalty).toBeLessThan(p.maintenanceMarginRatio);
      expect(p.leverageTiers.length).toBe(5);
      expect(rec.rationale.map((x) => x.parameter)).toContain('maintenanceMarginRatio');
      expect(rec.asOf).toBe('2025-01-01T00:00:00.000Z');
      // Bars end on 2024-12-31 and the clock says 2025-01-05: the stale-data driver holds the market above NORMAL.
      expect(rec.circuitBreaker.state).not.toBe('NORMAL');
      expect(rec.circuitBreaker.reasons.some((x) => x.driver === 'dataAgeMs')).toBe(true);
      expect(rec.circuitBreaker.blocked.liquidations).toBe(false);
      expect(rec.forecast.sigmaH).toBeGreaterThan(0);
      expect(rec.validation.observations).toBeGreaterThan(300);
      // History for the report's charts: 60 days of hourly decisions (both ends included), ending with the margin in force.
      const hist = rec.history!;
      expect(hist.timeMs.length).toBe(60 * 24 + 1);
      expect(hist.breaker.length).toBe(hist.timeMs.length);
      expect(hist.timeMs.at(-1)).toBe(Date.parse(rec.asOf));
      expect(hist.margin.at(-1)).toBeCloseTo(rec.currentMaintenanceMarginRatio, 12);
      expect(hist.breaker.at(-1)).toBe(rec.circuitBreaker.state);
    }
  }, 120_000);
});
