/**
 * Inputs of the liquidation simulator (liquidation-sim.ts) and their validation: the bars of one market, the margin
 * schedule of a policy, the synthetic trader population and the market-microstructure knobs. Everything that enters
 * the simulator is checked here once, so the hot loop trusts its inputs.
 */
import { z } from 'zod';
import { AppError, formatIssues } from '../../core/errors.ts';

/** Hourly (or any fixed-cadence) bars of one market as columns, ascending by `timeMs` (bar open time, epoch ms UTC). */
export interface SimBars {
  readonly timeMs: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  /** Traded quote volume of the bar in USD; the liquidity that slippage and cascade impact are measured against. */
  readonly quoteVolumeUsd: Float64Array;
}

/** One parameter change of a margin policy; it applies to bars with open time ≥ `effectiveMs` until the next entry. */
export interface ScheduledParams {
  /** When the change was published (epoch ms); informational: simulated traders do not react to notices. */
  readonly announcedMs: number;
  /** First bar open time (epoch ms) the values apply to. */
  readonly effectiveMs: number;
  /** Liquidatable when equity < maintenanceMarginRatio × notional (fraction of notional). */
  readonly maintenanceMarginRatio: number;
  /** Collateral a new position must post, as a fraction of notional; caps leverage at 1 / initialMarginRatio. */
  readonly initialMarginRatio: number;
  /** Penalty taken from the liquidated position's equity, as a fraction of the closed notional. */
  readonly liquidationPenalty: number;
  /** Share of the position one liquidation closes (1 = full liquidation). */
  readonly closeFactor: number;
}

/** Zod schema of one {@link ScheduledParams} entry, with the cross-field rules (IMR ≥ MMR, notice before effect). */
export const scheduledParamsSchema = z
  .object({
    announcedMs: z.number().finite(),
    effectiveMs: z.number().finite(),
    maintenanceMarginRatio: z.number().gt(0).lt(1),
    initialMarginRatio: z.number().gt(0).max(1),
    liquidationPenalty: z.number().min(0).lt(1),
    closeFactor: z.number().gt(0).max(1),
  })
  .refine((p) => p.initialMarginRatio >= p.maintenanceMarginRatio, { message: 'initialMarginRatio must be ≥ maintenanceMarginRatio', path: ['initialMarginRatio'] })
  .refine((p) => p.announcedMs <= p.effectiveMs, { message: 'announcedMs must be ≤ effectiveMs', path: ['announcedMs'] });

/**
 * The synthetic trader population, with defaults: about 200 new positions a day, half long, leverage log-uniform on
 * [2, 50] (capped at 1 / IMR at open), notional log-normal around $10k, held for an exponential 24 h on average.
 */
export const populationSpecSchema = z.object({
  /** Mean new positions per day (Poisson arrivals, spread evenly over the bars of the day). */
  openPerDay: z.number().finite().min(0).default(200),
  /** Probability that a new position is long. */
  longShare: z.number().min(0).max(1).default(0.5),
  /** Leverage drawn log-uniform on [min, max], then capped at 1 / initialMarginRatio in force at open. */
  leverage: z
    .object({ min: z.number().finite().min(1).default(2), max: z.number().finite().min(1).default(50) })
    .refine((l) => l.min <= l.max, { message: 'leverage.min must be ≤ leverage.max' })
    .prefault({}),
  /** Notional at open in USD: median × exp(sigmaLog × N(0, 1)). */
  notionalUsd: z.object({ median: z.number().finite().positive().default(10_000), sigmaLog: z.number().finite().min(0).default(1.2) }).prefault({}),
  /** Mean of the exponential holding time in hours; a position is closed at the close of the bar its time runs out in. */
  meanLifetimeHours: z.number().finite().positive().default(24),
});

/** A population with every default filled in. */
export type PopulationSpec = z.output<typeof populationSpecSchema>;
/** What callers may pass: any subset of {@link PopulationSpec}. */
export type PopulationSpecInput = z.input<typeof populationSpecSchema>;

/** A position opened at the first simulated bar's open, on top of the random arrivals (e.g. an open-interest snapshot). */
export interface InitialPosition {
  /** +1 long, −1 short. */
  readonly side: 1 | -1;
  readonly notionalUsd: number;
  /** Notional / collateral; capped at 1 / initialMarginRatio like any new position. */
  readonly leverage: number;
  /** Holding time; default: held to the end of the window. */
  readonly lifetimeHours?: number;
}

