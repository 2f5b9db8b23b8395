/**
 * Per-market circuit breakers: a state machine NORMAL < CAUTION < REDUCE_ONLY < HALT driven by the spike
 * probability, the move in forecast σ, cross-venue divergence, stale data, liquidity collapse, extreme
 * funding and price validity, with per-driver hysteresis and a minimum dwell time per state. Pure: the
 * caller passes each step's time (epoch ms) and observations; nothing reads a clock.
 *
 * Rules, per step:
 * - Each threshold driver has an enter and an exit threshold per state (exit < enter). Its level rises at
 *   once to the highest state whose enter threshold the value reaches (value ≥ enter); it falls only while
 *   the value is below that level's exit threshold (value < exit), possibly several levels at once.
 * - An unknown input (undefined, NaN, or a value that cannot be right such as a negative age or ratio)
 *   holds its driver at its last level: it neither escalates nor relaxes anything. Missing data escalates
 *   only through the stale-data driver (`dataAgeMs`). A negative data age is unknown, not fresh (an
 *   inverted staleness subtraction once made oracles "always fresh", DOMAIN §E7).
 * - `priceValid === false` (non-positive or too-volatile oracle price) puts its driver at HALT; true puts it at NORMAL.
 * - The market state rises at once to the highest driver level; it falls one level per step, and only after
 *   the current state has lasted its minimum dwell time (the clock restarts on every change of state).
 *
 * Action matrix (`blocked`, true = refused), after DOMAIN §B1 (Drift gates `Liquidate` only on NonPositive /
 * TooVolatile, so liquidations go on with stale or uncertain oracles):
 *
 * | state       | openRisk | increaseRisk | reduceRisk            | liquidations          | withdrawals |
 * | ----------- | -------- | ------------ | --------------------- | --------------------- | ----------- |
 * | NORMAL      | no       | no           | no                    | only if price invalid | no          |
 * | CAUTION     | no       | no           | no                    | only if price invalid | no          |
 * | REDUCE_ONLY | yes      | yes          | no                    | only if price invalid | yes         |
 * | HALT        | yes      | yes          | only if price invalid | only if price invalid | yes         |
 *
 * CAUTION blocks nothing: it is the cue for the margin policy to step margins up and for monitoring.
 * "Price invalid" means this step's `priceValid === false`; an unknown validity never blocks liquidations.
 * Withdrawals lower an account's margin cushion, so they are treated as risk-increasing.
 */
import { z } from 'zod';
import { AppError, formatIssues } from '../core/errors.ts';

/** Breaker states, least to most severe (the index is the level). */
export const BREAKER_STATES = ['NORMAL', 'CAUTION', 'REDUCE_ONLY', 'HALT'] as const;
/** One breaker state. */
export type BreakerState = (typeof BREAKER_STATES)[number];

/** Drivers with enter/exit thresholds; each name is the config key and says the unit of its value. */
export const THRESHOLD_DRIVERS = ['spikeProb', 'sigmaMoveRatio', 'divergenceBps', 'dataAgeMs', 'liquidityCollapse', 'fundingRate8hAbs'] as const;
/** A threshold driver. */
export type ThresholdDriver = (typeof THRESHOLD_DRIVERS)[number];
/** Every driver that can hold a market above NORMAL. */
export type BreakerDriver = ThresholdDriver | 'priceInvalid';

/** Observations at one step; any field but `timeMs` may be undefined or NaN = not known. */
export interface BreakerInput {
  /** Step time, epoch ms; non-decreasing across steps. */
  readonly timeMs: number;
  /** Forecast probability of a volatility spike over the horizon, in [0, 1]. */
  readonly spikeProb?: number | undefined;
  /** Forecast σ now / forecast σ one day ago. */
  readonly sigmaMoveRatio?: number | undefined;
  /** Cross-venue price divergence in bps (sign ignored). */
  readonly divergenceBps?: number | undefined;
  /** Age of the newest price at `timeMs`, in ms. */
  readonly dataAgeMs?: number | undefined;
  /** Current quote volume / its trailing median (the driver uses its inverse, the collapse factor). */
  readonly liquidityRatio?: number | undefined;
  /** Funding rate per 8 h as a fraction (0.0001 = 0.01%; sign ignored). */
  readonly fundingRate8h?: number | undefined;
  /** False for a non-positive or too-volatile oracle price. */
  readonly priceValid?: boolean | undefined;
}

interface Levels {
  readonly caution: number;
  readonly reduceOnly: number;
  readonly halt: number;
}

const HOUR = 3_600_000;

