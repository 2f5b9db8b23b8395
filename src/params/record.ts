/**
 * The parameter-update record, defined once in zod: the TypeScript types are inferred from these schemas and the
 * JSON Schema (`liqcal params schema`) is generated from them. It mirrors the Chaos Labs RiskOracle
 * `RiskParameterUpdate` struct (updateId, market, updateType, newValue, previousValue, referenceId, timestamp,
 * additionalData) and adds the lifecycle liqcal needs: proposed → approved → published → superseded | expired,
 * or rejected | disabled. All times are epoch milliseconds (UTC).
 */
import { z } from 'zod';
import { AppError, formatIssues } from '../core/errors.ts';
import { SAFE_NAME } from '../core/terminal.ts';

/** The update types whose value is one number. */
export const SCALAR_UPDATE_TYPES = [
  'maintenanceMarginRatio',
  'initialMarginRatio',
  'liquidationPenalty',
  'oracleLatencyBufferBps',
  'closeFactor',
  'maxLeverage',
] as const;

/** Every update type liqcal publishes (the RiskOracle `updateType` whitelist). */
export const UPDATE_TYPES = [...SCALAR_UPDATE_TYPES, 'leverageTiers', 'circuitBreaker'] as const;

/** One update type. */
export type UpdateType = (typeof UPDATE_TYPES)[number];

/** An update type whose value is one number. */
export type ScalarUpdateType = (typeof SCALAR_UPDATE_TYPES)[number];

/** True when `t` is a scalar update type. */
export function isScalarType(t: UpdateType): t is ScalarUpdateType {
  return (SCALAR_UPDATE_TYPES as readonly string[]).includes(t);
}

/** Lifecycle states. `superseded`, `expired`, `rejected` and `disabled` are terminal. */
export const UPDATE_STATES = ['proposed', 'approved', 'published', 'superseded', 'expired', 'rejected', 'disabled'] as const;

/** One lifecycle state. */
export type UpdateState = (typeof UPDATE_STATES)[number];

/** The allowed state transitions (the SQLite schema enforces the same table with a trigger). */
export const TRANSITIONS: Readonly<Record<UpdateState, readonly UpdateState[]>> = {
  proposed: ['approved', 'rejected', 'disabled', 'expired'],
  approved: ['published', 'rejected', 'disabled', 'expired'],
  published: ['superseded', 'expired', 'disabled'],
  superseded: [],
  expired: [],
  rejected: [],
  disabled: [],
};

/** Circuit-breaker states, from least to most restrictive. */
export const CIRCUIT_BREAKER_STATES = ['NORMAL', 'CAUTION', 'REDUCE_ONLY', 'HALT'] as const;

/** The update-type schema. */
export const UpdateTypeSchema = z.enum(UPDATE_TYPES);
/** The state schema. */
export const UpdateStateSchema = z.enum(UPDATE_STATES);

/** A scalar value (ratio, bps or leverage multiple). Ranges are policy and live in the guard rails, not here. */
export const ScalarValueSchema = z.number().describe('A finite number in the unit of its update type (ratios as fractions, bps, leverage multiples).');

/** One leverage tier: applies to positions with notional up to `maxNotionalUsd` (null = unbounded, last tier only). */
export const LeverageTierSchema = z.strictObject({
  maxNotionalUsd: z.number().positive().nullable(),
  maintenanceMarginRatio: z.number(),
  initialMarginRatio: z.number(),
  maxLeverage: z.number(),
});
/** One leverage tier. */
export type LeverageTier = z.infer<typeof LeverageTierSchema>;

/** A leverage-tier table, ordered by ascending `maxNotionalUsd`. */
export const LeverageTiersSchema = z.array(LeverageTierSchema).min(1);

/** A circuit-breaker value: the state and why. */
export const CircuitBreakerValueSchema = z.strictObject({
  state: z.enum(CIRCUIT_BREAKER_STATES),
  reasons: z.array(z.string()),
});
/** A circuit-breaker value. */
export type CircuitBreakerValue = z.infer<typeof CircuitBreakerValueSchema>;

