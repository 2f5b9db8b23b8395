import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCsv } from '../../src/ingest/csv.ts';
import { openStore } from '../../src/store/db.ts';
import { MarketData } from '../../src/store/market-data.ts';
import { spotFiles } from '../features/real-data.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = tempDir();
const db = tmp.path('c.db');

beforeAll(async () => {
  const store = openStore(db);
  const md = new MarketData(store);
  for (const symbol of ['BTCUSDT', 'ETHUSDT']) await importCsv({ md, venue: 'binance-spot', symbol, interval: '1h', files: spotFiles(symbol, [2023, 2024]) });
  store.close();
});
afterAll(() => tmp.cleanup());

const KEYS = ['policy', 'symbol', 'observations', 'breaches', 'breachRate', 'kupiecP', 'christoffersenP', 'baselZone', 'meanMarginRatio', 'maxIncrease30d', 'peakToTrough', 'badDebtUsd', 'liquidations', 'healthyLiquidatedByChange'];

describe('liqcal backtest / recommend', () => {
  it('backtest --json prints one entry per policy and symbol plus pooled, with the documented keys', async () => {
    const r = await runCli(['backtest', '--db', db, '--symbols', 'BTCUSDT,ETHUSDT', '--interval', '1h', '--from', '2024-01-01', '--to', '2024-02-01', '--confidence', '0.99', '--horizon', '4h', '--policies', 'static,ewma,har', '--warmup-days', '60', '--sim-seeds', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { confidence: number; horizon: string; policies: Record<string, unknown>[] };
    expect(out.confidence).toBe(0.99);
    expect(out.horizon).toBe('4h');
    expect(out.policies).toHaveLength(3 * 3);
    for (const p of out.policies) {
      for (const k of KEYS) expect(p, k).toHaveProperty(k);
      expect(['green', 'yellow', 'red']).toContain(p.baselZone);
    }
    expect(out.policies.filter((p) => p.symbol === 'pooled').map((p) => p.policy)).toEqual(['static', 'ewma', 'har']);
  }, 120_000);

  it('recommend --json prints parameters, rationale and breaker state per market', async () => {
    const r = await runCli(['recommend', '--db', db, '--symbols', 'BTCUSDT,ETHUSDT', '--policy', 'har', '--calibration-days', '60', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { policy: string; recommendations: { market: string; params: Record<string, unknown>; rationale: unknown[]; circuitBreaker: { state: string } }[] };
    expect(out.policy).toBe('har');
    expect(out.recommendations.map((x) => x.market)).toEqual(['BTCUSDT', 'ETHUSDT']);
    for (const rec of out.recommendations) {
      for (const k of ['maintenanceMarginRatio', 'initialMarginRatio', 'liquidationPenalty', 'oracleLatencyBufferBps', 'closeFactor', 'maxLeverage', 'leverageTiers']) expect(rec.params).toHaveProperty(k);
      expect(rec.rationale.length).toBeGreaterThan(3);
      // The bars end in 2024: stale for today's clock.
      expect(rec.circuitBreaker.state).not.toBe('NORMAL');
    }
  }, 120_000);

  it('refuses an unknown policy and an empty period with a config error that says what to do', async () => {
    const a = await runCli(['backtest', '--db', db, '--symbols', 'BTCUSDT', '--from', '2024-01-01', '--to', '2024-02-01', '--policies', 'static,magic']);
    expect(a.code).toBe(3);
    expect(a.stderr).toMatch(/Unknown policy "magic".*static, ewma/);
    const b = await runCli(['backtest', '--db', db, '--symbols', 'BTCUSDT', '--from', '2024-02-01', '--to', '2024-01-01', '--policies', 'static']);
    expect(b.code).toBe(3);
    expect(b.stderr).toMatch(/must be before/);
  }, 60_000);
});
