/**
 * Delays handed to Node's timers. `setTimeout` keeps its delay in a signed 32-bit integer: anything above
 * 2^31 − 1 ms (about 24.8 days), and NaN, is replaced by 1 ms with only a warning — so an unchecked
 * `Retry-After: 99999999` turns "wait three years" into "retry at once, forever". Every computed delay goes
 * through {@link timerSafeMs} before it reaches a timer.
 */

/** The longest delay Node's timers honour, ms (2^31 − 1, about 24.8 days). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** `ms` as a delay a timer honours: whole ms, NaN and negatives → 0, above {@link MAX_TIMER_DELAY_MS} → that maximum. */
export function timerSafeMs(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(MAX_TIMER_DELAY_MS, Math.ceil(ms));
}

/** A duration for messages: "500 ms", "1.5 s", "2 min", "1.5 h", "1157.4 days" (input in ms). */
export function formatDurationMs(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000 || (ms % 1_000 !== 0 && ms < 600_000)) return `${+(ms / 1_000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)} min`;
  if (ms < 172_800_000) return `${+(ms / 3_600_000).toFixed(1)} h`;
  return `${+(ms / 86_400_000).toFixed(1)} days`;
}
