import type { Command } from 'commander';
import { AppError, EXIT_CODES } from '../../core/errors.ts';
import { runLogger } from '../../core/log.ts';
import { floorToInterval, intervalMs, iso, parseInstant, parseInterval, systemClock, type EpochMs } from '../../core/time.ts';
import type { BackfillJob } from '../../ingest/backfill.ts';
import { ingestMany } from '../../ingest/ingest-many.ts';
import { HTTP_DEFAULTS, type HttpOptions } from '../../ingest/http.ts';
import { createSource } from '../../ingest/source.ts';
import { DATA_KINDS, type DataKind } from '../../ingest/types.ts';
import { DEFAULT_DB_PATH, openStore } from '../../store/db.ts';
import { MarketData } from '../../store/market-data.ts';
import { RunLedger } from '../../store/runs.ts';
import { list, makeOutput, peakRssMb, positiveInt, table } from '../output.ts';
import { createProgress, type ProgressTask } from '../progress.ts';
import { abandonOnSignals } from '../signals.ts';

interface IngestFlags {
  db: string; venue: string; baseUrl?: string; symbols: string[]; interval: string; from?: string; to?: string;
  kinds: string[]; storeVenue?: string; maxRps?: number; concurrency: number; json?: boolean; quiet?: boolean;
  requestTimeoutMs?: number; retryBudgetMs?: number; maxRetryAfterMs?: number;
}

/** Progress units per job: a job's share of its time range done, in per-mille. */
const PER_JOB = 1000;

const jobKey = (j: { symbol: string; kind: string }): string => `${j.symbol}\u0000${j.kind}`;

/** Sums the jobs' progress (share of each job's time range fetched so far) into one task. */
function ingestTracker(jobs: readonly BackfillJob[], task: ProgressTask) {
  const byKey = new Map(jobs.map((j) => [jobKey(j), { job: j, share: 0 }]));
  let rows = 0;
  let finished = 0;
  const redraw = (): void => {
    let sum = 0;
    for (const s of byKey.values()) sum += s.share;
    task.update(Math.round(sum * PER_JOB), `${finished}/${jobs.length} series · ${rows.toLocaleString('en-US')} rows`);
  };
  redraw();
  return {
    task,
    page(key: string, pageRows: number, lastMs: number): void {
      const s = byKey.get(key);
      rows += pageRows;
      if (s) s.share = Math.min(1, Math.max(s.share, (lastMs - s.job.fromMs) / Math.max(1, s.job.toMs - s.job.fromMs)));
      redraw();
    },
    done(key: string): void {
      const s = byKey.get(key);
      if (s) s.share = 1;
      finished++;
      redraw();
    },
  };
}

