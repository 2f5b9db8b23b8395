/**
 * The simulated venue: serves the seeded market model (model.ts) as bars, funding and open interest
 * through the Binance wire server. Every served interval is an aggregate of the model's base bars, so
 * a 1h bar is exactly the combination of its twelve 5m bars, whichever was asked first.
 */
import { AppError } from '../../core/errors.ts';
import { INTERVALS, intervalMs, systemClock, type Clock, type Interval } from '../../core/time.ts';
import type { VenueDataProvider, VenueSymbol } from '../replay/wire-server.ts';
import type { Bar, FundingRow, OpenInterestRow } from '../types.ts';
import { MarketModel } from './model.ts';
import { assetProfile, resolveParams, type SimParams } from './params.ts';

/** The default symbols. */
export const DEFAULT_SIM_SYMBOLS: readonly string[] = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT'];
/** The default genesis, 2023-01-01T00:00:00Z. */
export const DEFAULT_GENESIS_MS = Date.UTC(2023, 0, 1);
/** Refuse to generate more than this many asset-steps (≈ 10 years of 5m bars for 4 assets, ~ 1 GB). */
const MAX_ASSET_STEPS = 20_000_000;
/** Periods Binance serves open-interest history in. */
const OI_PERIODS: readonly Interval[] = ['5m', '15m', '30m', '1h', '2h', '4h', '6h', '12h', '1d'];

/** Options for {@link createSimulatorProvider}. */
export interface SimulatorOptions {
  /** Seed of every random stream; the same seed and genesis give byte-identical data. */
  readonly seed: number;
  /** Symbols to simulate (default BTCUSDT, ETHUSDT, SOLUSDT, BNBUSDT); unknown ones get a generic alt profile. */
  readonly symbols?: readonly string[];
  /** First simulated instant, epoch ms; a multiple of the base interval (default 2023-01-01). */
  readonly genesisMs?: number;
  /** "Now": only bars that closed at or before it exist (default: the wall clock). */
  readonly clock?: Clock;
  /** Overrides of the model parameters (see params.ts and README.md). */
  readonly params?: Partial<SimParams>;
}

/** A simulated venue: a wire-server provider plus its model, for tests and stress scenarios. */
export interface SimulatorProvider extends VenueDataProvider {
  readonly model: MarketModel;
  readonly params: SimParams;
  readonly genesisMs: number;
  /** The regime name in force during the base bar containing `timeMs` (generates up to it if needed). */
  regimeAt(timeMs: number): string;
}

const ceilTo = (t: number, step: number): number => Math.ceil(t / step) * step;
const round = (x: number, scale: number): number => Math.round(x * scale) / scale;

/**
 * Creates the simulated venue. Bars exist from genesis up to the last bar that closed by `clock.now()`;
 * funding every 8 h (00, 08, 16 UTC) up to now; open interest at period boundaries up to now.
 */