/** The value schema of each update type. */
export const VALUE_SCHEMAS = {
  maintenanceMarginRatio: ScalarValueSchema,
  initialMarginRatio: ScalarValueSchema,
  liquidationPenalty: ScalarValueSchema,
  oracleLatencyBufferBps: ScalarValueSchema,
  closeFactor: ScalarValueSchema,
  maxLeverage: ScalarValueSchema,
  leverageTiers: LeverageTiersSchema,
  circuitBreaker: CircuitBreakerValueSchema,
} as const satisfies Record<UpdateType, z.ZodType>;

/** Any parameter value. */
export type ParamValue = number | LeverageTier[] | CircuitBreakerValue;

/** Why a proposal was refused: the rail, a sentence, and the numbers that refused it. */
export const RejectionSchema = z.strictObject({
  rule: z.string(),
  message: z.string(),
  values: z.record(z.string(), z.unknown()),
});
/** A refusal. */
export type Rejection = z.infer<typeof RejectionSchema>;

/** Free-form context of a recommendation; the known keys are typed. */
export const AdditionalDataSchema = z.looseObject({
  modelVersion: z.string().optional(),
  forecast: z.unknown().optional(),
  confidence: z.number().optional(),
  rationale: z.string().optional(),
  clippedBy: z.array(z.string()).optional(),
  runId: z.string().optional(),
});
/** Free-form context of a recommendation. */
export type AdditionalData = z.infer<typeof AdditionalDataSchema>;

const EpochMs = z.number().int().nonnegative().describe('epoch milliseconds, UTC');

/** The latest instant a proposal may name, in epoch ms: 9999-12-31T23:59:59.999Z (beyond it a value is not a date at all). */
export const MAX_EPOCH_MS = 253_402_300_799_999;

const RecordBase = z.strictObject({
  updateId: z.number().int().positive().describe('Global, monotonic, never reused.'),
  market: z.string().min(1).max(64),
  referenceId: z.string().nullable().describe('The run or report this recommendation comes from.'),
  timestamp: EpochMs.describe('When the proposal was made (epoch ms).'),
  expiresAt: EpochMs.describe('After this instant the update must not be applied (default timestamp + 6 h).'),
  additionalData: AdditionalDataSchema,
  state: UpdateStateSchema,
  idempotencyKey: z.string().min(1),
  baseVersion: z.number().int().nonnegative().describe('The (market, type) version live when proposed; publishing supersedes exactly this version.'),
  version: z.number().int().positive().nullable().describe('Per (market, type) publish sequence, set when published.'),
  publishSeq: z.number().int().positive().nullable().describe('Global publish sequence in commit order; the watch cursor.'),
  approvedBy: z.string().nullable(),
  approvedAt: EpochMs.nullable(),
  publishedAt: EpochMs.nullable(),
  rejection: RejectionSchema.nullable(),
  stateChangedAt: EpochMs,
});

function variant<T extends UpdateType>(type: T) {
  const v = VALUE_SCHEMAS[type];
  return RecordBase.extend({
    updateType: z.literal(type),
    newValue: v as (typeof VALUE_SCHEMAS)[T],
    previousValue: (v as (typeof VALUE_SCHEMAS)[T]).nullable().describe('The live value when proposed (the published head or the venue value); null if none was known.'),
  });
}

/** The stored update record, one variant per update type (newValue and previousValue typed by updateType). */
export const UpdateRecordSchema = z.discriminatedUnion('updateType', [
  variant('maintenanceMarginRatio'),
  variant('initialMarginRatio'),
  variant('liquidationPenalty'),
  variant('oracleLatencyBufferBps'),
  variant('closeFactor'),
  variant('maxLeverage'),
  variant('leverageTiers'),
  variant('circuitBreaker'),
]);
/** The stored update record. */
export type UpdateRecord = z.infer<typeof UpdateRecordSchema>;

/** The most JSON a proposal's `additionalData` may carry, in bytes of UTF-8 (64 KiB). */
export const MAX_ADDITIONAL_DATA_BYTES = 65_536;
/** The longest `referenceId`, in characters. */
export const MAX_REFERENCE_ID_CHARS = 256;

