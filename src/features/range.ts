/**
 * Range-based (OHLC) variance estimators, per bar. Each value at t uses bar t's own open, high, low and
 * close only, so it is known at the close of bar t. They measure variance inside the bar (open → close)
 * and miss the jump between the previous close and this open, which is ~0 on 24/7 crypto venues but is
 * the whole move across a bridged gap. Sum them over a window with `rollingSum` for daily values.
 * Units: squared log-return units per bar.
 */

const FOUR_LN2 = 4 * Math.LN2;
const GK_C = 2 * Math.LN2 - 1;

/**
 * Parkinson (1980) estimator: `(ln(H/L))² / (4 ln 2)`.
 * @param high - Bar highs.
 * @param low - Bar lows (same price unit).
 */
export function parkinsonPerBar(high: Float64Array, low: Float64Array): Float64Array {
  const n = high.length;
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const hl = Math.log(high[t]! / low[t]!);
    out[t] = (hl * hl) / FOUR_LN2;
  }
  return out;
}

/**
 * Garman & Klass (1980) estimator: `½ (ln(H/L))² − (2 ln 2 − 1)(ln(C/O))²`. Can be slightly negative
 * on a single bar with a tiny range and a large open-to-close move (rare; sums over a day are positive).
 */
export function garmanKlassPerBar(open: Float64Array, high: Float64Array, low: Float64Array, close: Float64Array): Float64Array {
  const n = open.length;
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const hl = Math.log(high[t]! / low[t]!);
    const co = Math.log(close[t]! / open[t]!);
    out[t] = 0.5 * hl * hl - GK_C * co * co;
  }
  return out;
}

/**
 * Rogers & Satchell (1991) estimator, unbiased under a drift:
 * `ln(H/C)·ln(H/O) + ln(L/C)·ln(L/O)` (≥ 0 when H ≥ max(O, C) and L ≤ min(O, C)).
 */
export function rogersSatchellPerBar(open: Float64Array, high: Float64Array, low: Float64Array, close: Float64Array): Float64Array {
  const n = open.length;
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const h = high[t]!;
    const l = low[t]!;
    const o = open[t]!;
    const c = close[t]!;
    out[t] = Math.log(h / c) * Math.log(h / o) + Math.log(l / c) * Math.log(l / o);
  }
  return out;
}