/**
 * Defaults for hourly bars. Stale data: the newest hourly price is normally up to one bar plus the ingest
 * delay old, so 2 bars (2 h) means a bar was missed → CAUTION, 6 h → REDUCE_ONLY, 24 h → HALT. Drift's
 * 60 s stale-for-margin is 150 of its 0.4 s slots; a calibration fed hourly cannot be that strict, and
 * the live engine keeps its own oracle staleness check. Divergence HALT at 1000 bps mirrors Drift's 10%
 * mark/oracle limit; funding 0.1% / 8 h is about 110% a year.
 */
const DEFAULTS: Readonly<Record<ThresholdDriver, { readonly enter: Levels; readonly exit: Levels }>> = {
  spikeProb: { enter: { caution: 0.5, reduceOnly: 0.8, halt: 0.99 }, exit: { caution: 0.35, reduceOnly: 0.65, halt: 0.9 } },
  sigmaMoveRatio: { enter: { caution: 1.5, reduceOnly: 2.5, halt: 4 }, exit: { caution: 1.25, reduceOnly: 2, halt: 3 } },
  divergenceBps: { enter: { caution: 50, reduceOnly: 200, halt: 1000 }, exit: { caution: 30, reduceOnly: 120, halt: 600 } },
  dataAgeMs: { enter: { caution: 2 * HOUR, reduceOnly: 6 * HOUR, halt: 24 * HOUR }, exit: { caution: 1.5 * HOUR, reduceOnly: 4 * HOUR, halt: 12 * HOUR } },
  liquidityCollapse: { enter: { caution: 3, reduceOnly: 10, halt: 50 }, exit: { caution: 2, reduceOnly: 6, halt: 30 } },
  fundingRate8hAbs: { enter: { caution: 0.001, reduceOnly: 0.003, halt: 0.01 }, exit: { caution: 0.0007, reduceOnly: 0.002, halt: 0.007 } },
};
const DEFAULT_DWELL: Levels = { caution: 2 * HOUR, reduceOnly: 6 * HOUR, halt: 12 * HOUR };

const LEVEL_KEYS = ['caution', 'reduceOnly', 'halt'] as const;

function levelsSchema(d: Levels, max: number | undefined) {
  const num = (v: number) => (max === undefined ? z.number().positive() : z.number().positive().max(max)).default(v);
  return z.object({ caution: num(d.caution), reduceOnly: num(d.reduceOnly), halt: num(d.halt) }).strict().prefault({});
}

function driverSchema(d: { readonly enter: Levels; readonly exit: Levels }, max?: number) {
  return z
    .object({ enter: levelsSchema(d.enter, max), exit: levelsSchema(d.exit, max) })
    .strict()
    .prefault({})
    .superRefine((v, ctx) => {
      for (const side of ['enter', 'exit'] as const) {
        for (let k = 1; k < LEVEL_KEYS.length; k++) {
          const lo = v[side][LEVEL_KEYS[k - 1]!];
          const hi = v[side][LEVEL_KEYS[k]!];
          if (!(hi > lo)) ctx.addIssue({ code: 'custom', path: [side, LEVEL_KEYS[k]!], message: `must be above ${side}.${LEVEL_KEYS[k - 1]!} (${lo}), got ${hi}` });
        }
      }
      for (const key of LEVEL_KEYS) {
        if (!(v.exit[key] < v.enter[key])) {
          ctx.addIssue({ code: 'custom', path: ['exit', key], message: `must be below enter.${key} (${v.enter[key]}) for hysteresis, got ${v.exit[key]}` });
        }
      }
    });
}

/** zod schema of the breaker config: every field optional (safe defaults), unknown keys refused. */
export const breakerConfigSchema = z
  .object({
    spikeProb: driverSchema(DEFAULTS.spikeProb, 1),
    sigmaMoveRatio: driverSchema(DEFAULTS.sigmaMoveRatio),
    divergenceBps: driverSchema(DEFAULTS.divergenceBps),
    dataAgeMs: driverSchema(DEFAULTS.dataAgeMs),
    liquidityCollapse: driverSchema(DEFAULTS.liquidityCollapse),
    fundingRate8hAbs: driverSchema(DEFAULTS.fundingRate8hAbs),
    /** Minimum time in a state before stepping down from it, ms. */
    minDwellMs: levelsSchema(DEFAULT_DWELL, undefined),
  })
  .strict()
  .brand<'BreakerConfig'>();

/** A validated breaker config (only `parseBreakerConfig` makes one). */
export type BreakerConfig = z.output<typeof breakerConfigSchema>;