/** Everything one simulation run needs; see simulateLiquidations for the mechanics. */
export interface SimOptions {
  readonly bars: SimBars;
  /** Parameter changes, ascending by effectiveMs; the first must be in force at the first simulated bar. */
  readonly schedule: readonly ScheduledParams[];
  readonly population: PopulationSpecInput;
  /** Seed of every random draw of the run (arrivals, sides, leverage, size, lifetime). */
  readonly seed: number;
  /** Simulate bars with open time in [fromMs, toMs) (epoch ms); default: all bars. Positions open only inside. */
  readonly fromMs?: number;
  readonly toMs?: number;
  /** True: an MMR increase never makes a position that is healthy at the moment it takes effect liquidatable (ramp). */
  readonly grandfather: boolean;
  /** Execution slippage as a fraction of price = impactCoef × sqrt(closed notional / bar quote volume), capped at 50%. */
  readonly slippage: { readonly impactCoef: number };
  /** Liquidation flow moves the oracle by impactCoef × net liquidated notional / bar quote volume, for up to maxRounds re-checks. */
  readonly cascade: { readonly impactCoef: number; readonly maxRounds: number };
  /** Close 100% at once when equity / notional is below this (Aave's HF < 0.95 analogue); default: never for that reason. */
  readonly fullLiquidationBelowEquityRatio?: number;
  /** Close 100% when a partial close would leave less notional than this, in USD (Aave MIN_LEFTOVER_BASE); default 1000. */
  readonly minRemainderNotionalUsd?: number;
  readonly initialPositions?: readonly InitialPosition[];
  /**
   * Periods [fromMs, toMs) in which opening new positions is refused (a circuit breaker in REDUCE_ONLY or HALT). The
   * random draws of refused arrivals are still made, so the rest of the population is the same as without halts.
   */
  readonly openingHalts?: readonly { readonly fromMs: number; readonly toMs: number }[];
}

/** Default of {@link SimOptions.minRemainderNotionalUsd}, USD (Aave v3.3 MIN_LEFTOVER_BASE). */
export const DEFAULT_MIN_REMAINDER_NOTIONAL_USD = 1000;

const knobsSchema = z.object({
  seed: z.number().int(),
  fromMs: z.number().optional(),
  toMs: z.number().optional(),
  grandfather: z.boolean(),
  slippage: z.object({ impactCoef: z.number().finite().min(0) }),
  cascade: z.object({ impactCoef: z.number().finite().min(0), maxRounds: z.number().int().min(0).max(100) }),
  fullLiquidationBelowEquityRatio: z.number().min(0).max(1).optional(),
  minRemainderNotionalUsd: z.number().finite().min(0).optional(),
  openingHalts: z.array(z.object({ fromMs: z.number().finite(), toMs: z.number().finite() }).refine((h) => h.fromMs < h.toMs, { message: 'fromMs must be before toMs' })).optional(),
  initialPositions: z
    .array(z.object({
      side: z.union([z.literal(1), z.literal(-1)]), notionalUsd: z.number().finite().positive(), leverage: z.number().finite().min(1),
      lifetimeHours: z.number().positive().optional(),
    }))
    .optional(),
});

/** The schedule as parallel columns, for the hot loop. */
export interface ScheduleColumns {
  readonly effectiveMs: Float64Array;
  readonly mmr: Float64Array;
  readonly imr: Float64Array;
  readonly penalty: Float64Array;
  readonly closeFactor: Float64Array;
}

/** Options after validation: population defaults filled, schedule as columns, simulated bar range resolved. */
export interface ParsedSimOptions {
  readonly bars: SimBars;
  readonly schedule: ScheduleColumns;
  readonly population: PopulationSpec;
  /** First and last simulated bar indices (inclusive); `last < first` when the window holds no bar. */
  readonly first: number;
  readonly last: number;
  /** Smallest spacing between bar opens, ms: the bar length used for arrivals and the last bar's end. */
  readonly barMs: number;
  readonly grandfather: boolean;
  readonly slippageCoef: number;
  readonly cascadeCoef: number;
  readonly cascadeRounds: number;
  readonly fullBelow: number;
  readonly minRemainderUsd: number;
  readonly initialPositions: readonly InitialPosition[];
  /** Opening halts sorted by start. */
  readonly openingHalts: readonly { readonly fromMs: number; readonly toMs: number }[];
}

function configError(what: string, issues: readonly { path: readonly PropertyKey[]; message: string }[]): AppError {
  return new AppError('config', `The liquidation simulator's ${what} is invalid (${formatIssues(issues)}); fix these fields and run again.`);
}

