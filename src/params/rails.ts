/**
 * Guard rails for parameter updates, per update type, from a zod-validated config with safe defaults. Modelled on
 * Aave's `RiskParamConfig{minDelay, maxPercentChange, isChangeRelative}` and injector gates (expiry, market allowlist,
 * pause, disable): see shared/docs/DOMAIN.md §A2. Pure: every check takes the time and the live values as inputs.
 */
import { z } from 'zod';
import { AppError, formatIssues } from '../core/errors.ts';
import { iso } from '../core/time.ts';
import {
  canonicalJson, CIRCUIT_BREAKER_STATES, DEFAULT_TTL_MS, isScalarType, UPDATE_TYPES,
  type CircuitBreakerValue, type LeverageTier, type ParamValue, type Rejection, type ScalarUpdateType, type UpdateType,
} from './record.ts';

/** Maximum change per update: `relative` limits |to − from| to `limit`·|from| (impossible from 0); `absolute` to `limit` in the value's unit. */
export const MaxChangeSchema = z.strictObject({ mode: z.enum(['relative', 'absolute']), limit: z.number().positive() });
/** Maximum change per update. */
export type MaxChange = z.infer<typeof MaxChangeSchema>;

/** The longest lifetime any rails may give an update (30 days, in ms): even the loosest rails cannot make a value live for ever. */
export const MAX_LIFETIME_LIMIT_MS = 30 * 24 * 3_600_000;

/** Debounce between published updates of one (market, type), in ms. */
const MinDelayMs = z.number().int().nonnegative().max(MAX_LIFETIME_LIMIT_MS).describe('Minimum delay between published updates of one (market, type), in ms.');
/** Maximum lifetime of an update of the type: `expiresAt − timestamp` may not exceed it, in ms. */
const MaxTtlMs = z.number().int().positive().max(MAX_LIFETIME_LIMIT_MS).describe('Maximum lifetime of an update (expiresAt − timestamp), in ms.');

/** Rails of a scalar type: debounce (ms), max change (null = unlimited), hard bounds [min, max], zero allowed, auto-approvable, max lifetime (ms). */
export const ScalarRailSchema = z.strictObject({
  minDelayMs: MinDelayMs,
  maxChange: MaxChangeSchema.nullable(),
  min: z.number(),
  max: z.number(),
  allowZero: z.boolean(),
  autoApprove: z.boolean(),
  maxTtlMs: MaxTtlMs,
});
/** Rails of a scalar type. */
export type ScalarRail = z.infer<typeof ScalarRailSchema>;

/** Rails of the leverage-tier table: ratio bounds, leverage bounds, tier count, max change of each ratio at any notional, max lifetime (ms). */
export const TiersRailSchema = z.strictObject({
  minDelayMs: MinDelayMs,
  maxChange: MaxChangeSchema.nullable(),
  minRatio: z.number().positive(),
  maxRatio: z.number().max(1),
  minLeverage: z.number().min(1),
  maxLeverage: z.number().min(1),
  maxTiers: z.number().int().positive(),
  autoApprove: z.boolean(),
  maxTtlMs: MaxTtlMs,
});
/** Rails of the leverage-tier table. */
export type TiersRail = z.infer<typeof TiersRailSchema>;

/** Rails of the circuit breaker: debounce, auto-approval, whether a move to a less restrictive state may be auto-approved, max lifetime (ms). */
export const BreakerRailSchema = z.strictObject({
  minDelayMs: MinDelayMs,
  autoApprove: z.boolean(),
  autoApproveDeescalation: z.boolean(),
  requireReasons: z.boolean(),
  maxTtlMs: MaxTtlMs,
});
/** Rails of the circuit breaker. */
export type BreakerRail = z.infer<typeof BreakerRailSchema>;

const H = 3_600_000;
/**
 * Safe defaults. Ratios are fractions (0.01 = 1 percentage point). Debounce 1 h for margins (Aave uses 1–3 days for
 * rates and caps; liqcal recalibrates hourly); absolute steps as Aave does for LTV/LT/LB; maxLeverage relative ±25%;
 * zero refused except for the latency buffer; the breaker may escalate at once but a person approves de-escalation;
 * every update lives at most 6 h (Aave's injector expiry).
 */
