/**
 * Feature frames: the pure builder (re-exported from `frame-builder.ts`) and {@link loadFeatureFrames},
 * the thin shell that reads a store and builds one frame per symbol.
 */
import { AppError } from '../core/errors.ts';
import { INTERVALS, intervalMs, iso, type Interval } from '../core/time.ts';
import type { RowOf } from '../ingest/types.ts';
import type { MarketData } from '../store/market-data.ts';
import { buildFeatureFrame, type BuildFeatureFrameInput } from './frame-builder.ts';
import type { FeatureFrame } from './frame.ts';

export { AS_OF_MAX_AGE_MS, BASE_FEATURES, OPTIONAL_FEATURES, barsPerDay, buildFeatureFrame, featureSetHash, type BuildFeatureFrameInput } from './frame-builder.ts';

/** Extra history read before the first bar for side series: the 1-day OI lookback plus the staleness limit, with room. */
const SIDE_LOOKBACK_MS = 7 * 86_400_000;

/** Options of {@link loadFeatureFrames}. Times are epoch ms; bars are read in `[fromMs, toMs)` by open time. */
export interface LoadFeatureFramesOptions {
  /** Venue the bars are stored under (e.g. `binance-spot`). */
  readonly venue: string;
  readonly symbols: readonly string[];
  readonly interval: Interval;
  readonly fromMs?: number;
  readonly toMs?: number;
  /**
   * Reference asset for `beta_btc`, `corr_btc`, `btc_rv_1d` (same venue and interval). Default `BTCUSDT`,
   * used only if stored; a symbol given explicitly must be stored. The reference's own frame has no
   * cross-asset columns.
   */
  readonly referenceSymbol?: string;
  /** Venue of funding events (default: `venue`), e.g. `binance-usdm` for spot bars. */
  readonly fundingVenue?: string;
  /** Venue of open-interest rows (default: `fundingVenue`, else `venue`). */
  readonly oiVenue?: string;
  /** Venue of the implied-vol index (e.g. `deribit`); without it there is no `iv` column. */
  readonly ivVenue?: string;
  /** Implied-vol index symbol (default: the base currency of each symbol, `BTC` for `BTCUSDT`). */
  readonly ivSymbol?: string;
}

/**
 * Reads each symbol's bars (and its funding, open interest and implied vol where stored) and builds its
 * frame with {@link buildFeatureFrame}. Side series are read from a week before the first bar to the
 * last bar's close, so as-of values at the start are not lost. Implied vol is read at the frame's
 * interval if stored, else at the first stored interval of `INTERVALS`; its period (the delay before
 * a bar's close is known) is that interval. Frames come back in `symbols` order.
 *
 * @throws AppError `dataQuality` naming venue and symbol when a symbol (or an explicitly named reference) has no bars.
 */
export function loadFeatureFrames(md: MarketData, opts: LoadFeatureFramesOptions): FeatureFrame[] {
  const { venue, interval } = opts;
  const range = { ...(opts.fromMs !== undefined ? { fromMs: opts.fromMs } : {}), ...(opts.toMs !== undefined ? { toMs: opts.toMs } : {}) };
  const refSymbol = opts.referenceSymbol ?? 'BTCUSDT';
  const reference = md.readBarColumns({ venue, symbol: refSymbol, interval }, range);
  if (reference.openTimeMs.length === 0 && opts.referenceSymbol !== undefined) throw noBars(venue, refSymbol, interval, opts, 'reference ');
  const fundingVenue = opts.fundingVenue ?? venue;
  const oiVenue = opts.oiVenue ?? fundingVenue;

  return opts.symbols.map((symbol) => {
    const bars = md.readBarColumns({ venue, symbol, interval }, range);
    const n = bars.openTimeMs.length;
    if (n === 0) throw noBars(venue, symbol, interval, opts, '');
    const side = { fromMs: bars.openTimeMs[0]! - SIDE_LOOKBACK_MS, toMs: bars.openTimeMs[n - 1]! + intervalMs(interval) + 1 };
    const input: { -readonly [K in keyof BuildFeatureFrameInput]: BuildFeatureFrameInput[K] } = { symbol, interval, bars };

    const funding = md.readRows('funding', { venue: fundingVenue, symbol, interval }, side);
    if (funding.length > 0) input.funding = { timeMs: Float64Array.from(funding, (f) => f.fundingTimeMs), rate: Float64Array.from(funding, (f) => f.rate) };

    const oi = readAnyInterval(md, 'openInterest', oiVenue, symbol, interval, side);
    if (oi) input.openInterest = { timeMs: Float64Array.from(oi.rows, (o) => o.timeMs), value: Float64Array.from(oi.rows, (o) => o.openInterest) };

    if (opts.ivVenue !== undefined) {
      const iv = readAnyInterval(md, 'impliedVol', opts.ivVenue, opts.ivSymbol ?? baseCurrency(symbol), interval, side);
      if (iv) input.impliedVol = { timeMs: Float64Array.from(iv.rows, (v) => v.timeMs), close: Float64Array.from(iv.rows, (v) => v.close), periodMs: intervalMs(iv.interval) };
    }
    if (symbol !== refSymbol && reference.openTimeMs.length > 0) input.reference = reference;
    return buildFeatureFrame(input);
  });
}

/** Rows of a side series at `preferred` interval if stored there, else at the first interval of INTERVALS that has rows. */
function readAnyInterval<K extends 'openInterest' | 'impliedVol'>(md: MarketData, kind: K, venue: string, symbol: string, preferred: Interval, range: { fromMs: number; toMs: number }): { rows: RowOf<K>[]; interval: Interval } | undefined {
  for (const iv of [preferred, ...INTERVALS.filter((i) => i !== preferred)]) {
    const rows = md.readRows(kind, { venue, symbol, interval: iv }, range);
    if (rows.length > 0) return { rows, interval: iv };
  }
  return undefined;
}

/** Base currency of a venue symbol: `BTCUSDT`, `BTC-USDT-SWAP`, `BTC-PERPETUAL`, `BTC/USD` → `BTC`. */
export function baseCurrency(symbol: string): string {
  const head = symbol.toUpperCase().split(/[-_/:]/)[0] ?? symbol;
  const m = /^(.+?)(USDT|USDC|BUSD|FDUSD|USD|PERP)$/.exec(head);
  return m?.[1] ?? head;
}

function noBars(venue: string, symbol: string, interval: Interval, opts: LoadFeatureFramesOptions, what: string): AppError {
  const span = opts.fromMs !== undefined || opts.toMs !== undefined ? ` in [${opts.fromMs !== undefined ? iso(opts.fromMs) : '…'}, ${opts.toMs !== undefined ? iso(opts.toMs) : '…'})` : '';
  return new AppError('dataQuality', `No ${interval} bars are stored for ${what}${venue}/${symbol}${span}: ingest or import them first (liqcal ingest, liqcal import-csv), or drop the symbol.`, {
    context: { venue, symbol, interval, fromMs: opts.fromMs, toMs: opts.toMs },
  });
}

