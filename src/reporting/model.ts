/**
 * The report model of a run (issue 6 item 3): pure, JSON-serialisable data that every renderer (Markdown, HTML,
 * JSON, PNG charts) reads, defined once in zod so a stored model is validated when it is loaded again. Numbers
 * that are not finite (NaN, ±∞) are stored as null; times are ISO-8601 UTC strings unless a field ends in `Ms`
 * (epoch milliseconds, UTC). Ratios are fractions of notional (0.01 = 1 %), `oracleLatencyBufferBps` is in basis
 * points and `maxLeverage` is a multiple.
 */
import { z } from 'zod';
import { SCALAR_UPDATE_TYPES, LeverageTierSchema, UPDATE_TYPES } from '../params/record.ts';

/** The version of the model layout; bumped on any incompatible change. */
export const REPORT_MODEL_VERSION = 1;

/** Maximum points per line in the chart series the model carries (longer histories are downsampled). */
export const MAX_POINTS_PER_SERIES = 2000;

const Num = z.number().nullable().describe('A finite number, or null where it is not known (NaN).');
const BREAKER = z.enum(['NORMAL', 'CAUTION', 'REDUCE_ONLY', 'HALT']);

/** What became of one proposed update in the parameter store. */
export const OutcomeSchema = z.strictObject({
  status: z.enum(['published', 'held', 'refused', 'not proposed', 'not published']),
  updateId: z.number().int().nullable(),
  /** The rule (refused), the reason (held) or the version (published). */
  detail: z.string().nullable(),
});
/** What became of one proposed update. */
export type Outcome = z.infer<typeof OutcomeSchema>;

/** One scalar parameter of a market: live value before the run vs recommendation, the change and its reason. */
export const ParameterRowSchema = z.strictObject({
  parameter: z.enum(SCALAR_UPDATE_TYPES),
  unit: z.enum(['fraction', 'bps', 'x']),
  previous: Num,
  recommended: Num,
  /** recommended − previous, in the parameter's unit (null when there is no previous value). */
  delta: Num,
  /** delta / previous (null when there is no previous value or it is 0). */
  relative: Num,
  reason: z.string(),
  drivers: z.record(z.string(), Num),
  clippedBy: z.array(z.string()),
  outcome: OutcomeSchema,
});
/** One scalar parameter row. */
export type ParameterRow = z.infer<typeof ParameterRowSchema>;

/** One circuit-breaker reason: the driver, its value, the threshold holding the state, and whether it was observed. */
export const BreakerReasonSchema = z.strictObject({ driver: z.string(), value: Num, threshold: Num, state: BREAKER, known: z.boolean(), text: z.string() });

/** Everything the report says about one market. */
export const MarketSectionSchema = z.strictObject({
  market: z.string(),
  asOf: z.string(),
  policy: z.string(),
  forecast: z.strictObject({ model: z.string().nullable(), sigmaH: Num, spikeProb: Num, horizon: z.string() }),
  parameters: z.array(ParameterRowSchema),
  leverageTiers: z.strictObject({ previous: z.array(LeverageTierSchema).nullable(), recommended: z.array(LeverageTierSchema), changed: z.boolean(), outcome: OutcomeSchema }),
  circuitBreaker: z.strictObject({
    previous: BREAKER.nullable(), state: BREAKER, reasons: z.array(BreakerReasonSchema),
    blocked: z.array(z.string()), outcome: OutcomeSchema,
  }),
  /** The maintenance margin the policy has in force and the step its governor announces (null: none). */
  governor: z.strictObject({
    inForce: Num,
    change: z.strictObject({ from: Num, to: Num, announcedAt: z.string(), effectiveAt: z.string() }).nullable(),
  }),
  /** Coverage of the policy over the calibration window (out of sample, non-overlapping horizons). */
  coverage: z.strictObject({ observations: z.number(), breaches: z.number(), breachRate: Num, expectedRate: z.number(), kupiecP: Num }),
});
/** One market's section. */
export type MarketSection = z.infer<typeof MarketSectionSchema>;