export const DEFAULT_RAILS = {
  markets: null as string[] | null,
  ttlMs: DEFAULT_TTL_MS,
  types: {
    maintenanceMarginRatio: { minDelayMs: H, maxChange: { mode: 'absolute', limit: 0.01 }, min: 0.001, max: 0.5, allowZero: false, autoApprove: true, maxTtlMs: DEFAULT_TTL_MS },
    initialMarginRatio: { minDelayMs: H, maxChange: { mode: 'absolute', limit: 0.02 }, min: 0.002, max: 1, allowZero: false, autoApprove: true, maxTtlMs: DEFAULT_TTL_MS },
    liquidationPenalty: { minDelayMs: H, maxChange: { mode: 'absolute', limit: 0.005 }, min: 0.0005, max: 0.2, allowZero: false, autoApprove: true, maxTtlMs: DEFAULT_TTL_MS },
    oracleLatencyBufferBps: { minDelayMs: H, maxChange: { mode: 'absolute', limit: 25 }, min: 0, max: 1000, allowZero: true, autoApprove: true, maxTtlMs: DEFAULT_TTL_MS },
    closeFactor: { minDelayMs: H, maxChange: { mode: 'absolute', limit: 0.25 }, min: 0.05, max: 1, allowZero: false, autoApprove: true, maxTtlMs: DEFAULT_TTL_MS },
    maxLeverage: { minDelayMs: H, maxChange: { mode: 'relative', limit: 0.25 }, min: 1, max: 125, allowZero: false, autoApprove: true, maxTtlMs: DEFAULT_TTL_MS },
    leverageTiers: { minDelayMs: H, maxChange: { mode: 'absolute', limit: 0.01 }, minRatio: 0.001, maxRatio: 1, minLeverage: 1, maxLeverage: 125, maxTiers: 20, autoApprove: true, maxTtlMs: DEFAULT_TTL_MS },
    circuitBreaker: { minDelayMs: 0, autoApprove: true, autoApproveDeescalation: false, requireReasons: true, maxTtlMs: DEFAULT_TTL_MS },
  },
} satisfies { markets: string[] | null; ttlMs: number; types: Record<ScalarUpdateType, ScalarRail> & { leverageTiers: TiersRail; circuitBreaker: BreakerRail } };

const TtlMs = z.number().int().positive().max(MAX_LIFETIME_LIMIT_MS).describe('Default lifetime of an update after its timestamp, in ms (capped by the type\'s maxTtlMs).');
const Markets = z.array(z.string().min(1)).nullable().describe('Markets allowed to publish; null = any.');

/** The full rails config. */
export const RailsConfigSchema = z.strictObject({
  markets: Markets,
  ttlMs: TtlMs,
  types: z.strictObject({
    ...Object.fromEntries(UPDATE_TYPES.filter(isScalarType).map((t) => [t, ScalarRailSchema])) as Record<ScalarUpdateType, typeof ScalarRailSchema>,
    leverageTiers: TiersRailSchema,
    circuitBreaker: BreakerRailSchema,
  }),
});
/** The full rails config. */
export type RailsConfig = z.infer<typeof RailsConfigSchema>;

/** Any subset of a rails config (a rails file, a pipeline's `params.rails`, a per-command `--rails` override). */
export const RailsOverrideSchema = z.strictObject({
  markets: Markets.optional(),
  ttlMs: TtlMs.optional(),
  types: z.strictObject({
    ...Object.fromEntries(UPDATE_TYPES.filter(isScalarType).map((t) => [t, ScalarRailSchema.partial().optional()])) as Record<ScalarUpdateType, z.ZodOptional<ReturnType<typeof ScalarRailSchema.partial>>>,
    leverageTiers: TiersRailSchema.partial().optional(),
    circuitBreaker: BreakerRailSchema.partial().optional(),
  }).optional(),
});
/** Any subset of a rails config; a full {@link RailsConfig} is one too. */
export type RailsOverride = z.infer<typeof RailsOverrideSchema>;

/** Checks a rails subset (e.g. a `--rails` file) without merging it; throws a `config` AppError naming bad fields. */
export function parseRailsOverride(x: unknown = {}, where = 'rails config'): RailsOverride {
  const o = RailsOverrideSchema.safeParse(x);
  if (!o.success) throw new AppError('config', `The ${where} is invalid: ${formatIssues(o.error.issues)}. See DEFAULT_RAILS in src/params/rails.ts for the fields.`, { context: { where } });
  return o.data;
}

