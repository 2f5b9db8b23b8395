/**
 * Probability calibration of the spike head (pure). Fitted on the held-back calibration tail of the training
 * window, which neither the gradient steps nor early stopping have seen.
 *
 * - Platt (1999), "Probabilistic outputs for support vector machines…": p = σ(a·s + b) on the raw logit s,
 *   fitted by Newton's method on the log loss with Platt's smoothed targets (N₊+1)/(N₊+2) and 1/(N₋+2), so the
 *   result stays strictly inside (0, 1) even on separable data. Two parameters: safe on small folds.
 * - Isotonic: pool-adjacent-violators on the raw probability (Zadrozny & Elkan 2002), evaluated by linear
 *   interpolation between block centres and clipped to [ε, 1 − ε]. Needs more data than Platt.
 */

/** A fitted calibration map from raw logit to probability. */
export type SpikeCalibration =
  | { readonly method: 'platt'; readonly a: number; readonly b: number; readonly rows: number }
  | { readonly method: 'isotonic'; readonly x: number[]; readonly y: number[]; readonly rows: number }
  | { readonly method: 'none'; readonly rows: number };

/** Probabilities are kept inside [ε, 1 − ε]. */
export const PROB_EPS = 1e-4;

/** The logistic function. */
export function sigmoid(s: number): number {
  return s >= 0 ? 1 / (1 + Math.exp(-s)) : Math.exp(s) / (1 + Math.exp(s));
}

const clip = (p: number): number => (p < PROB_EPS ? PROB_EPS : p > 1 - PROB_EPS ? 1 - PROB_EPS : p);

/** Fits Platt scaling on raw logits and 0/1 labels (NaN labels are ignored). */
export function fitPlatt(logits: ArrayLike<number>, labels: ArrayLike<number>): SpikeCalibration {
  const s: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    const v = logits[i]!;
    if (Number.isFinite(l) && Number.isFinite(v)) { s.push(v); y.push(l > 0.5 ? 1 : 0); }
  }
  const nPos = y.reduce((a, b) => a + b, 0);
  const nNeg = y.length - nPos;
  if (nPos === 0 || nNeg === 0) return { method: 'none', rows: y.length };
  const hi = (nPos + 1) / (nPos + 2);
  const lo = 1 / (nNeg + 2);
  const t = y.map((v) => (v ? hi : lo));
  let a = 1;
  let b = 0;
  const loss = (aa: number, bb: number): number => {
    let l = 0;
    for (let i = 0; i < s.length; i++) {
      const z = aa * s[i]! + bb;
      // log(1 + e^z) − t·z, computed stably.
      l += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - t[i]! * z;
    }
    return l;
  };
  let current = loss(a, b);
  for (let iter = 0; iter < 100; iter++) {
    let ga = 0; let gb = 0; let haa = 1e-12; let hab = 0; let hbb = 1e-12;
    for (let i = 0; i < s.length; i++) {
      const p = sigmoid(a * s[i]! + b);
      const d = p - t[i]!;
      const w = p * (1 - p);
      ga += d * s[i]!; gb += d;
      haa += w * s[i]! * s[i]!; hab += w * s[i]!; hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 1e-300)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    let step = 1;
    let next = loss(a - step * da, b - step * db);
    while (next > current && step > 1e-8) { step /= 2; next = loss(a - step * da, b - step * db); }
    if (next > current) break;
    a -= step * da; b -= step * db;
    const gain = current - next;
    current = next;
    if (gain < 1e-12 * Math.max(1, Math.abs(current))) break;
  }
  return { method: 'platt', a, b, rows: y.length };
}

/** Fits an isotonic (non-decreasing) map from raw probability σ(logit) to frequency by pool-adjacent-violators. */
export function fitIsotonic(logits: ArrayLike<number>, labels: ArrayLike<number>): SpikeCalibration {
  const pts: [number, number][] = [];
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    const v = logits[i]!;
    if (Number.isFinite(l) && Number.isFinite(v)) pts.push([sigmoid(v), l > 0.5 ? 1 : 0]);
  }
  if (pts.length < 2) return { method: 'none', rows: pts.length };
  pts.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  // Blocks: sum of x, sum of y, weight.
  const bx: number[] = []; const by: number[] = []; const bw: number[] = [];
  for (const [x, y] of pts) {
    bx.push(x); by.push(y); bw.push(1);
    while (bw.length > 1 && by[by.length - 2]! / bw[bw.length - 2]! >= by[by.length - 1]! / bw[bw.length - 1]!) {
      const w = bw.pop()!; const sy = by.pop()!; const sx = bx.pop()!;
      bw[bw.length - 1]! += w; by[by.length - 1]! += sy; bx[bx.length - 1]! += sx;
    }
  }
  return { method: 'isotonic', x: bx.map((s, i) => s / bw[i]!), y: by.map((s, i) => clip(s / bw[i]!)), rows: pts.length };
}

/** Maps a raw logit through a fitted calibration to a probability in [ε, 1 − ε]. */
export function calibrate(cal: SpikeCalibration, logit: number): number {
  if (!Number.isFinite(logit)) return Number.NaN;
  switch (cal.method) {
    case 'none': return clip(sigmoid(logit));
    case 'platt': return clip(sigmoid(cal.a * logit + cal.b));
    case 'isotonic': {
      const p = sigmoid(logit);
      const { x, y } = cal;
      if (p <= x[0]!) return y[0]!;
      if (p >= x[x.length - 1]!) return y[y.length - 1]!;
      let lo = 0; let hi = x.length - 1;
      while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (x[mid]! <= p) lo = mid; else hi = mid; }
      const w = (p - x[lo]!) / (x[hi]! - x[lo]!);
      return clip(y[lo]! + w * (y[hi]! - y[lo]!));
    }
  }
}

/** Brier score (mean squared error of probabilities against 0/1 labels), over finite pairs. */
export function brierScore(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  let s = 0; let n = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = probs[i]!; const l = labels[i]!;
    if (Number.isFinite(p) && Number.isFinite(l)) { s += (p - l) ** 2; n++; }
  }
  return n ? s / n : Number.NaN;
}
