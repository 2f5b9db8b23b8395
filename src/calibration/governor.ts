/**
 * The anticipatory governor (issue 4 items 2–3), pure: turns a series of target maintenance margins into
 * the margins actually in force, with
 * - an EMIR Art. 28(a) releasable buffer: the desired margin is max(target, min((1 + b)·target, previous
 *   desired)) — in calm times it sits b above the target, and a rise of the target is absorbed by the
 *   buffer before the margin moves (Murphy, Vasios & Vause 2016);
 * - a floor (from long-lookback volatility, supplied per step);
 * - announced increases: an increase is announced at t and takes effect at t + notice (decreases at once);
 * - a maximum step per change (relative, up and down) and a minimum delay between changes (Aave steward minDelay);
 * - hysteresis: a deadband around the margin in force, and decreases only after the target has stayed lower
 *   for `decreaseAfterMs`.
 * It also counts how often each bound binds. Time is explicit: step i is decided at `decisionMs[i]`.
 */
import type { PolicyConfig } from './config.ts';

/** One change of the margin in force: announced at `announcedMs`, in force from `effectiveMs`. */
export interface MarginChange {
  readonly announcedMs: number;
  readonly effectiveMs: number;
  readonly from: number;
  readonly to: number;
}

/** How many decision steps each bound shaped. */
export interface BindingCounts {
  readonly steps: number;
  /** The APC buffer held the margin above the target (released or absorbing a rise). */
  readonly apcBuffer: number;
  readonly floor: number;
  readonly maxStepUp: number;
  readonly maxStepDown: number;
  /** A change was wanted but the minimum delay since the last one had not passed. */
  readonly minDelay: number;
  /** A decrease was wanted but the target had not stayed lower for long enough. */
  readonly hysteresis: number;
  /** An increase was waiting for its effective time. */
  readonly notice: number;
}

/** Output of {@link runGovernor}. */
export interface GovernorResult {
  /** Margin in force at each decision instant (after changes effective at or before it). */
  readonly inForce: Float64Array;
  /** What the policy wanted at each step (target with the APC buffer and the floor), before steps and delays. */
  readonly desired: Float64Array;
  readonly changes: readonly MarginChange[];
  readonly bindings: BindingCounts;
}

/** Options of {@link runGovernor}. */
export interface GovernorInput {
  /** Decision instants, epoch ms, ascending. */
  readonly decisionMs: Float64Array;
  /** Target margin at each instant (NaN: unknown, keep the previous target). */
  readonly target: Float64Array;
  /** Floor at each instant (NaN or absent: none). */
  readonly floor?: Float64Array;
  readonly cfg: PolicyConfig['governor'];
  /** Margin in force before the first step (default: the first finite desired margin, applied at once). */
  readonly initial?: number;
}

/**
 * Runs the governor over a series. The margin in force never moves by more than `maxStepUp` / `maxStepDown`
 * of itself per change, never changes twice within `minDelayMs`, and never rises without `noticeMs` of
 * notice. A pending increase is not revised; the next change can follow once it is in force and the delay
 * has passed. O(n).
 */
export function runGovernor(input: GovernorInput): GovernorResult {
  const { decisionMs, target, floor, cfg } = input;
  const n = decisionMs.length;
  const inForce = new Float64Array(n).fill(Number.NaN);
  const desiredOut = new Float64Array(n).fill(Number.NaN);
  const changes: MarginChange[] = [];
  const counts = { steps: 0, apcBuffer: 0, floor: 0, maxStepUp: 0, maxStepDown: 0, minDelay: 0, hysteresis: 0, notice: 0 };

  let level = input.initial !== undefined && input.initial > 0 ? input.initial : Number.NaN;
  let lastTarget = Number.NaN;
  let desiredPrev = Number.NaN;
  let lastChangeMs = Number.NEGATIVE_INFINITY;
  let pending: MarginChange | undefined;
  let belowSinceMs = Number.NaN;

  for (let i = 0; i < n; i++) {
    const now = decisionMs[i]!;
    if (Number.isFinite(target[i]!) && target[i]! > 0) lastTarget = target[i]!;
    if (pending && pending.effectiveMs <= now) {
      level = pending.to;
      pending = undefined;
    }
    if (!Number.isFinite(lastTarget)) {
      inForce[i] = level;
      continue;
    }
    counts.steps++;
    // APC buffer: start b above the target; a rising target is absorbed until it exceeds the buffer.
    const buffered = Number.isFinite(desiredPrev) ? Math.max(lastTarget, Math.min((1 + cfg.apcBuffer) * lastTarget, desiredPrev)) : (1 + cfg.apcBuffer) * lastTarget;
    desiredPrev = buffered;
    if (buffered > lastTarget * (1 + 1e-12)) counts.apcBuffer++;
    const f = floor?.[i];
    let desired = buffered;
    if (f !== undefined && Number.isFinite(f) && f > desired) {
      desired = f;
      counts.floor++;
    }
    desiredOut[i] = desired;

    if (!Number.isFinite(level)) {
      level = desired;
      lastChangeMs = now;
      changes.push({ announcedMs: now, effectiveMs: now, from: Number.NaN, to: desired });
      inForce[i] = level;
      continue;
    }
    if (pending) {
      counts.notice++;
      inForce[i] = level;
      continue;
    }
    const delayOk = now - lastChangeMs >= cfg.minDelayMs;
    if (desired > level * (1 + cfg.deadband)) {
      belowSinceMs = Number.NaN;
      if (!delayOk) counts.minDelay++;
      else {
        const cap = level * (1 + cfg.maxStepUp);
        if (desired > cap) counts.maxStepUp++;
        const to = Math.min(desired, cap);
        const change = { announcedMs: now, effectiveMs: now + cfg.noticeMs, from: level, to };
        changes.push(change);
        lastChangeMs = change.effectiveMs;
        if (cfg.noticeMs > 0) pending = change;
        else level = to;
      }
    } else if (desired < level * (1 - cfg.deadband)) {
      if (Number.isNaN(belowSinceMs)) belowSinceMs = now;
      if (now - belowSinceMs < cfg.decreaseAfterMs) counts.hysteresis++;
      else if (!delayOk) counts.minDelay++;
      else {
        const cap = level * (1 - cfg.maxStepDown);
        if (desired < cap) counts.maxStepDown++;
        const to = Math.max(desired, cap);
        changes.push({ announcedMs: now, effectiveMs: now, from: level, to });
        level = to;
        lastChangeMs = now;
      }
    } else {
      belowSinceMs = Number.NaN;
    }
    inForce[i] = level;
  }
  return { inForce, desired: desiredOut, changes, bindings: counts };
}