/** Merges a checked subset over `base` (field by field; a given `maxChange` replaces the base's whole) and checks the result (min ≤ max). */
export function applyRailsOverride(base: RailsConfig, o: RailsOverride, where = 'rails config'): RailsConfig {
  const types = Object.fromEntries(UPDATE_TYPES.map((t) => [t, { ...base.types[t], ...(o.types?.[t] ?? {}) }]));
  const merged = RailsConfigSchema.parse({ markets: o.markets === undefined ? base.markets : o.markets, ttlMs: o.ttlMs ?? base.ttlMs, types });
  for (const t of UPDATE_TYPES.filter(isScalarType)) {
    const r = merged.types[t];
    if (!(r.min <= r.max)) throw new AppError('config', `The ${where} gives ${t} min ${r.min} above max ${r.max}. Make min ≤ max.`, { context: { where, type: t } });
  }
  const tr = merged.types.leverageTiers;
  if (!(tr.minRatio <= tr.maxRatio) || !(tr.minLeverage <= tr.maxLeverage)) {
    throw new AppError('config', `The ${where} gives leverageTiers a minimum above its maximum (ratio [${tr.minRatio}, ${tr.maxRatio}], leverage [${tr.minLeverage}, ${tr.maxLeverage}]). Make each min ≤ max.`, { context: { where, type: 'leverageTiers' } });
  }
  return merged;
}

/** Parses a rails config file (any subset of fields) merged over {@link DEFAULT_RAILS}; throws a `config` AppError naming bad fields. */
export function parseRailsConfig(x: unknown = {}, where = 'rails config'): RailsConfig {
  return applyRailsOverride(RailsConfigSchema.parse(DEFAULT_RAILS), parseRailsOverride(x, where), where);
}

/** Parses rails read back from a store (merged over the defaults, so rows written before a field existed still read); throws `schema`. */
export function parseStoredRails(x: unknown, where: string): RailsConfig {
  try {
    return parseRailsConfig(x, where);
  } catch (e) {
    throw new AppError('schema', `The ${where} is malformed: ${(e as Error).message} The store may be damaged or written by another version.`, { context: { where }, cause: e });
  }
}

/** The default lifetime of an update of `type` under `rails`: `ttlMs`, capped by the type's `maxTtlMs`, in ms. */
export function defaultLifetimeMs(rails: RailsConfig, type: UpdateType): number {
  return Math.min(rails.ttlMs, rails.types[type].maxTtlMs);
}

/** One field that differs between two rails configs (dotted path such as `types.closeFactor.minDelayMs`). */
export interface RailsFieldChange {
  readonly field: string;
  readonly from: unknown;
  readonly to: unknown;
  /** True when `to` is less safe than `from` (the change loosens the rails). */
  readonly loosens: boolean;
  /** Why it loosens, as a phrase (empty when it does not). */
  readonly why: string;
}

type RailField = keyof ScalarRail | keyof TiersRail | keyof BreakerRail;
/**
 * Which way each per-type field loosens: `lower` = a smaller number is less safe, `higher` = a larger number,
 * `true`/`false` = that boolean value is less safe than the other; `maxChange` has its own rule.
 * Typed over every field, so a new rail field cannot be added without saying which way it loosens.
 */
const LOOSER: Record<Exclude<RailField, 'maxChange'>, 'lower' | 'higher' | 'true' | 'false'> = {
  minDelayMs: 'lower', min: 'lower', minRatio: 'lower', minLeverage: 'lower',
  max: 'higher', maxRatio: 'higher', maxLeverage: 'higher', maxTiers: 'higher', maxTtlMs: 'higher',
  allowZero: 'true', autoApprove: 'true', autoApproveDeescalation: 'true', requireReasons: 'false',
};

function fieldLoosens(key: Exclude<RailField, 'maxChange'>, from: number | boolean, to: number | boolean): string {
  switch (LOOSER[key]) {
    case 'lower': return (to as number) < (from as number) ? `a smaller ${key}` : '';
    case 'higher': return (to as number) > (from as number) ? `a larger ${key}` : '';
    case 'true': return to === true && from === false ? `${key} true where the base says false` : '';
    case 'false': return to === false && from === true ? `${key} false where the base says true` : '';
  }
}

