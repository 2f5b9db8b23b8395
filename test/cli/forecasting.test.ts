import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCsv } from '../../src/ingest/csv.ts';
import { openStore } from '../../src/store/db.ts';
import { MarketData } from '../../src/store/market-data.ts';
import { runCli } from '../helpers/cli.ts';
import { SHARED_DATA } from '../helpers/http-server.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = tempDir();
const db = tmp.path('f.db');
const models = tmp.path('models');
const file = (sym: string): string => `${SHARED_DATA}market/binance-spot__finom-static-klines/${sym}/1h/${sym}-1h-2023.csv`;

beforeAll(async () => {
  const store = openStore(db);
  const md = new MarketData(store);
  for (const symbol of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT']) await importCsv({ md, venue: 'binance-spot', symbol, interval: '1h', files: [file(symbol)] });
  store.close();
});
afterAll(() => tmp.cleanup());

describe('liqcal evaluate / train / forecast on real bars', () => {
  it('evaluate prints the documented JSON: per-model accuracy, spike skill and DM against HAR', async () => {
    const r = await runCli(['evaluate', '--db', db, '--symbols', 'BTCUSDT,ETHUSDT', '--interval', '1h', '--horizon', '24h', '--test-from', '2023-11-01', '--test-to', '2023-12-01', '--models', 'ewma,har,ml', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { horizon: string; backend: string; results: { model: string; symbol: string; qlike: number; mseLog: number; n: number }[]; spike: { model: string; symbol: string; auc: number; brier: number; brierSkill: number }[]; dm: { mlVsHar: { stat: number; p: number } } };
    expect(out.horizon).toBe('24h');
    expect(['wasm', 'tensorflow', 'cpu']).toContain(out.backend);
    for (const model of ['ewma', 'har', 'ml']) {
      for (const symbol of ['BTCUSDT', 'ETHUSDT', 'pooled']) {
        const row = out.results.find((x) => x.model === model && x.symbol === symbol)!;
        expect(row.qlike).toBeGreaterThan(0);
        expect(row.mseLog).toBeGreaterThan(0);
        // 30 days of hourly origins per symbol; December supplies the forward windows of the last ones.
        expect(row.n).toBe(symbol === 'pooled' ? 2 * 720 : 720);
      }
    }
    const spike = out.spike.find((x) => x.model === 'ml' && x.symbol === 'pooled')!;
    expect(spike.auc).toBeGreaterThan(0);
    expect(spike.brier).toBeGreaterThan(0);
    expect(Number.isFinite(spike.brierSkill)).toBe(true);
    expect(out.dm.mlVsHar.p).toBeGreaterThanOrEqual(0);
    expect(out.dm.mlVsHar.p).toBeLessThanOrEqual(1);
  }, 180_000);

  it('train saves and promotes a model; forecast uses it, even for a symbol it was not trained on', async () => {
    const t = await runCli(['train', '--db', db, '--symbols', 'BTCUSDT,ETHUSDT', '--interval', '1h', '--horizon', '24h', '--train-to', '2023-12-01', '--models-dir', models, '--json']);
    expect(t.code, t.stderr).toBe(0);
    const trained = JSON.parse(t.stdout) as { name: string; version: string; promoted: boolean; card: { backend: string; features: string[]; featureHash: string; symbols: string[] } };
    expect(trained).toMatchObject({ name: 'vol-24h', version: '000001', promoted: true });
    expect(trained.card.symbols).toEqual(['BTCUSDT', 'ETHUSDT']);
    const f = await runCli(['forecast', '--db', db, '--symbols', 'BTCUSDT,SOLUSDT', '--horizon', '24h', '--models-dir', models, '--json']);
    expect(f.code, f.stderr).toBe(0);
    const fc = JSON.parse(f.stdout) as { model: { version: string }; forecasts: { symbol: string; origin: string; variance: number; volQuantiles: Record<string, number>; spikeProb: number }[] };
    expect(fc.model.version).toBe('000001');
    expect(fc.forecasts.map((x) => x.symbol)).toEqual(['BTCUSDT', 'SOLUSDT']);
    for (const x of fc.forecasts) {
      expect(x.origin).toBe('2023-12-31T23:00:00.000Z');
      expect(x.variance).toBeGreaterThan(0);
      expect(x.volQuantiles['0.99']!).toBeGreaterThan(x.volQuantiles['0.5']!);
      expect(x.spikeProb > 0 && x.spikeProb < 1).toBe(true);
    }
  }, 180_000);

  it('forecast without a trained model says what to do', async () => {
    const f = await runCli(['forecast', '--db', db, '--symbols', 'BTCUSDT', '--horizon', '4h', '--models-dir', models]);
    expect(f.code).not.toBe(0);
    expect(f.stderr).toMatch(/vol-4h/);
  });
});