const DraftBase = z.strictObject({
  market: z.string().regex(SAFE_NAME, 'a market name is 1–64 ASCII letters, digits and . _ - / : starting with a letter or digit (e.g. BTCUSDT, BTC-USDT-SWAP)'),
  referenceId: z.string().min(1).max(MAX_REFERENCE_ID_CHARS).regex(/^[\x20-\x7e]+$/, 'a referenceId is printable ASCII (a run id, a report path or URL), no control characters')
    .describe(`The run or report the proposal comes from: printable ASCII, at most ${MAX_REFERENCE_ID_CHARS} characters.`).optional(),
  additionalData: AdditionalDataSchema.refine((d) => Buffer.byteLength(JSON.stringify(d), 'utf8') <= MAX_ADDITIONAL_DATA_BYTES, `additionalData must be at most ${MAX_ADDITIONAL_DATA_BYTES} bytes of JSON`).optional(),
  idempotencyKey: z.string().min(1).optional(),
  expiresAt: z.number().int().nonnegative().max(MAX_EPOCH_MS, `must be an instant in epoch ms no later than ${MAX_EPOCH_MS} (9999-12-31T23:59:59.999Z)`)
    .describe('When the update must no longer be applied (epoch ms, UTC); default timestamp + the rails\' ttlMs. The rails refuse one in the past or beyond timestamp + maxTtlMs of the type (default 6 h).').optional(),
});

function draftVariant<T extends UpdateType>(type: T) {
  const v = VALUE_SCHEMAS[type] as (typeof VALUE_SCHEMAS)[T];
  return DraftBase.extend({
    updateType: z.literal(type),
    newValue: v,
    previousValue: v.optional().describe('The live value read from the venue, if the caller has it; else the published head is used.'),
  });
}

/** A proposal as callers submit it (`params propose --file`): market, type, value and optional context. */
export const ProposalDraftSchema = z.discriminatedUnion('updateType', [
  draftVariant('maintenanceMarginRatio'),
  draftVariant('initialMarginRatio'),
  draftVariant('liquidationPenalty'),
  draftVariant('oracleLatencyBufferBps'),
  draftVariant('closeFactor'),
  draftVariant('maxLeverage'),
  draftVariant('leverageTiers'),
  draftVariant('circuitBreaker'),
]);
/** A proposal as callers submit it. */
export type ProposalDraft = z.infer<typeof ProposalDraftSchema>;

/** A JSON array of drafts (the `--file` of `params propose`). */
export const ProposalDraftsSchema = z.array(ProposalDraftSchema);

/** Default lifetime of an update: 6 h after its timestamp (Aave injector `EXPIRATION_PERIOD`). */
export const DEFAULT_TTL_MS = 6 * 3_600_000;

/** Parses a stored or received record, or throws a `schema` AppError naming the bad fields. */
export function parseUpdateRecord(x: unknown, where = 'update record'): UpdateRecord {
  const r = UpdateRecordSchema.safeParse(x);
  if (!r.success) throw new AppError('schema', `The ${where} is malformed: ${formatIssues(r.error.issues)}. The store may be damaged or written by another version.`, { context: { where } });
  return r.data;
}

/** Parses drafts (e.g. a `--file` JSON array), or throws a `config` AppError naming the bad fields. */
export function parseDrafts(x: unknown, where = 'proposal file'): ProposalDraft[] {
  const r = ProposalDraftsSchema.safeParse(x);
  if (!r.success) throw new AppError('config', `The ${where} is not a valid array of proposals: ${formatIssues(r.error.issues)}. Each item needs market, updateType and a newValue of that type.`, { context: { where } });
  return r.data;
}

/** Parses a value for `type`, or throws a `schema` AppError. */
export function parseValue<T extends UpdateType>(type: T, x: unknown): z.infer<(typeof VALUE_SCHEMAS)[T]> {
  const r = VALUE_SCHEMAS[type].safeParse(x);
  if (!r.success) throw new AppError('schema', `The value for ${type} is malformed: ${formatIssues(r.error.issues)}.`, { context: { type } });
  return r.data as z.infer<(typeof VALUE_SCHEMAS)[T]>;
}

/** True when an update is past its expiry at `nowMs` (the injector gate `timestamp + EXPIRATION_PERIOD > now`). */
export function isExpired(r: Pick<UpdateRecord, 'expiresAt'>, nowMs: number): boolean {
  return nowMs >= r.expiresAt;
}

/** JSON with sorted object keys: equal values give equal strings (idempotency keys, value comparison). */
export function canonicalJson(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v));
}