function maxChangeLoosens(from: MaxChange | null, to: MaxChange | null): string {
  if (from === null) return '';
  if (to === null) return 'an unlimited maxChange';
  if (to.mode !== from.mode) return `maxChange mode ${to.mode} instead of ${from.mode} (not comparable, so not provably tighter)`;
  return to.limit > from.limit ? 'a larger maxChange' : '';
}

function marketsLoosen(from: readonly string[] | null, to: readonly string[] | null): string {
  if (from === null) return '';
  if (to === null) return 'any market where the base allows a list';
  const extra = to.filter((m) => !from.includes(m));
  return extra.length ? `markets the base does not allow (${extra.join(', ')})` : '';
}

/** Every field that differs from `from` to `to`, with whether the change loosens the rails; in a stable order. */
export function diffRails(from: RailsConfig, to: RailsConfig): RailsFieldChange[] {
  const out: RailsFieldChange[] = [];
  const add = (field: string, a: unknown, b: unknown, why: string): void => {
    if (canonicalJson(a) !== canonicalJson(b)) out.push({ field, from: a, to: b, loosens: why !== '', why });
  };
  add('markets', from.markets, to.markets, marketsLoosen(from.markets, to.markets));
  add('ttlMs', from.ttlMs, to.ttlMs, to.ttlMs > from.ttlMs ? 'a longer default lifetime' : '');
  for (const t of UPDATE_TYPES) {
    const a = from.types[t] as Record<string, unknown>;
    const b = to.types[t] as Record<string, unknown>;
    for (const key of Object.keys(a)) {
      const why = key === 'maxChange'
        ? maxChangeLoosens(a[key] as MaxChange | null, b[key] as MaxChange | null)
        : fieldLoosens(key as Exclude<RailField, 'maxChange'>, a[key] as number | boolean, b[key] as number | boolean);
      add(`types.${t}.${key}`, a[key], b[key], why);
    }
  }
  return out;
}

/**
 * Applies a caller's override (a per-command `--rails` file, a pipeline's `params.rails`, the library option) over the
 * store's rails, tighten-only: if any field would loosen them, throws a `guardRail` AppError (exit code 10) naming
 * every such field, so nobody proposing or publishing can widen what the store allows. `where` names the override and
 * `base` the store's rails (e.g. "the store's rails (version 3, set by alice)").
 */
export function tightenRails(storeRails: RailsConfig, override: RailsOverride, where: string, base: string): RailsConfig {
  const merged = applyRailsOverride(storeRails, parseRailsOverride(override, where), where);
  const loose = diffRails(storeRails, merged).filter((c) => c.loosens);
  if (loose.length > 0) {
    const list = loose.slice(0, 5).map((c) => `${c.field} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)} (${c.why})`).join('; ');
    throw new AppError('guardRail', `The ${where} would loosen ${base}: ${list}${loose.length > 5 ? `; … and ${loose.length - 5} more` : ''}. An override may only tighten the store's rails; change them for everyone with \`liqcal params rails set --file F --by NAME --reason TEXT\` (audited).`, {
      context: { rule: 'railsOverride', where, fields: loose.map((c) => c.field), changes: loose.map(({ field, from, to }) => ({ field, from, to })) },
    });
  }
  return merged;
}

/** The live (or proposed) values of one market's parameters, by type. */
export type MarketView = Partial<{ [T in UpdateType]: ParamValue }>;

const reject = (rule: string, message: string, values: Record<string, unknown>): Rejection => ({ rule, message, values });
const EPS = 1e-12;
/** A number for a message: 6 significant digits (the exact values stay in the rejection's `values`). */
const fmt = (x: number): string => String(Number(x.toPrecision(6)));

