/**
 * A real, small report input for the reporting tests: BTCUSDT and ETHUSDT 1h bars of 2023–2024 from shared/data
 * imported into a temporary store; a first "run" publishes the EWMA policy's parameters (the live values before the
 * report's run), then the report's run recommends the HAR policy over 60 days, proposes, approves within the rails
 * and publishes two hours later (so the guard rails hold back or refuse some changes), and backtests static, EWMA
 * and HAR over the last two months with two stress seeds.
 */
import { runBacktest } from '../../src/calibration/backtest.ts';
import { recommendationDrafts } from '../../src/calibration/drafts.ts';
import { recommend } from '../../src/calibration/recommend.ts';
import { fixedClock } from '../../src/core/time.ts';
import { importCsv } from '../../src/ingest/csv.ts';
import type { ParamValue, UpdateType } from '../../src/params/record.ts';
import { parseRailsConfig } from '../../src/params/rails.ts';
import { SqliteParamBackend } from '../../src/params/sqlite-backend.ts';
import { ParameterStore, proposeApprovePublish } from '../../src/params/store.ts';
import type { ReportInput } from '../../src/reporting/index.ts';
import type { Store } from '../../src/store/db.ts';
import { MarketData } from '../../src/store/market-data.ts';
import { spotFiles } from '../features/real-data.ts';

/** The markets of the fixture. */
export const MARKETS = ['BTCUSDT', 'ETHUSDT'] as const;

/** Imports the bars into `store` and builds the report input of a HAR run after an EWMA run (see the module doc). */
export async function realReportInput(store: Store): Promise<ReportInput> {
  const md = new MarketData(store);
  for (const symbol of MARKETS) await importCsv({ md, venue: 'binance-spot', symbol, interval: '1h', files: spotFiles(symbol, [2023, 2024]) });
  const t0 = Date.parse('2025-01-01T00:30:00Z');
  const clock = fixedClock(t0);
  const base = { md, symbols: [...MARKETS], calibrationDays: 60, includeHistory: true, clock } as const;
  const backend = new SqliteParamBackend(store);
  const first = (await recommend({ ...base, policy: 'ewma' })).report;
  await proposeApprovePublish(new ParameterStore(backend, { clock }), first.recommendations.flatMap((r) => recommendationDrafts(r, 'run:previous')), { by: 'test', auto: true });
  const previous: Record<string, Partial<Record<UpdateType, ParamValue>>> = {};
  for (const m of MARKETS) previous[m] = Object.fromEntries((await backend.headRecords(m)).map((r) => [r.updateType, r.newValue]));
  const startedAtMs = t0 + 2 * 3_600_000;
  const rec = (await recommend({ ...base, policy: 'har' })).report;
  // Tighter rails than the defaults, so that the report has something refused (maintenance ±0.25 pp) and held
  // (leverage waits for a person).
  const rails = parseRailsConfig({ types: { maintenanceMarginRatio: { maxChange: { mode: 'absolute', limit: 0.0025 } }, maxLeverage: { autoApprove: false } } });
  const published = await proposeApprovePublish(new ParameterStore(backend, { clock: fixedClock(startedAtMs), rails }), rec.recommendations.flatMap((r) => recommendationDrafts(r, 'run:test')), { by: 'test', auto: true });
  const backtest = await runBacktest({
    md, symbols: [...MARKETS], interval: '1h', fromMs: Date.parse('2024-11-01'), toMs: Date.parse('2025-01-01'),
    policies: ['static', 'ewma', 'har'], warmupDays: 60, retrainEveryDays: 60, stress: { seeds: 2 },
  });
  return {
    run: { id: '20250101T023000-test', pipeline: 'csv', status: 'succeeded', startedAtMs, endedAtMs: startedAtMs + 60_000, configHash: 'sha256:0123abcd', gitSha: 'abc1234', seed: 42, dataWatermarkMs: Date.parse('2025-01-01T00:00:00Z') },
    recommend: rec, previous, published, backtest,
  };
}
