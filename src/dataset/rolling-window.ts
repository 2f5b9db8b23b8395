/**
 * Exact sliding-window order statistics over Float64Array: median (sorted window buffer) and
 * minimum / maximum (monotonic deque). Index t reads `x[t−window+1 .. t]` only.
 */
import { AppError } from '../core/errors.ts';

function checkWindow(window: number, what: string): void {
  if (!Number.isInteger(window) || window < 1) throw new AppError('config', `${what}: the window must be a positive whole number of bars, not ${window}.`, { context: { window } });
}

/** First index i in sorted `a[0..len)` with a[i] ≥ v. */
function lowerBound(a: Float64Array, len: number, v: number): number {
  let lo = 0;
  let hi = len;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Trailing rolling median of the finite values in `x[t−window+1 .. t]`, exact. NaN before the window
 * is full (t < window − 1) and when it holds fewer than `minCount` finite values (default: all of them).
 * Even counts average the two middle values.
 *
 * Cost: the window is kept sorted in one Float64Array; each step is a binary search plus one
 * `copyWithin` shift (a memmove) for the insertion and one for the removal, O(n·window) element moves in
 * the worst case but ~window/2 on average at memmove speed: 35k bars × a 720-bar window take a few ms.
 */
export function rollingMedian(x: Float64Array, window: number, minCount = window): Float64Array {
  checkWindow(window, 'rollingMedian');
  const n = x.length;
  const out = new Float64Array(n).fill(Number.NaN);
  const buf = new Float64Array(window);
  let len = 0;
  for (let t = 0; t < n; t++) {
    if (t >= window) {
      const old = x[t - window]!;
      if (Number.isFinite(old)) {
        const at = lowerBound(buf, len, old);
        buf.copyWithin(at, at + 1, len);
        len--;
      }
    }
    const v = x[t]!;
    if (Number.isFinite(v)) {
      const at = lowerBound(buf, len, v);
      buf.copyWithin(at + 1, at, len);
      buf[at] = v;
      len++;
    }
    if (t >= window - 1 && len >= minCount && len > 0) {
      const mid = len >>> 1;
      out[t] = len % 2 === 1 ? buf[mid]! : 0.5 * (buf[mid - 1]! + buf[mid]!);
    }
  }
  return out;
}

/**
 * Trailing rolling minimum (`kind = 'min'`) or maximum (`'max'`) of `x[t−window+1 .. t]`, O(n) with a
 * monotonic deque. NaN before the window is full and whenever it contains a non-finite value.
 */
export function rollingExtreme(x: Float64Array, window: number, kind: 'min' | 'max'): Float64Array {
  checkWindow(window, 'rollingExtreme');
  const n = x.length;
  const out = new Float64Array(n).fill(Number.NaN);
  const dq = new Int32Array(window + 1); // ring buffer of indices, values monotone from head to tail
  let head = 0;
  let size = 0;
  let bad = 0;
  const cap = window + 1;
  const better = kind === 'min' ? (a: number, b: number): boolean => a <= b : (a: number, b: number): boolean => a >= b;
  for (let t = 0; t < n; t++) {
    const v = x[t]!;
    if (Number.isFinite(v)) {
      while (size > 0 && better(v, x[dq[(head + size - 1) % cap]!]!)) size--;
      dq[(head + size) % cap] = t;
      size++;
    } else bad++;
    if (t >= window && !Number.isFinite(x[t - window]!)) bad--;
    while (size > 0 && dq[head]! <= t - window) {
      head = (head + 1) % cap;
      size--;
    }
    if (t >= window - 1 && bad === 0 && size > 0) out[t] = x[dq[head]!]!;
  }
  return out;
}