/** Aave steward rule: |to − from| ≤ maxDiff with maxDiff = relative ? |from|·limit : limit; a relative change from 0 is refused. */
export function checkMaxChange(what: string, from: number, to: number, mc: MaxChange | null): Rejection | null {
  if (mc === null || from === to) return null;
  if (mc.mode === 'relative' && from === 0) return reject('maxChange', `${what} cannot change relatively from 0 (to ${to}); set it by a manual change outside the rails.`, { from, to, mode: mc.mode, limit: mc.limit });
  const maxDiff = mc.mode === 'relative' ? Math.abs(from) * mc.limit : mc.limit;
  const diff = Math.abs(to - from);
  if (diff > maxDiff + EPS) return reject('maxChange', `${what} would change by ${fmt(diff)} (from ${fmt(from)} to ${fmt(to)}), more than the ${mc.mode} limit ${fmt(maxDiff)}; propose a smaller step.`, { from, to, diff, maxDiff, mode: mc.mode, limit: mc.limit });
  return null;
}

function checkScalar(type: ScalarUpdateType, v: number, r: ScalarRail): Rejection | null {
  if (v === 0 && !r.allowZero) return reject('nonZero', `${type} may not be 0; zero is unsafe for this parameter.`, { value: v });
  if (v < r.min || v > r.max) return reject('bounds', `${type} ${v} is outside its hard bounds [${r.min}, ${r.max}].`, { value: v, min: r.min, max: r.max });
  return null;
}

/** Checks a tier table's shape: count, ascending notionals (null only last), ratio and leverage bounds, monotone margins, per-tier invariants. */
export function checkTiers(tiers: readonly LeverageTier[], r: TiersRail): Rejection | null {
  if (tiers.length > r.maxTiers) return reject('bounds', `leverageTiers has ${tiers.length} tiers, more than ${r.maxTiers}.`, { tiers: tiers.length, maxTiers: r.maxTiers });
  for (let i = 0; i < tiers.length; i++) {
    const t = tiers[i]!;
    const at = { tier: i, ...t };
    for (const [k, v] of [['maintenanceMarginRatio', t.maintenanceMarginRatio], ['initialMarginRatio', t.initialMarginRatio]] as const) {
      if (v === 0) return reject('nonZero', `leverageTiers tier ${i} has ${k} 0; zero margin is unsafe.`, at);
      if (v < r.minRatio || v > r.maxRatio) return reject('bounds', `leverageTiers tier ${i} ${k} ${v} is outside [${r.minRatio}, ${r.maxRatio}].`, { ...at, min: r.minRatio, max: r.maxRatio });
    }
    if (t.maxLeverage < r.minLeverage || t.maxLeverage > r.maxLeverage) return reject('bounds', `leverageTiers tier ${i} maxLeverage ${t.maxLeverage} is outside [${r.minLeverage}, ${r.maxLeverage}].`, { ...at, min: r.minLeverage, max: r.maxLeverage });
    if (!(t.maintenanceMarginRatio < t.initialMarginRatio)) return reject('invariant', `leverageTiers tier ${i}: maintenance ${t.maintenanceMarginRatio} must be below initial ${t.initialMarginRatio}.`, at);
    if (t.maxLeverage > 1 / t.initialMarginRatio + 1e-9) return reject('invariant', `leverageTiers tier ${i}: maxLeverage ${t.maxLeverage} exceeds 1/initial = ${fmt(1 / t.initialMarginRatio)}.`, at);
    if (t.maxNotionalUsd === null && i !== tiers.length - 1) return reject('invariant', `leverageTiers tier ${i} is unbounded but is not the last tier.`, at);
    if (i > 0) {
      const p = tiers[i - 1]!;
      if (p.maxNotionalUsd === null || (t.maxNotionalUsd !== null && t.maxNotionalUsd <= p.maxNotionalUsd)) return reject('invariant', `leverageTiers notionals must increase: tier ${i} (${t.maxNotionalUsd}) follows ${p.maxNotionalUsd}.`, at);
      if (t.maintenanceMarginRatio < p.maintenanceMarginRatio || t.initialMarginRatio < p.initialMarginRatio || t.maxLeverage > p.maxLeverage) {
        return reject('invariant', `leverageTiers must be monotone: tier ${i} lowers a margin or raises leverage relative to tier ${i - 1}.`, { tier: i, previous: p, current: t });
      }
    }
  }
  return null;
}

/** The tier covering notional `n` (the first with maxNotionalUsd ≥ n or unbounded); the last tier beyond the table. */
function tierAt(tiers: readonly LeverageTier[], n: number): LeverageTier {
  return tiers.find((t) => t.maxNotionalUsd === null || n <= t.maxNotionalUsd) ?? tiers[tiers.length - 1]!;
}

