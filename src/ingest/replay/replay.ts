/**
 * Replay: serves the bars, funding and open interest of a liqcal store through the Binance wire
 * server, so a stored history can be re-ingested (or fed to another process) over real HTTP.
 */
import { AppError } from '../../core/errors.ts';
import { isInterval, intervalMs, systemClock, type Clock, type Interval } from '../../core/time.ts';
import type { Store } from '../../store/db.ts';
import { FUNDING_INTERVAL, MarketData, type SeriesSummary } from '../../store/market-data.ts';
import type { DataKind, RowOf } from '../types.ts';
import type { VenueDataProvider, VenueSymbol } from './wire-server.ts';

/** Options for {@link createReplayProvider}. */
export interface ReplayOptions {
  /** Which stored venue to serve when the store holds the same symbol from several venues. */
  readonly venue?: string;
  /** The venue's "now" (serverTime, end of "latest" queries); the wall clock by default. */
  readonly clock?: Clock;
}

const QUOTES = ['USDT', 'USDC', 'FDUSD', 'BUSD', 'TUSD', 'USD', 'EUR', 'TRY', 'BTC', 'ETH', 'BNB'];

/** Splits a symbol such as BTCUSDT, BTC-USDT-SWAP or BTC-PERPETUAL into base and quote assets (best effort). */
export function splitSymbol(symbol: string): VenueSymbol {
  const parts = symbol.split(/[-_/]/);
  if (parts.length >= 2 && parts[0] && parts[1] && QUOTES.includes(parts[1].toUpperCase())) return { symbol, baseAsset: parts[0], quoteAsset: parts[1] };
  const up = symbol.toUpperCase();
  for (const q of QUOTES) if (up.length > q.length && up.endsWith(q)) return { symbol, baseAsset: symbol.slice(0, -q.length), quoteAsset: symbol.slice(-q.length) };
  return { symbol, baseAsset: parts[0] || symbol, quoteAsset: 'USD' };
}

/** Picks the venue of each symbol; throws a `config` error naming the choices when that is ambiguous. */
function pickVenues(series: readonly SeriesSummary[], venue: string | undefined, path: string): Map<string, string> {
  const venues = [...new Set(series.map((s) => s.venue))].sort();
  if (venue !== undefined) {
    if (!venues.includes(venue)) {
      throw new AppError('config', `The store at ${path} holds no data for venue "${venue}"; it holds ${venues.length ? venues.join(', ') : 'nothing'}. Pick one of those.`, { context: { path, venue, venues } });
    }
    return new Map(series.filter((s) => s.venue === venue).map((s) => [s.symbol, venue]));
  }
  const bySymbol = new Map<string, Set<string>>();
  for (const s of series) (bySymbol.get(s.symbol) ?? bySymbol.set(s.symbol, new Set()).get(s.symbol)!).add(s.venue);
  const clashes = [...bySymbol].filter(([, v]) => v.size > 1);
  if (clashes.length > 0) {
    const [sym, vs] = clashes[0]!;
    throw new AppError('config', `The store at ${path} holds ${sym} from several venues (${[...vs].sort().join(', ')}); choose one with the venue option (--venue), one of ${venues.join(', ')}.`, {
      context: { path, symbol: sym, venues },
    });
  }
  return new Map([...bySymbol].map(([sym, v]) => [sym, [...v][0]!]));
}

/**
 * Creates a wire-server provider over a store. Symbols are the stored series of the chosen venue
 * (`opts.venue`; by default every venue, as long as no symbol is stored from two of them); intervals
 * are those stored (no resampling). The series list is read once, when the provider is created.
 */
export function createReplayProvider(store: Store, opts: ReplayOptions = {}): VenueDataProvider {
  const md = new MarketData(store);
  const clock = opts.clock ?? systemClock;
  const series = md.listSeries();
  const venueOf = pickVenues(series, opts.venue, store.path);
  const symbols: VenueSymbol[] = [...venueOf.keys()].sort().map(splitSymbol);
  const ofVenue = series.filter((s) => venueOf.get(s.symbol) === s.venue);
  const intervalsOf = (symbol: string, kind: DataKind): Interval[] =>
    ofVenue.filter((s) => s.symbol === symbol && s.kind === kind && isInterval(s.interval)).map((s) => s.interval as Interval)
      .sort((a, b) => intervalMs(a) - intervalMs(b));

  /** Reads up to `limit` rows of `[fromMs, toMs)`: the oldest, or with `newestFirst` the newest (ascending either way). */
  function read<K extends DataKind>(kind: K, symbol: string, interval: string, fromMs: number, toMs: number, limit: number, newestFirst: boolean): RowOf<K>[] {
    const venue = venueOf.get(symbol);
    if (venue === undefined) return [];
    const key = { venue, symbol, interval };
    return md.readRows(kind, key, { fromMs, toMs, limit, newest: newestFirst });
  }

  return {
    symbols: () => symbols,
    intervals: (symbol, kind) => intervalsOf(symbol, kind),
    nowMs: () => clock.now(),
    bars: (symbol, interval, fromMs, toMs, limit, newestFirst = false) =>
      read('bars', symbol, interval, fromMs, toMs, limit, newestFirst),
    funding: (symbol, fromMs, toMs, limit, newestFirst = false) =>
      read('funding', symbol, FUNDING_INTERVAL, fromMs, toMs, limit, newestFirst),
    openInterest: (symbol, period, fromMs, toMs, limit, newestFirst = false) =>
      read('openInterest', symbol, period, fromMs, toMs, limit, newestFirst),
  };
}

