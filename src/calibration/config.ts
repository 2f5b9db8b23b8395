/**
 * The calibration policy's configuration: one zod schema with documented, safe defaults. Ratios are
 * fractions of notional (0.01 = 1 %), times are ms, sizes are USD. Every number a recommendation depends
 * on lives here, so a risk committee can read the whole policy in one place.
 */
import { z } from 'zod';
import { AppError, formatIssues } from '../core/errors.ts';

const HOUR_MS = 3_600_000;
const ratio = z.number().gt(0).lt(1);

const tierSchema = z.object({
  /** Upper bound of the tier's position notional, USD; null for the last (unbounded) tier. */
  maxNotionalUsd: z.number().positive().nullable(),
}).strict();

/** zod schema of {@link PolicyConfig}. */
export const policyConfigSchema = z.object({
  /** One-sided confidence c of the maintenance margin against the maximum adverse excursion over H (PFMI ≥ 0.99). */
  confidence: z.number().gt(0.5).lt(1).default(0.99),
  /** Liquidation horizon H: how long closing a liquidated position takes (the margin period of risk). */
  horizon: z.string().regex(/^\d+[mhd]$/).default('4h'),
  /** Oracle: heartbeat/latency over which the price a margin check sees can lag the market, and observed divergence. */
  oracle: z.object({
    latencyMs: z.number().nonnegative().default(60_000),
    /** Cross-venue divergence added to the buffer when none is measured, bps. */
    divergenceBps: z.number().nonnegative().default(0),
  }).strict().default({ latencyMs: 60_000, divergenceBps: 0 }),
  /** The liquidator's cost: taker fee, market impact of closing, incentive on top. */
  liquidation: z.object({
    feeRatio: z.number().nonnegative().lt(0.05).default(0.0005),
    incentiveRatio: z.number().nonnegative().lt(0.05).default(0.002),
    /** Square-root impact: slippage = impactCoef · σ(1 bar) · √(notional / bar quote volume). */
    impactCoef: z.number().nonnegative().default(1),
    /** Position size whose liquidation cost sets the market-level margin (tier 1 cap), USD. */
    referenceNotionalUsd: z.number().positive().default(100_000),
    /** Share of one bar's volume a liquidation may take before it must be split (close factor < 1). */
    maxParticipation: ratio.default(0.05),
    /** Floor of the close factor. */
    minCloseFactor: ratio.default(0.2),
    /** Penalty must stay below this share of the maintenance margin (Aave LT×LB ≤ 1 analogue). */
    maxPenaltyShareOfMaintenance: ratio.default(0.5),
  }).strict().default({ feeRatio: 0.0005, incentiveRatio: 0.002, impactCoef: 1, referenceNotionalUsd: 100_000, maxParticipation: 0.05, minCloseFactor: 0.2, maxPenaltyShareOfMaintenance: 0.5 }),
  /** Initial margin = maintenance × (1 + this): the room between opening and liquidation (dYdX: MMF = 0.6·IMF → 0.67). */
  initialBufferRatio: z.number().positive().max(4).default(0.5),
  /** Hard bounds of the maintenance margin ratio; the initial margin is capped at 1 (1× leverage). */
  bounds: z.object({
    minMaintenance: ratio.default(0.004),
    maxMaintenance: ratio.default(0.5),
  }).strict().default({ minMaintenance: 0.004, maxMaintenance: 0.5 }),
  /** Leverage tiers by position notional (ascending caps, last one null): each tier's margin adds its own liquidation cost. */
  tiers: z.array(tierSchema).min(1).default([
    { maxNotionalUsd: 100_000 }, { maxNotionalUsd: 1_000_000 }, { maxNotionalUsd: 5_000_000 }, { maxNotionalUsd: 20_000_000 }, { maxNotionalUsd: null },
  ]),
  /**
   * The anticipatory governor (issue 4 items 2–3): APC buffer, floor, steps, delay, notice, hysteresis. Defaults
   * chosen on the 2024–25 backtest of 8 Binance spot markets (bench/results/calibration.json, README): faster
   * steps and a floor at the long-run margin met the coverage, capital and procyclicality targets together;
   * slower ones (4 h delay, ×1.5 steps, 24 h hysteresis) cost 5–10 % more capital at the same coverage.
   */
  governor: z.object({
    /** EMIR Art. 28(a) releasable buffer on top of the risk-based margin (≥ 0.25). */
    apcBuffer: z.number().min(0.25).max(2).default(0.25),
    /** Floor = this × the margin implied by the long-lookback (stressed) volatility. */
    floorFraction: z.number().min(0).max(2).default(1),
    /** Long lookback of the floor's volatility, days (EMIR (c): up to 10 years; limited by the data). */
    floorLookbackDays: z.number().int().min(30).default(730),
    /** Largest increase and decrease per update, relative to the margin in force. */
    maxStepUp: z.number().positive().max(5).default(1),
    maxStepDown: z.number().positive().lt(1).default(0.3),
    /** Minimum time between two changes (Aave steward minDelay), ms. */
    minDelayMs: z.number().nonnegative().default(HOUR_MS),
    /** Notice between announcing an increase and its effective time, ms (decreases take effect at once). */
    noticeMs: z.number().nonnegative().default(HOUR_MS),
    /** Ignore targets within this relative band of the margin in force (no churn). */
    deadband: z.number().min(0).lt(1).default(0.03),
    /** Hysteresis: a decrease needs the target to stay lower for this long, ms. */
    decreaseAfterMs: z.number().nonnegative().default(6 * HOUR_MS),
    /** Spike anticipation: target × (1 + spikeUplift · spike probability). */
    spikeUplift: z.number().min(0).max(5).default(0.5),
    /** Reaction guard: the target is at least this × σ realised over the last H bars (0 disables it). */
    recentMoveWeight: z.number().min(0).max(5).default(1),
  }).strict().default({
    apcBuffer: 0.25, floorFraction: 1, floorLookbackDays: 730, maxStepUp: 1, maxStepDown: 0.3, minDelayMs: HOUR_MS,
    noticeMs: HOUR_MS, deadband: 0.03, decreaseAfterMs: 6 * HOUR_MS, spikeUplift: 0.5, recentMoveWeight: 1,
  }),
  /** Filtered historical simulation: the scale is the c-quantile of realised excursion / forecast σ over this many days of out-of-sample history. */
  scale: z.object({
    lookbackDays: z.number().int().min(30).default(270),
    minObservations: z.number().int().min(50).default(500),
    /** Recalibrate the scale every this many ms. */
    everyMs: z.number().positive().default(7 * 24 * HOUR_MS),
  }).strict().default({ lookbackDays: 270, minObservations: 500, everyMs: 7 * 24 * HOUR_MS }),
}).strict();