/** Max change of a tier table: each margin ratio, as a step function of notional, may move by at most the limit at any notional. */
export function checkTiersChange(from: readonly LeverageTier[], to: readonly LeverageTier[], mc: MaxChange | null): Rejection | null {
  if (mc === null) return null;
  const bounds = [...from, ...to].map((t) => t.maxNotionalUsd).filter((x): x is number => x !== null);
  const points = [0, ...bounds, Math.max(0, ...bounds) * 2 + 1];
  for (const n of points) {
    const a = tierAt(from, n);
    const b = tierAt(to, n);
    for (const k of ['maintenanceMarginRatio', 'initialMarginRatio'] as const) {
      const r = checkMaxChange(`leverageTiers ${k} at notional ${n} USD`, a[k], b[k], mc);
      if (r) return r;
    }
  }
  return null;
}

const SEVERITY = (s: CircuitBreakerValue['state']): number => CIRCUIT_BREAKER_STATES.indexOf(s);

/** Checks the value of one update on its own (zero, bounds, tier shape, breaker reasons). */
export function checkValue(rails: RailsConfig, type: UpdateType, v: ParamValue): Rejection | null {
  if (type === 'leverageTiers') return checkTiers(v as LeverageTier[], rails.types.leverageTiers);
  if (type === 'circuitBreaker') {
    const b = v as CircuitBreakerValue;
    if (rails.types.circuitBreaker.requireReasons && b.state !== 'NORMAL' && b.reasons.length === 0) return reject('bounds', `circuitBreaker ${b.state} needs at least one reason.`, { state: b.state });
    return null;
  }
  return checkScalar(type, v as number, rails.types[type]);
}

/** Checks the change from the live value `from` to `to` against the max-change rail of `type`. */
export function checkChange(rails: RailsConfig, type: UpdateType, from: ParamValue, to: ParamValue, label = 'live'): Rejection | null {
  if (type === 'circuitBreaker') return null;
  const r = type === 'leverageTiers'
    ? checkTiersChange(from as LeverageTier[], to as LeverageTier[], rails.types.leverageTiers.maxChange)
    : checkMaxChange(type, from as number, to as number, rails.types[type].maxChange);
  return r && { ...r, values: { ...r.values, against: label } };
}

/** Cross-parameter invariants of one market: maintenance < initial ≤ 1, penalty < maintenance, maxLeverage ≤ 1/initial. */
export function checkInvariants(view: MarketView): Rejection | null {
  const mm = view.maintenanceMarginRatio as number | undefined;
  const im = view.initialMarginRatio as number | undefined;
  const pen = view.liquidationPenalty as number | undefined;
  const lev = view.maxLeverage as number | undefined;
  if (im !== undefined && im > 1) return reject('invariant', `initialMarginRatio ${im} must be ≤ 1.`, { initialMarginRatio: im });
  if (mm !== undefined && im !== undefined && !(mm < im)) return reject('invariant', `maintenanceMarginRatio ${mm} must be below initialMarginRatio ${im}.`, { maintenanceMarginRatio: mm, initialMarginRatio: im });
  if (pen !== undefined && mm !== undefined && !(pen < mm)) return reject('invariant', `liquidationPenalty ${pen} must be below maintenanceMarginRatio ${mm}.`, { liquidationPenalty: pen, maintenanceMarginRatio: mm });
  if (lev !== undefined && im !== undefined && lev > 1 / im + 1e-9) return reject('invariant', `maxLeverage ${lev} exceeds 1/initialMarginRatio = ${fmt(1 / im)}.`, { maxLeverage: lev, initialMarginRatio: im });
  return null;
}

