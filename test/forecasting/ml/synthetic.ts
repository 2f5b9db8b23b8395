/**
 * Seeded synthetic bars with clustered volatility (GARCH(1,1), Student-t shocks, rare jumps), volume that
 * rises with volatility, and the feature frames built from them by the real feature builder. Test data only.
 */
import { createRng, deriveSeed } from '../../../src/core/rng.ts';
import { intervalMs, type Interval } from '../../../src/core/time.ts';
import { buildFeatureFrame } from '../../../src/features/build.ts';
import type { FeatureFrame } from '../../../src/features/frame.ts';
import type { BarColumns } from '../../../src/store/market-data.ts';

/** Options of {@link syntheticBarColumns}. */
export interface SyntheticOptions {
  readonly bars: number;
  readonly seed: number;
  readonly interval?: Interval;
  readonly startMs?: number;
  /** Long-run per-bar return s.d. (e.g. 0.01 for 4h bars of a ~60 %/yr asset). */
  readonly sigma?: number;
  readonly alpha?: number;
  readonly beta?: number;
}

/** GARCH(1,1)-t bars as columns. */
export function syntheticBarColumns(opts: SyntheticOptions): BarColumns {
  const n = opts.bars;
  const step = intervalMs(opts.interval ?? '4h');
  const start = opts.startMs ?? Date.UTC(2023, 0, 1);
  const sigma = opts.sigma ?? 0.01;
  const alpha = opts.alpha ?? 0.08;
  const beta = opts.beta ?? 0.9;
  const omega = sigma * sigma * (1 - alpha - beta);
  const rng = createRng(deriveSeed(opts.seed, 'synthetic-bars'));
  const cols = { openTimeMs: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n), quoteVolume: new Float64Array(n), trades: new Float64Array(n), takerBuyBaseVolume: new Float64Array(n) };
  let h = sigma * sigma;
  let e = 0;
  let price = 100;
  for (let t = 0; t < n; t++) {
    h = omega + alpha * e * e + beta * h;
    const s = Math.sqrt(h);
    e = s * rng.studentT(5) + (rng.next() < 0.01 ? rng.normal() * 4 * sigma : 0);
    const open = price;
    const close = open * Math.exp(e);
    const wick = () => Math.abs(rng.normal()) * s * 0.6;
    cols.openTimeMs[t] = start + t * step;
    cols.open[t] = open;
    cols.close[t] = close;
    cols.high[t] = Math.max(open, close) * Math.exp(wick());
    cols.low[t] = Math.min(open, close) * Math.exp(-wick());
    const vol = Math.exp(6 + Math.log(s / sigma) + 0.3 * rng.normal());
    cols.volume[t] = vol;
    cols.quoteVolume[t] = vol * close;
    cols.trades[t] = Math.round(vol * 3);
    cols.takerBuyBaseVolume[t] = vol * (0.5 + 0.1 * rng.normal());
    price = close;
  }
  return cols;
}

/** Feature frames of `symbols`, each from its own seeded bars (volatility level differs by symbol). */
export function syntheticFrames(symbols: readonly string[], opts: Omit<SyntheticOptions, 'seed'> & { seed?: number }): FeatureFrame[] {
  return symbols.map((symbol, i) => buildFeatureFrame({
    symbol,
    interval: opts.interval ?? '4h',
    bars: syntheticBarColumns({ ...opts, seed: deriveSeed(opts.seed ?? 1, symbol), sigma: (opts.sigma ?? 0.01) * (1 + 0.5 * i) }),
  }));
}