/**
 * Validates a breaker config (JSON or object, missing fields take the defaults); throws `config` naming each
 * bad field, e.g. a 0 threshold, thresholds out of order, or an exit not below its enter (DOMAIN §E7).
 */
export function parseBreakerConfig(raw: unknown = {}): BreakerConfig {
  const r = breakerConfigSchema.safeParse(raw);
  if (!r.success) {
    throw new AppError(
      'config',
      `Invalid circuit-breaker config: ${formatIssues(r.error.issues)}. Fix the named fields: every threshold must be a finite number > 0, ordered caution < reduceOnly < halt, with each exit below its enter (spikeProb ≤ 1); omit a field to use its default.`,
      { context: { issues: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) } },
    );
  }
  return r.data;
}

/** The default config (hourly bars). */
export const DEFAULT_BREAKER_CONFIG: BreakerConfig = parseBreakerConfig({});

/** What a driver remembers between steps. */
export interface DriverMemory {
  /** The driver's level, an index into BREAKER_STATES. */
  readonly level: number;
  /** Last known value in the driver's unit (NaN if never known). */
  readonly value: number;
  /** Whether this step's input was known. */
  readonly known: boolean;
}

/** Why the market is above NORMAL: a driver at a level, or the dwell time holding the state. */
export interface BreakerReason {
  readonly driver: BreakerDriver | 'dwell';
  /** The driver's last known value (dwell: ms spent in the state). */
  readonly value: number;
  /** The threshold holding it there: enter when value ≥ enter, else the exit (dwell: the minimum dwell, ms). */
  readonly threshold: number;
  readonly state: BreakerState;
  /** False when this step's input was unknown and the driver is held at its last level. */
  readonly known: boolean;
}

/** Actions refused this step (see the action matrix in the module doc). */
export interface BlockedActions {
  readonly openRisk: boolean;
  readonly increaseRisk: boolean;
  readonly reduceRisk: boolean;
  readonly liquidations: boolean;
  readonly withdrawals: boolean;
}

/** The breaker after one step; it is also the memory passed to the next step. */
export interface BreakerStep {
  readonly timeMs: number;
  readonly state: BreakerState;
  /** When the current state was entered, epoch ms. */
  readonly enteredAtMs: number;
  readonly reasons: readonly BreakerReason[];
  readonly blocked: BlockedActions;
  readonly drivers: Readonly<Record<BreakerDriver, DriverMemory>>;
}

/** Index of `state` in BREAKER_STATES (0 = NORMAL … 3 = HALT). */
export function breakerLevel(state: BreakerState): number {
  return BREAKER_STATES.indexOf(state);
}

const isNum = (v: number | undefined): v is number => typeof v === 'number' && !Number.isNaN(v);
const nonNegative = (v: number | undefined): number => (isNum(v) && v >= 0 ? v : Number.NaN);
const absolute = (v: number | undefined): number => (isNum(v) ? Math.abs(v) : Number.NaN);

/** This step's value of each threshold driver in its unit; NaN = not known. */
function driverValues(input: BreakerInput): Record<ThresholdDriver, number> {
  const liq = nonNegative(input.liquidityRatio);
  return {
    spikeProb: nonNegative(input.spikeProb),
    sigmaMoveRatio: nonNegative(input.sigmaMoveRatio),
    divergenceBps: absolute(input.divergenceBps),
    dataAgeMs: nonNegative(input.dataAgeMs),
    liquidityCollapse: Number.isNaN(liq) ? Number.NaN : 1 / liq, // 0 volume → Infinity → HALT
    fundingRate8hAbs: absolute(input.fundingRate8h),
  };
}

const levelsOf = (l: Levels): readonly number[] => [l.caution, l.reduceOnly, l.halt];

/** Level of a driver with hysteresis: up at once to the highest enter reached, down while below the exit. */
function driverLevel(prev: number, v: number, enter: readonly number[], exit: readonly number[]): number {
  let up = 0;
  for (let k = 3; k >= 1; k--) {
    if (v >= enter[k - 1]!) {
      up = k;
      break;
    }
  }
  if (up >= prev) return up;
  let k = prev;
  while (k > up && v < exit[k - 1]!) k--;
  return k;
}

const NEVER: DriverMemory = { level: 0, value: Number.NaN, known: false };

/**
 * Advances one market's breaker by one step (`prev` undefined = a fresh breaker in NORMAL). Throws
 * `badRequest` when `input.timeMs` is not finite or goes back in time.
 */
