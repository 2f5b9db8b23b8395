/**
 * A tiny fast pipeline for runner, scheduler and CLI tests: the last 150 days of Binance spot 1h bars of BTCUSDT (and
 * ETHUSDT) from ../shared/data, the HAR policy, publish with the minimum delay between updates lifted (so runs a few
 * seconds apart all publish), replayed as of 2025-11-01. One run takes a second or two, not the neural model's minutes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedStoreRails } from '../helpers/store-rails.ts';

const SHARED = new URL('../../../shared/data/market/binance-spot__finom-static-klines/', import.meta.url).pathname;

/** Bars kept per market (150 days). */
export const SLICE_ROWS = 3600;

/** Writes `<dir>/<SYMBOL>.csv`: the header and the last `rows` bars of the symbol's 2025 file. */
export function writeSlice(dir: string, symbol: string, rows = SLICE_ROWS): string {
  const lines = readFileSync(join(SHARED, symbol, '1h', `${symbol}-1h-2025.csv`), 'utf8').trimEnd().split('\n');
  const file = join(dir, `${symbol}.csv`);
  writeFileSync(file, `${[lines[0], ...lines.slice(-rows)].join('\n')}\n`);
  return file;
}

/** Open time (epoch ms) of the last bar in a slice written by {@link writeSlice}. */
export function lastBarMs(file: string): number {
  const last = readFileSync(file, 'utf8').trimEnd().split('\n').at(-1)!;
  return Number(last.split(',')[0]);
}

/** Guard rails with the minimum delay between published updates lifted, so runs seconds apart all publish. */
export const NO_DELAY_RAILS = { types: Object.fromEntries(['maintenanceMarginRatio', 'initialMarginRatio', 'liquidationPenalty', 'oracleLatencyBufferBps', 'closeFactor', 'maxLeverage', 'leverageTiers'].map((t) => [t, { minDelayMs: 0 }])) };

/**
 * Writes `<dir>/<name>.json`, a CSV pipeline over the slices (written too) with job `tick` every 2 seconds; `patch`
 * replaces top-level fields. Returns the file path.
 */
export function writeTickPipeline(dir: string, patch: Record<string, unknown> = {}, opts: { name?: string; markets?: readonly string[] } = {}): string {
  const markets = opts.markets ?? ['BTCUSDT'];
  for (const m of markets) writeSlice(dir, m);
  const name = opts.name ?? 'tick';
  const doc = {
    name,
    markets,
    asOf: '2025-11-01T00:00:00Z',
    venue: { kind: 'csv', venue: 'binance-spot', files: Object.fromEntries(markets.map((m) => [m, [`${m}.csv`]])) },
    store: { db: `${name}.db` },
    policy: { name: 'har', calibrationDays: 60, retrainEveryDays: 30 },
    backtest: { days: 30, warmupDays: 60, retrainEveryDays: 30, policies: ['static', 'har'], stressSeeds: 1 },
    params: { approval: 'auto', by: 'test' },
    report: { outDir: 'reports' },
    retries: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
    runtime: { graceMs: 5_000, leaseMs: 5_000 },
    jobs: [{ name: 'tick', cron: '*/2 * * * * *', stages: ['ingest', 'recommend', 'publish'] }],
    ...patch,
  };
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc, null, 2));
  // Looser rails than the defaults belong to the store (a pipeline's params.rails may only tighten them).
  const db = (doc.store as { db?: string }).db;
  if (db) seedStoreRails(join(dir, db), NO_DELAY_RAILS);
  return file;
}