/** `liqcal ingest`: backfill bars (and funding, open interest, implied vol) from a venue's public API into the store. */
export function registerIngest(program: Command): void {
  program.command('ingest')
    .description('Backfill market data from a venue (or a replay/simulator server) into the store; resumes after the stored data.')
    .requiredOption('--venue <id>', 'binance-spot | binance-usdm | bybit | okx | deribit | coinbase | hyperliquid')
    .requiredOption('--symbols <list>', "venue symbols, comma-separated (BTCUSDT; BTC-USDT-SWAP on OKX; BTC-PERPETUAL or BTC for Deribit IV; BTC on Hyperliquid)", list)
    .option('--db <path>', 'store file', DEFAULT_DB_PATH)
    .option('--base-url <url>', "override the venue's public URL (e.g. a `liqcal serve-venue` server)")
    .option('--interval <iv>', 'bar interval', '1h')
    .option('--from <time>', 'start (ISO UTC or epoch ms); default 30 days before --to')
    .option('--to <time>', 'end, exclusive (ISO UTC or epoch ms); default now')
    .option('--kinds <list>', `data kinds: ${DATA_KINDS.join(', ')}`, list, ['bars'])
    .option('--store-venue <name>', 'store rows under this venue name instead of --venue (e.g. "sim" for simulated data)')
    .option('--max-rps <n>', 'client-side requests per second (default: the venue budget on its public URL, unlimited on loopback)', positiveInt('--max-rps'))
    .option('--concurrency <n>', 'series fetched at once', positiveInt('--concurrency'), 2)
    .option('--request-timeout-ms <ms>', `whole-response deadline of one HTTP attempt: connection, headers and the complete body (default ${HTTP_DEFAULTS.timeoutMs})`, positiveInt('--request-timeout-ms'))
    .option('--retry-budget-ms <ms>', `total time one request may spend on attempts and the waits between them before giving up (default ${HTTP_DEFAULTS.retryBudgetMs})`, positiveInt('--retry-budget-ms'))
    .option('--max-retry-after-ms <ms>', `the longest wait a venue's Retry-After imposes before a retry (default ${HTTP_DEFAULTS.maxRetryAfterMs})`, positiveInt('--max-retry-after-ms'))
    .option('--json', 'print the result as JSON')
    .option('--quiet', 'no progress lines')
    .addHelpText('after', `
Examples:
  $ liqcal ingest --venue binance-spot --symbols BTCUSDT,ETHUSDT --interval 1h --from 2024-01-01 --to 2024-02-01
  $ liqcal ingest --venue binance-usdm --symbols BTCUSDT --kinds bars,funding,openInterest --from 2025-10-01
  $ liqcal ingest --venue binance-spot --base-url http://127.0.0.1:8787 --symbols BTCUSDT --from 2022-01-01 --to 2025-11-01
  $ LIQCAL_LOG_LEVEL=info liqcal ingest --venue bybit --symbols BTCUSDT --from 2025-06-01 --quiet   # cron: JSON log lines only
Progress: a bar on a terminal; none with --quiet or --json or when stderr is not a terminal, where
LIQCAL_LOG_LEVEL=info logs one JSON line per stored series, carrying the run id.
An interrupted or failed ingest resumes after the stored data when the same command is run again.
Slow venues: every HTTP attempt must deliver its whole response within --request-timeout-ms, a Retry-After is
waited at most --max-retry-after-ms, and a request gives up (exit 7) once its retries would exceed --retry-budget-ms.`)
    .action(async (flags: IngestFlags) => {
      const out = makeOutput(flags);
      const interval = parseInterval(flags.interval);
      const kinds = flags.kinds.map((k) => {
        if (!(DATA_KINDS as readonly string[]).includes(k)) throw new AppError('config', `Unknown data kind "${k}" in --kinds: use ${DATA_KINDS.join(', ')}.`);
        return k as DataKind;
      });
      const toMs = flags.to ? parseInstant(flags.to, 'to') : floorToInterval(systemClock.now(), interval);
      const fromMs = flags.from ? parseInstant(flags.from, 'from') : ((toMs - 30 * 86_400_000) as EpochMs);
      const http: Partial<Omit<HttpOptions, 'venue' | 'baseUrl'>> = {
        ...(flags.requestTimeoutMs !== undefined ? { timeoutMs: flags.requestTimeoutMs } : {}),
        ...(flags.retryBudgetMs !== undefined ? { retryBudgetMs: flags.retryBudgetMs } : {}),
        ...(flags.maxRetryAfterMs !== undefined ? { maxRetryAfterMs: flags.maxRetryAfterMs } : {}),
      };
      const source = createSource(flags.venue, { ...(flags.baseUrl ? { baseUrl: flags.baseUrl } : {}), ...(flags.maxRps !== undefined ? { requestsPerSecond: flags.maxRps } : {}), http });
      const jobs: BackfillJob[] = flags.symbols.flatMap((symbol) => kinds.map((kind) => ({ kind, symbol, interval, fromMs, toMs, ...(flags.storeVenue ? { storeVenue: flags.storeVenue } : {}) })));
      const store = openStore(flags.db);
      const ledger = new RunLedger(store);
      const runId = ledger.start({ kind: 'ingest', config: { ...flags, fromMs, toMs } });
      const releaseSignals = abandonOnSignals(store, runId, `the ingest from ${flags.venue}`, out);
      let finished = false;
      try {
        const progress = createProgress({ ...flags, logger: runLogger(runId) });
        // Above the bar at a terminal; plain stderr lines otherwise (silent with --quiet / --json).
        const say = (line: string): void => (progress.mode === 'bars' ? progress.note(line) : out.info(line));
        say(`ingest ${flags.venue}${flags.baseUrl ? ` via ${flags.baseUrl}` : ''}: ${jobs.length} series, ${iso(fromMs)} → ${iso(toMs)} (${Math.round((toMs - fromMs) / intervalMs(interval))} ${interval} bars each)`);
        const tracker = ingestTracker(jobs, progress.task('ingest', jobs.length * PER_JOB));
        let outcome: Awaited<ReturnType<typeof ingestMany>>;
        try {
          outcome = await ingestMany(source, new MarketData(store), jobs, {
            concurrency: flags.concurrency,
            nowMs: systemClock.now(),
            onPage: (p) => tracker.page(jobKey(p.job), p.pageRows, p.lastMs),
            onDone: (r) => {
              tracker.done(jobKey(r));
              progress.milestone('series stored', { venue: r.venue, symbol: r.symbol, kind: r.kind, rows: r.rows, resumedFromMs: r.resumedFromMs });
              say(`  ${r.symbol} ${r.kind}: ${r.rows} rows${r.resumedFromMs > fromMs ? ` (resumed at ${iso(r.resumedFromMs)})` : ''}`);
            },
          });
          for (const f of outcome.failures) {
            progress.milestone('series failed', { symbol: f.job.symbol, kind: f.job.kind, error: f.error.message });
            say(`  ${f.job.symbol} ${f.job.kind}: FAILED — ${f.error.message}`);
          }
          tracker.task.done({ rows: outcome.rows, failures: outcome.failures.length });
        } finally {
          progress.stop();
        }
        const summary = {
          runId, venue: flags.venue, storeVenue: flags.storeVenue ?? flags.venue, interval, from: iso(fromMs), to: iso(toMs),
          rows: outcome.rows, elapsedMs: Math.round(outcome.elapsedMs), rowsPerSecond: Math.round(outcome.rows / Math.max(outcome.elapsedMs / 1000, 1e-9)), peakRssMb: peakRssMb(),
          series: outcome.results.map((r) => ({ ...r, first: r.firstMs === undefined ? null : iso(r.firstMs), last: r.lastMs === undefined ? null : iso(r.lastMs) })),
          failures: outcome.failures.map((f) => ({ symbol: f.job.symbol, kind: f.job.kind, error: f.error.toJSON() })),
        };
        ledger.finish(runId, { status: outcome.failures.length ? 'failed' : 'succeeded', stats: summary, ...(outcome.failures.length ? { error: outcome.failures.map((f) => f.error.message).join(' | ') } : {}) });
        finished = true;
        out.result(summary, () => table(['series', 'kind', 'rows', 'first', 'last'], outcome.results.map((r) => [r.symbol, r.kind, r.rows, r.firstMs === undefined ? '-' : iso(r.firstMs), r.lastMs === undefined ? '-' : iso(r.lastMs)])) + `\n${outcome.rows} rows in ${(outcome.elapsedMs / 1000).toFixed(1)} s`);
        if (outcome.failures.length) {
          process.stderr.write(`liqcal: ${outcome.failures.length} of ${jobs.length} series failed; the rest were stored. Fix what the errors above name (symbol, --kinds, --from), then rerun the same command: it resumes after the stored data.\n`);
          process.exitCode = EXIT_CODES[outcome.failures[0]!.error.kind];
        }
      } catch (e) {
        if (!finished) ledger.finish(runId, { status: 'failed', error: (e as Error).message });
        throw e;
      } finally {
        releaseSignals();
        store.close();
      }
    });
}