export function stepBreaker(prev: BreakerStep | undefined, input: BreakerInput, config: BreakerConfig): BreakerStep {
  const t = input.timeMs;
  if (!Number.isFinite(t) || (prev !== undefined && t < prev.timeMs)) {
    throw new AppError('badRequest', `stepBreaker needs a finite, non-decreasing timeMs, got ${String(t)} after ${prev ? prev.timeMs : 'nothing'}: feed steps in time order.`, {
      context: { timeMs: t, prevTimeMs: prev?.timeMs },
    });
  }
  const values = driverValues(input);
  const drivers = {} as Record<BreakerDriver, DriverMemory>;
  const reasons: BreakerReason[] = [];
  let target = 0;
  for (const d of THRESHOLD_DRIVERS) {
    const before = prev?.drivers[d] ?? NEVER;
    const v = values[d];
    const known = !Number.isNaN(v);
    const enter = levelsOf(config[d].enter);
    const exit = levelsOf(config[d].exit);
    const level = known ? driverLevel(before.level, v, enter, exit) : before.level;
    const value = known ? v : before.value;
    drivers[d] = { level, value, known };
    if (level > 0) {
      const threshold = value >= enter[level - 1]! ? enter[level - 1]! : exit[level - 1]!;
      reasons.push({ driver: d, value, threshold, state: BREAKER_STATES[level]!, known });
    }
    target = Math.max(target, level);
  }
  const pv = input.priceValid;
  const priceKnown = typeof pv === 'boolean';
  const priceLevel = priceKnown ? (pv ? 0 : 3) : (prev?.drivers.priceInvalid ?? NEVER).level;
  drivers.priceInvalid = { level: priceLevel, value: priceLevel > 0 ? 1 : 0, known: priceKnown };
  if (priceLevel > 0) reasons.push({ driver: 'priceInvalid', value: 1, threshold: 1, state: 'HALT', known: priceKnown });
  target = Math.max(target, priceLevel);

  let level = prev ? breakerLevel(prev.state) : 0;
  let enteredAtMs = prev ? prev.enteredAtMs : t;
  if (target > level) {
    level = target;
    enteredAtMs = t;
  } else if (target < level) {
    const dwell = levelsOf(config.minDwellMs)[level - 1]!;
    if (t - enteredAtMs >= dwell) {
      level -= 1;
      enteredAtMs = t;
    }
    if (level > target) reasons.push({ driver: 'dwell', value: t - enteredAtMs, threshold: levelsOf(config.minDwellMs)[level - 1]!, state: BREAKER_STATES[level]!, known: true });
  }
  const invalid = pv === false;
  const blocked: BlockedActions = {
    openRisk: level >= 2,
    increaseRisk: level >= 2,
    reduceRisk: level === 3 && invalid,
    liquidations: invalid,
    withdrawals: level >= 2,
  };
  return { timeMs: t, state: BREAKER_STATES[level]!, enteredAtMs, reasons, blocked, drivers };
}

/** Runs one market's breaker over a time-ordered series of inputs, from NORMAL; one step per input. */
export function runBreakers(inputs: readonly BreakerInput[], config: BreakerConfig = DEFAULT_BREAKER_CONFIG): BreakerStep[] {
  const out: BreakerStep[] = [];
  let prev: BreakerStep | undefined;
  for (const input of inputs) {
    prev = stepBreaker(prev, input, config);
    out.push(prev);
  }
  return out;
}

/** Time in each state and the number of changes over a run. */
export interface BreakerStats {
  readonly steps: number;
  /** Share of steps in each state (share of time when steps are evenly spaced); zeros for no steps. */
  readonly share: Readonly<Record<BreakerState, number>>;
  /** Changes of state between consecutive steps, and how many of them went up or down. */
  readonly transitions: number;
  readonly escalations: number;
  readonly deescalations: number;
}

/** Share of steps in each state and the number of transitions of a state series (e.g. `runBreakers(...).map(s => s.state)`). */
export function breakerStats(states: readonly BreakerState[]): BreakerStats {
  const counts = [0, 0, 0, 0];
  let escalations = 0;
  let deescalations = 0;
  for (let i = 0; i < states.length; i++) {
    const l = breakerLevel(states[i]!);
    counts[l]!++;
    if (i > 0) {
      const p = breakerLevel(states[i - 1]!);
      if (l > p) escalations++;
      else if (l < p) deescalations++;
    }
  }
  const n = states.length;
  const share = Object.fromEntries(BREAKER_STATES.map((s, i) => [s, n > 0 ? counts[i]! / n : 0])) as Record<BreakerState, number>;
  return { steps: n, share, transitions: escalations + deescalations, escalations, deescalations };
}
