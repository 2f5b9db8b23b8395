/**
 * What every stage of a pipeline run is given: the pipeline, the run id, the open store, the clocks, the abort
 * signal and the run's logger. Stages take their other inputs as arguments and return their outputs; the runner
 * (runner.ts) wires them (ARCHITECTURE §1).
 */
import type pino from 'pino';
import type { Pipeline } from '../config/pipeline.ts';
import type { Clock } from '../core/time.ts';
import type { Store } from '../store/db.ts';
import type { MarketData } from '../store/market-data.ts';

/** The run context handed to each stage. */
export interface StageContext {
  readonly pipeline: Pipeline;
  readonly runId: string;
  readonly store: Store;
  readonly md: MarketData;
  /** Wall clock: the ledger, the parameter store's timestamps and expiries. */
  readonly clock: Clock;
  /** The data side's "now": the wall clock, or the pipeline's `asOf` for replays (simulator, stale-data breaker). */
  readonly dataClock: Clock;
  /** Aborted on SIGTERM; stages that can stop cleanly (ingest between pages) watch it. */
  readonly signal: AbortSignal;
  /** Logger carrying `runId`, `pipeline` and `job`. */
  readonly log: pino.Logger;
  /** Directory the report stage writes `<runId>/` into (absolute). */
  readonly reportDir: string;
}

/** The venue name the pipeline's bars are stored under: "sim" for the simulator, else the configured one. */
export function dataVenue(p: Pipeline): string {
  const v = p.config.venue;
  if (v.kind === 'simulator') return 'sim';
  if (v.kind === 'live') return v.storeVenue ?? v.venue;
  return v.venue;
}

/**
 * Open time of the newest stored bar of the pipeline's markets on its venue and interval (epoch ms, UTC), or null
 * when none is stored: the data watermark recorded with each run.
 */
export function dataWatermarkMs(p: Pipeline, md: MarketData): number | null {
  const venue = dataVenue(p);
  const last = md.listSeries()
    .filter((s) => s.kind === 'bars' && s.venue === venue && s.interval === p.config.interval && p.config.markets.includes(s.symbol))
    .map((s) => s.lastMs);
  return last.length ? Math.max(...last) : null;
}
