/**
 * The ingest stage: brings the pipeline's markets up to date in the store from its venue — the seeded simulator
 * served on loopback through the Binance USD-M wire format (stored as venue "sim"), a live venue's public API, or
 * CSV files. Live and simulated ingests resume after the stored data; CSV files are re-imported (idempotent upserts).
 */
import { floorToInterval, type EpochMs } from '../core/time.ts';
import type { BackfillJob } from '../ingest/backfill.ts';
import { importCsv } from '../ingest/csv.ts';
import { ingestMany, type IngestOutcome } from '../ingest/ingest-many.ts';
import { createSource } from '../ingest/source.ts';
import type { DataKind } from '../ingest/types.ts';
import { dataVenue, type StageContext } from './context.ts';
import { expandPatterns } from './glob.ts';

const DAY_MS = 86_400_000;
/** Binance serves the last 30 days of open interest; ask for a day less. */
const OPEN_INTEREST_DAYS = 29;

/** What the ingest stage stored. Times are epoch ms (UTC). */
export interface IngestOutput {
  /** Venue name the rows are stored under. */
  readonly venue: string;
  readonly rows: number;
  readonly series: readonly { readonly symbol: string; readonly kind: DataKind; readonly rows: number; readonly lastMs: number | null }[];
  readonly elapsedMs: number;
}

/** The first failure of a multi-series ingest becomes the stage's error (its kind decides whether the stage is retried). */
function outcomeOrThrow(venue: string, outcome: IngestOutcome): IngestOutput {
  if (outcome.failures.length > 0) throw outcome.failures[0]!.error;
  return {
    venue, rows: outcome.rows, elapsedMs: Math.round(outcome.elapsedMs),
    series: outcome.results.map((r) => ({ symbol: r.symbol, kind: r.kind, rows: r.rows, lastMs: r.lastMs ?? null })),
  };
}

/** Runs the ingest stage for the pipeline's venue. */
export async function ingestStage(ctx: StageContext): Promise<IngestOutput> {
  const { config } = ctx.pipeline;
  const v = config.venue;
  const interval = config.interval;
  const nowMs = ctx.dataClock.now();
  const toMs = floorToInterval(nowMs, interval);
  const venue = dataVenue(ctx.pipeline);
  if (v.kind === 'csv') {
    const t0 = performance.now();
    const series: IngestOutput['series'][number][] = [];
    let rows = 0;
    for (const symbol of config.markets) {
      const files = expandPatterns(v.files[symbol]!, ctx.pipeline.dir, `${ctx.pipeline.file}: venue.files.${symbol}`);
      const r = await importCsv({ md: ctx.md, venue: v.venue, symbol, interval, files, kind: 'bars', nowMs: ctx.clock.now() });
      rows += r.rows;
      series.push({ symbol, kind: 'bars', rows: r.rows, lastMs: r.lastMs ?? null });
      ctx.log.info({ stage: 'ingest', symbol, files: files.length, rows: r.rows }, 'csv imported');
    }
    return { venue, rows, series, elapsedMs: Math.round(performance.now() - t0) };
  }
  if (v.kind === 'simulator') {
    const [{ createSimulatorProvider }, { startVenueServer }] = await Promise.all([import('../ingest/simulator/provider.ts'), import('../ingest/replay/wire-server.ts')]);
    const provider = createSimulatorProvider({ seed: v.seed, symbols: config.markets, clock: ctx.dataClock });
    const server = await startVenueServer({ provider, host: '127.0.0.1', port: 0 });
    try {
      const fromMs = (toMs - v.days * DAY_MS) as EpochMs;
      const source = createSource('binance-usdm', { baseUrl: server.url, http: { signal: ctx.signal } });
      const jobs: BackfillJob[] = config.markets.flatMap((symbol) => (['bars', 'funding', 'openInterest'] as const).map((kind) => ({ kind, symbol, interval, fromMs, toMs, storeVenue: venue })));
      ctx.log.info({ stage: 'ingest', url: server.url, seed: v.seed, days: v.days }, 'simulated venue started');
      return outcomeOrThrow(venue, await ingestMany(source, ctx.md, jobs, { concurrency: 2, signal: ctx.signal, nowMs: ctx.clock.now() }));
    } finally {
      await server.close();
    }
  }
  // The stage's signal cancels requests in flight and retry waits when the run stops or the stage deadline passes.
  const source = createSource(v.venue, {
    ...(v.baseUrl ? { baseUrl: v.baseUrl } : {}),
    ...(v.maxRps !== undefined ? { requestsPerSecond: v.maxRps } : {}),
    http: {
      signal: ctx.signal,
      ...(v.httpRetries !== undefined ? { maxRetries: v.httpRetries } : {}),
      ...(v.requestTimeoutMs !== undefined ? { timeoutMs: v.requestTimeoutMs } : {}),
      ...(v.retryBudgetMs !== undefined ? { retryBudgetMs: v.retryBudgetMs } : {}),
      ...(v.maxRetryAfterMs !== undefined ? { maxRetryAfterMs: v.maxRetryAfterMs } : {}),
    },
  });
  const fromMs = (toMs - v.days * DAY_MS) as EpochMs;
  const oiFromMs = Math.max(fromMs, toMs - OPEN_INTEREST_DAYS * DAY_MS) as EpochMs;
  const jobs: BackfillJob[] = config.markets.flatMap((symbol) => v.kinds.map((kind) => ({
    kind, symbol, interval, fromMs: kind === 'openInterest' ? oiFromMs : fromMs, toMs, ...(v.storeVenue ? { storeVenue: v.storeVenue } : {}),
  })));
  return outcomeOrThrow(venue, await ingestMany(source, ctx.md, jobs, { concurrency: v.concurrency, signal: ctx.signal, nowMs: ctx.clock.now() }));
}