/** Everything a full rail check needs about one update, the market and the time. */
export interface RailInput {
  readonly rails: RailsConfig;
  readonly market: string;
  readonly updateType: UpdateType;
  readonly newValue: ParamValue;
  /** The live value from the store head (null if none was published). */
  readonly headValue: ParamValue | null;
  /** The live value the caller read from the venue, if given (also bounds the change). */
  readonly venueValue: ParamValue | null;
  /** When the head was published (epoch ms), for the debounce. */
  readonly headPublishedAt: number | null;
  /** Other parameters of the market to check invariants against, without this update's type. */
  readonly others: MarketView;
  /** When the update expires (epoch ms). */
  readonly expiresAt: number;
  /** When the update was proposed (epoch ms; default `nowMs`): `expiresAt − timestamp` is bounded by the type's `maxTtlMs`. */
  readonly timestamp?: number;
  readonly nowMs: number;
  readonly paused: boolean;
  readonly allowedMarkets: readonly string[] | null;
  /** `propose` and `approve` skip pause and debounce (they can wait), `approve` also the invariants; `publish` checks everything. */
  readonly phase: 'propose' | 'approve' | 'publish';
}

/** Runs the rails of `phase` in order (pause, allowlist, expiry, max lifetime, value, max change, invariants, debounce); returns the first refusal or null. */
export function checkRails(x: RailInput): Rejection | null {
  if (x.phase === 'publish' && x.paused) return reject('pause', 'The parameter store is paused; nothing publishes until `liqcal params resume`.', { paused: true });
  for (const list of [x.rails.markets, x.allowedMarkets]) {
    if (list !== null && !list.includes(x.market)) return reject('allowlist', `Market ${x.market} is not on the allowlist (${list.join(', ') || 'empty'}); add it before publishing.`, { market: x.market, allowed: list });
  }
  if (x.nowMs >= x.expiresAt) return reject('expiry', `The update expired at ${iso(x.expiresAt)} (now is ${iso(x.nowMs)}); propose a fresh one with a later expiresAt, or leave expiresAt out for the default lifetime.`, { expiresAt: x.expiresAt, nowMs: x.nowMs });
  const timestamp = x.timestamp ?? x.nowMs;
  const maxTtlMs = x.rails.types[x.updateType].maxTtlMs;
  if (x.expiresAt - timestamp > maxTtlMs) {
    return reject('maxTtl', `The update would live until ${iso(x.expiresAt)}, ${fmt((x.expiresAt - timestamp) / 3_600_000)} h after its timestamp ${iso(timestamp)}, longer than the ${fmt(maxTtlMs / 3_600_000)} h (${maxTtlMs} ms) that ${x.updateType} updates may live; give an expiresAt at most ${timestamp + maxTtlMs} (${iso(timestamp + maxTtlMs)}), or leave it out for the default.`, { expiresAt: x.expiresAt, timestamp, lifetimeMs: x.expiresAt - timestamp, maxTtlMs });
  }
  const v = checkValue(x.rails, x.updateType, x.newValue);
  if (v) return v;
  if (x.headValue !== null) { const c = checkChange(x.rails, x.updateType, x.headValue, x.newValue, 'published head'); if (c) return c; }
  if (x.venueValue !== null) { const c = checkChange(x.rails, x.updateType, x.venueValue, x.newValue, 'venue value'); if (c) return c; }
  // At approval the other parameters may be mid-way through the same batch; invariants bind at proposal and publication.
  const inv = x.phase === 'approve' ? null : checkInvariants({ ...x.others, [x.updateType]: x.newValue });
  if (inv) return inv;
  if (x.phase === 'publish' && x.headPublishedAt !== null) {
    const minDelayMs = x.rails.types[x.updateType].minDelayMs;
    const since = x.nowMs - x.headPublishedAt;
    if (since < minDelayMs) return reject('minDelay', `${x.updateType} of ${x.market} was published ${since} ms ago; wait until ${minDelayMs} ms have passed.`, { sinceMs: since, minDelayMs, retryAtMs: x.headPublishedAt + minDelayMs });
  }
  return null;
}

/** Why an otherwise valid update must wait for a person, or null if it may be auto-approved. */
export function autoApproveBlock(rails: RailsConfig, type: UpdateType, newValue: ParamValue, headValue: ParamValue | null): string | null {
  if (!rails.types[type].autoApprove) return `${type} updates are configured for manual approval.`;
  if (type === 'circuitBreaker' && headValue !== null && !rails.types.circuitBreaker.autoApproveDeescalation) {
    const from = (headValue as CircuitBreakerValue).state;
    const to = (newValue as CircuitBreakerValue).state;
    if (SEVERITY(to) < SEVERITY(from)) return `circuitBreaker de-escalation ${from} → ${to} needs a person.`;
  }
  return null;
}