export function createSimulatorProvider(opts: SimulatorOptions): SimulatorProvider {
  const params = resolveParams(opts.params);
  const clock = opts.clock ?? systemClock;
  const genesisMs = opts.genesisMs ?? DEFAULT_GENESIS_MS;
  const baseMs = intervalMs(params.baseInterval);
  if (!Number.isInteger(genesisMs) || genesisMs % baseMs !== 0) {
    throw new AppError('config', `Simulator genesis ${new Date(genesisMs).toISOString()} is not on a ${params.baseInterval} boundary; use e.g. ${new Date(Math.floor(genesisMs / 86_400_000) * 86_400_000).toISOString()}.`, { context: { genesisMs } });
  }
  const symbols = [...(opts.symbols ?? DEFAULT_SIM_SYMBOLS)];
  if (symbols.length === 0 || new Set(symbols).size !== symbols.length || symbols.some((s) => !/^[A-Z0-9]{2,20}$/.test(s))) {
    throw new AppError('config', `Simulator symbols [${symbols.join(', ')}] must be a non-empty list of distinct upper-case names such as BTCUSDT.`, { context: { symbols } });
  }
  const profiles = symbols.map((s) => assetProfile(s, params));
  const model = new MarketModel(opts.seed, genesisMs, profiles, params);
  const index = new Map(symbols.map((s, i) => [s, i]));
  const listed: VenueSymbol[] = profiles.map((p) => ({ symbol: p.symbol, baseAsset: p.baseAsset, quoteAsset: p.quoteAsset }));
  const barIntervals = INTERVALS.filter((iv) => intervalMs(iv) >= baseMs && intervalMs(iv) % baseMs === 0);
  const oiPeriods = barIntervals.filter((iv) => OI_PERIODS.includes(iv));

  const assetIndex = (symbol: string): number => {
    const a = index.get(symbol);
    if (a === undefined) throw new AppError('badSymbol', `The simulator does not list ${symbol}; it lists ${symbols.join(', ')}.`, { context: { symbol } });
    return a;
  };
  /** Generates base steps up to (excluding) time `t`. */
  const ensureUntil = (t: number): void => {
    const steps = Math.ceil((t - genesisMs) / baseMs);
    if (steps * symbols.length > MAX_ASSET_STEPS) {
      throw new AppError('config', `The simulator would have to generate ${Math.round((steps * baseMs) / 86_400_000)} days of ${params.baseInterval} bars from genesis ${new Date(genesisMs).toISOString()}; move genesisMs closer to the queried range or the clock.`, { context: { steps } });
    }
    model.ensureSteps(steps);
  };
  /** First and count of a regular grid of times `first + k·step` within [fromMs, toMs) and ≤ lastMs, cut to `limit`. */
  const grid = (first: number, lastMs: number, step: number, fromMs: number, toMs: number, limit: number, newestFirst: boolean): { start: number; count: number } => {
    const lo = Math.max(first, first + ceilTo(fromMs - first, step));
    const hi = Math.min(first + Math.floor((lastMs - first) / step) * step, first + ceilTo(toMs - first, step) - step);
    if (hi < lo) return { start: lo, count: 0 };
    const n = (hi - lo) / step + 1;
    if (n <= limit) return { start: lo, count: n };
    return newestFirst ? { start: hi - (limit - 1) * step, count: limit } : { start: lo, count: limit };
  };

  function bars(symbol: string, interval: Interval, fromMs: number, toMs: number, limit: number, newestFirst = false): Bar[] {
    const a = assetIndex(symbol);
    const step = intervalMs(interval);
    if (step < baseMs || step % baseMs !== 0) throw new AppError('notSupported', `The simulator serves ${barIntervals.join(', ')}, not ${interval}.`, { context: { interval } });
    const lastComplete = Math.floor((clock.now() - step) / step) * step;
    const { start, count } = grid(ceilTo(genesisMs, step), lastComplete, step, fromMs, toMs, limit, newestFirst);
    if (count === 0) return [];
    ensureUntil(start + count * step);
    const c = model.columns(a);
    const k = step / baseMs;
    const qs = 10 ** profiles[a]!.qtyDecimals;
    const out: Bar[] = new Array<Bar>(count);
    for (let j = 0; j < count; j++) {
      const t = start + j * step;
      const i0 = (t - genesisMs) / baseMs;
      const open = model.openAt(a, i0);
      let high = -Infinity; let low = Infinity; let volume = 0; let quote = 0; let taker = 0; let trades = 0;
      let prev = open;
      for (let i = i0; i < i0 + k; i++) {
        const h = c.high[i]!; const l = c.low[i]!; const cl = c.close[i]!; const v = c.volume[i]!;
        if (h > high) high = h;
        if (l < low) low = l;
        volume += v; taker += c.takerBuyBase[i]!; trades += c.trades[i]!;
        quote += round((v * (prev + h + l + cl)) / 4, 1e4);
        prev = cl;
      }
      out[j] = { openTimeMs: t, open, high, low, close: prev, volume: round(volume, qs), quoteVolume: round(quote, 1e4), trades, takerBuyBaseVolume: round(taker, qs) };
    }
    return out;
  }

  function funding(symbol: string, fromMs: number, toMs: number, limit: number, newestFirst = false): FundingRow[] {
    const a = assetIndex(symbol);
    const { start, count } = grid(model.firstFundingMs, clock.now(), model.fundingMs, fromMs, toMs, limit, newestFirst);
    if (count === 0) return [];
    ensureUntil(start + (count - 1) * model.fundingMs + baseMs);
    const f = model.funding(a);
    const k0 = (start - model.firstFundingMs) / model.fundingMs;
    return Array.from({ length: count }, (_, j) => ({ fundingTimeMs: start + j * model.fundingMs, rate: f.rate[k0 + j]!, markPrice: f.markPrice[k0 + j]! }));
  }

  function openInterest(symbol: string, period: Interval, fromMs: number, toMs: number, limit: number, newestFirst = false): OpenInterestRow[] {
    const a = assetIndex(symbol);
    const step = intervalMs(period);
    const { start, count } = grid(ceilTo(genesisMs + 1, step), clock.now(), step, fromMs, toMs, limit, newestFirst);
    if (count === 0) return [];
    ensureUntil(start + (count - 1) * step);
    const c = model.columns(a);
    return Array.from({ length: count }, (_, j) => {
      const t = start + j * step;
      const i = (t - genesisMs) / baseMs - 1; // the base bar that closes at t
      const oi = c.openInterest[i]!;
      return { timeMs: t, openInterest: oi, openInterestValue: round(oi * c.close[i]!, 1e4) };
    });
  }

  return {
    model, params, genesisMs,
    symbols: () => listed,
    intervals: (_symbol, kind) => (kind === 'bars' ? barIntervals : oiPeriods),
    nowMs: () => clock.now(),
    bars, funding, openInterest,
    regimeAt(timeMs: number): string {
      const i = Math.floor((timeMs - genesisMs) / baseMs);
      if (i < 0) throw new AppError('config', `${new Date(timeMs).toISOString()} is before the simulator's genesis.`, { context: { timeMs } });
      ensureUntil(genesisMs + (i + 1) * baseMs);
      return params.regimes[model.regimes[i]!]!.name;
    },
  };
}
