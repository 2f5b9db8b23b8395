import type { Interval } from '../core/time.ts';
import type { BarColumns } from '../store/market-data.ts';

/**
 * One symbol's bars and engineered features as aligned Float64Array columns. Index `t` is the bar
 * opening at `timeMs[t]`; a forecast "at origin t" is made at the **close** of bar t and may use
 * columns at indices ≤ t only. Every feature column obeys that: `columns[name][t]` is computed from
 * bars 0..t (NaN while its window is not yet full). Bars are assumed gap-free at `interval`; a gap is
 * bridged (the return across it is taken as one bar) and counted in `gaps`.
 */
export interface FeatureFrame {
  readonly symbol: string;
  readonly interval: Interval;
  /** Bar open times, epoch ms, strictly ascending. */
  readonly timeMs: Float64Array;
  /** The raw bars the features were computed from. */
  readonly bars: BarColumns;
  /** Feature name → values, same length as `timeMs`. */
  readonly columns: Readonly<Record<string, Float64Array>>;
  /** Number of missing bars bridged inside the frame. */
  readonly gaps: number;
}