/** Validates the seed-independent options once (bars, schedule, population, knobs); throws `config` or `dataQuality` AppErrors. */
export function parseSimOptions(opts: Omit<SimOptions, 'seed'> & { readonly seed?: number }): ParsedSimOptions {
  const knobs = knobsSchema.safeParse({ ...opts, seed: opts.seed ?? 0 });
  if (!knobs.success) throw configError('options', knobs.error.issues);
  const population = populationSpecSchema.safeParse(opts.population);
  if (!population.success) throw configError('population', population.error.issues);
  const schedule = parseSchedule(opts.schedule);
  const bars = opts.bars;
  const n = checkBars(bars);
  const from = opts.fromMs ?? -Infinity;
  const to = opts.toMs ?? Infinity;
  let first = 0;
  while (first < n && bars.timeMs[first]! < from) first++;
  let last = n - 1;
  while (last >= first && bars.timeMs[last]! >= to) last--;
  if (last >= first && schedule.effectiveMs[0]! > bars.timeMs[first]!) {
    throw new AppError(
      'config',
      `No margin schedule entry is in force at the first simulated bar (${new Date(bars.timeMs[first]!).toISOString()}); the first entry takes ` +
        `effect at ${new Date(schedule.effectiveMs[0]!).toISOString()}. Start the schedule at or before fromMs.`,
    );
  }
  let barMs = Infinity;
  for (let i = 1; i < n; i++) barMs = Math.min(barMs, bars.timeMs[i]! - bars.timeMs[i - 1]!);
  if (!Number.isFinite(barMs)) barMs = 3_600_000;
  const k = knobs.data;
  return {
    bars, schedule, population: population.data, first, last, barMs, grandfather: k.grandfather,
    slippageCoef: k.slippage.impactCoef, cascadeCoef: k.cascade.impactCoef, cascadeRounds: k.cascade.maxRounds,
    fullBelow: k.fullLiquidationBelowEquityRatio ?? 0, minRemainderUsd: k.minRemainderNotionalUsd ?? DEFAULT_MIN_REMAINDER_NOTIONAL_USD,
    initialPositions: k.initialPositions ?? [],
    openingHalts: [...(k.openingHalts ?? [])].sort((a, b) => a.fromMs - b.fromMs),
  };
}

function parseSchedule(schedule: readonly ScheduledParams[]): ScheduleColumns {
  if (schedule.length === 0) throw new AppError('config', 'The margin schedule is empty; pass at least one ScheduledParams entry in force at the first bar.');
  const m = schedule.length;
  const cols: ScheduleColumns = {
    effectiveMs: new Float64Array(m), mmr: new Float64Array(m), imr: new Float64Array(m), penalty: new Float64Array(m), closeFactor: new Float64Array(m),
  };
  schedule.forEach((entry, j) => {
    const r = scheduledParamsSchema.safeParse(entry);
    if (!r.success) throw configError(`schedule entry ${j}`, r.error.issues);
    if (j > 0 && r.data.effectiveMs <= cols.effectiveMs[j - 1]!) {
      throw new AppError(
        'config',
        `Schedule entry ${j} takes effect at ${r.data.effectiveMs}, not after entry ${j - 1} (${cols.effectiveMs[j - 1]}); sort the schedule by effectiveMs and merge entries with equal times.`,
      );
    }
    cols.effectiveMs[j] = r.data.effectiveMs;
    cols.mmr[j] = r.data.maintenanceMarginRatio;
    cols.imr[j] = r.data.initialMarginRatio;
    cols.penalty[j] = r.data.liquidationPenalty;
    cols.closeFactor[j] = r.data.closeFactor;
  });
  return cols;
}

/** Checks column lengths, ascending open times and positive finite prices; returns the bar count. */
function checkBars(bars: SimBars): number {
  const n = bars.timeMs.length;
  for (const [name, col] of Object.entries({ open: bars.open, high: bars.high, low: bars.low, close: bars.close, quoteVolumeUsd: bars.quoteVolumeUsd })) {
    if (col.length !== n) throw new AppError('dataQuality', `Bar column ${name} has ${col.length} values but timeMs has ${n}; pass columns of one length.`);
  }
  for (let i = 0; i < n; i++) {
    if (i > 0 && !(bars.timeMs[i]! > bars.timeMs[i - 1]!)) {
      throw new AppError(
        'dataQuality', `Bar open times must ascend strictly, but bar ${i} (${bars.timeMs[i]}) follows ${bars.timeMs[i - 1]}; sort and de-duplicate the bars.`,
      );
    }
    const o = bars.open[i]!; const h = bars.high[i]!; const l = bars.low[i]!; const c = bars.close[i]!;
    if (!(o > 0 && h > 0 && l > 0 && c > 0) || !Number.isFinite(o + h + l + c)) {
      throw new AppError(
        'dataQuality', `Bar ${i} (${bars.timeMs[i]}) has a non-positive or non-finite price (o=${o} h=${h} l=${l} c=${c}); drop or repair it before simulating.`,
      );
    }
  }
  return n;
}