/** The calibration policy's configuration (defaults filled in). */
export type PolicyConfig = z.infer<typeof policyConfigSchema>;

/** Parses a policy configuration; the error names every bad field. */
export function parsePolicyConfig(input: unknown, source = 'policy config'): PolicyConfig {
  const r = policyConfigSchema.safeParse(input ?? {});
  if (!r.success) throw new AppError('config', `${source} is invalid: ${formatIssues(r.error.issues)}.`, { context: { source } });
  const tiers = r.data.tiers;
  tiers.forEach((t, i) => {
    const last = i === tiers.length - 1;
    if (last !== (t.maxNotionalUsd === null)) throw new AppError('config', `${source}: tiers[${i}].maxNotionalUsd must be ${last ? 'null (the last tier is unbounded)' : 'a number (only the last tier is unbounded)'}.`);
    const prev = tiers[i - 1]?.maxNotionalUsd;
    if (prev != null && t.maxNotionalUsd !== null && t.maxNotionalUsd <= prev) throw new AppError('config', `${source}: tiers[${i}].maxNotionalUsd ${t.maxNotionalUsd} must exceed the previous tier's ${prev}.`);
  });
  if (r.data.bounds.minMaintenance >= r.data.bounds.maxMaintenance) {
    throw new AppError('config', `${source}: bounds.minMaintenance ${r.data.bounds.minMaintenance} must be below bounds.maxMaintenance ${r.data.bounds.maxMaintenance}.`);
  }
  return r.data;
}

/** The default policy configuration. */
export const DEFAULT_POLICY_CONFIG: PolicyConfig = parsePolicyConfig({});
