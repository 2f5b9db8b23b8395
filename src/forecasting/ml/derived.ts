/**
 * Inputs the ml forecaster derives itself from a frame (pure, causal): names start with `@` so they never
 * collide with frame columns. Every value at row t uses bars ≤ t only.
 *
 * - `@rv_4h`, `@rv_12h`: realised variance Σ r² over the bars closing in the last 4 / 12 hours (at least one
 *   bar), the very recent volatility the daily HAR inputs average away. Log-transformed like other variances.
 * - `@hod_sin`, `@hod_cos`, `@dow_sin`, `@dow_cos`: UTC hour-of-day and day-of-week of the origin's close on
 *   the unit circle — the forward window of an hourly origin starts in a different part of the strong intraday
 *   (and weekend) volatility cycle depending on when it is made.
 */
import { intervalMs } from '../../core/time.ts';
import type { FeatureFrame } from '../../features/frame.ts';
import { pastRv } from '../../dataset/targets.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;

/** Derived inputs added to the default feature set. */
export const DERIVED_FEATURES: readonly string[] = Object.freeze(['@rv_4h', '@rv_12h', '@hod_sin', '@hod_cos', '@dow_sin', '@dow_cos']);

/** True for a derived (not frame) input name. */
export function isDerived(name: string): boolean {
  return name.startsWith('@');
}

/** Frame columns a derived input needs. */
export function derivedDependencies(name: string): string[] {
  return name.startsWith('@rv_') ? ['r'] : [];
}

const cache = new WeakMap<FeatureFrame, Map<string, Float64Array>>();

function compute(frame: FeatureFrame, name: string): Float64Array | undefined {
  const n = frame.timeMs.length;
  const step = intervalMs(frame.interval);
  const rv = /^@rv_(\d+)h$/.exec(name);
  if (rv) {
    const r = frame.columns.r;
    if (!r) return undefined;
    const bars = Math.max(1, Math.round((Number(rv[1]) * HOUR_MS) / step));
    return pastRv(r, bars);
  }
  const cyc = /^@(hod|dow)_(sin|cos)$/.exec(name);
  if (cyc) {
    const period = cyc[1] === 'hod' ? DAY_MS : WEEK_MS;
    // Epoch 0 was a Thursday; the phase offset is irrelevant to a learned model but kept fixed.
    const out = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      const close = frame.timeMs[t]! + step;
      const a = (2 * Math.PI * (((close % period) + period) % period)) / period;
      out[t] = cyc[2] === 'sin' ? Math.sin(a) : Math.cos(a);
    }
    return out;
  }
  return undefined;
}

/** The values of a frame column or derived input (undefined when neither exists). */
export function columnOf(frame: FeatureFrame, name: string): Float64Array | undefined {
  if (!isDerived(name)) return frame.columns[name];
  let m = cache.get(frame);
  if (!m) { m = new Map(); cache.set(frame, m); }
  let col = m.get(name);
  if (!col || col.length !== frame.timeMs.length) {
    col = compute(frame, name);
    if (col) m.set(name, col);
  }
  return col;
}