/** One row of the policy comparison (the backtest's pooled or per-market row). */
export const PolicyRowSchema = z.strictObject({
  policy: z.string(),
  symbol: z.string(),
  observations: z.number(),
  breaches: z.number(),
  breachRate: Num,
  kupiecP: Num,
  christoffersenP: Num,
  baselZone: z.enum(['green', 'yellow', 'red']),
  meanMarginRatio: Num,
  maxIncrease30d: Num,
  peakToTrough: Num,
  changes: z.number(),
  badDebtUsd: Num,
  liquidations: Num,
  healthyLiquidatedByChange: z.number(),
});
/** One row of the policy comparison. */
export type PolicyRow = z.infer<typeof PolicyRowSchema>;

/** The backtest's policy comparison, when the run made one. */
export const BacktestSectionSchema = z.strictObject({
  from: z.string(), to: z.string(), confidence: z.number(), horizon: z.string(), symbols: z.array(z.string()),
  folds: z.number(), seed: z.number(), episodes: z.array(z.strictObject({ name: z.string(), from: z.string(), to: z.string() })),
  pooled: z.array(PolicyRowSchema),
  perMarket: z.array(PolicyRowSchema),
});
/** The policy comparison. */
export type BacktestSection = z.infer<typeof BacktestSectionSchema>;

/** A market's downsampled history for the charts: one entry per kept decision instant (epoch ms, bar close). */
export const ChartSeriesSchema = z.strictObject({
  market: z.string(),
  /** Decision instants in the full history before downsampling. */
  sourcePoints: z.number().int(),
  timeMs: z.array(z.number()),
  sigmaH: z.array(Num),
  realisedSigmaH: z.array(Num),
  margin: z.array(Num),
  /** Decision instants whose excursion plus liquidation cost breached the margin (all of them, never downsampled). */
  breachTimeMs: z.array(z.number()),
  breachMargin: z.array(Num),
  spikeProb: z.array(Num),
  /** Runs of one circuit-breaker state: [fromMs, toMs) and the state. */
  breakerBands: z.array(z.strictObject({ fromMs: z.number(), toMs: z.number(), state: BREAKER })),
});
/** A market's chart series. */
export type ChartSeries = z.infer<typeof ChartSeriesSchema>;

/** What the run proposed, published, held back and refused, by (market, update type). */
export const PublicationSchema = z.strictObject({
  proposed: z.number().int(),
  published: z.array(z.strictObject({ updateId: z.number().int(), market: z.string(), updateType: z.enum(UPDATE_TYPES), version: z.number().int().nullable() })),
  held: z.array(z.strictObject({ updateId: z.number().int(), market: z.string().nullable(), updateType: z.string().nullable(), reason: z.string() })),
  refused: z.array(z.strictObject({ updateId: z.number().int(), market: z.string().nullable(), updateType: z.string().nullable(), rule: z.string(), message: z.string() })),
});
/** The publication outcome. */
export type Publication = z.infer<typeof PublicationSchema>;

/** The report model of one run. */
export const ReportModelSchema = z.strictObject({
  version: z.literal(REPORT_MODEL_VERSION),
  run: z.strictObject({
    id: z.string(), pipeline: z.string().nullable(), status: z.string(), startedAt: z.string(), endedAt: z.string().nullable(),
    configHash: z.string().nullable(), gitSha: z.string().nullable(), seed: z.number().nullable(), dataWatermark: z.string().nullable(),
  }),
  policy: z.strictObject({
    name: z.string(), model: z.string().nullable(), confidence: z.number(), horizon: z.string(), interval: z.string(), venue: z.string(),
  }),
  /** A few plain sentences: what changed, what was published, what the validation says. */
  summary: z.array(z.string()),
  markets: z.array(MarketSectionSchema),
  publication: PublicationSchema.nullable(),
  backtest: BacktestSectionSchema.nullable(),
  /** The trade-off against the alternative policies in plain sentences, computed from the backtest numbers. */
  tradeoffs: z.array(z.string()),
  series: z.array(ChartSeriesSchema),
});
/** The report model of one run. */
export type ReportModel = z.infer<typeof ReportModelSchema>;
