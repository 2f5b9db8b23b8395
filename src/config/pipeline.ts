/**
 * Pipeline files (`pipelines/*.json`, issue 6 item 1): one zod schema for what a scheduled pipeline does — its
 * markets, where the data comes from, the model and policy, the parameter store, the report, retries — and the
 * jobs that run subsets of its stages on cron schedules (UTC). {@link loadPipeline} reads and checks a file; every
 * error names the file and the field path, e.g. `pipelines/x.json: jobs[0].cron: invalid cron expression "…"`.
 *
 * Relative paths written in a pipeline file (store.db, model.modelsDir, report.outDir, venue.files) resolve against
 * the directory of the file, so a pipeline runs the same from any working directory. Omitted paths default to the
 * CLI's usual locations (data/liqcal.db, models, data/reports) relative to the working directory.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import { validateDetailed } from 'node-cron';
import { z } from 'zod';
import { breakerConfigSchema } from '../calibration/circuit-breakers.ts';
import { parsePolicyConfig, policyConfigSchema, type PolicyConfig } from '../calibration/config.ts';
import { POLICY_NAMES } from '../calibration/policy-series.ts';
import { AppError } from '../core/errors.ts';
import { describeJsonPosition, parseJsonQuietly } from '../core/json-syntax.ts';
import { refusePipelineUrlCredentials } from './pipeline-secrets.ts';
import { INTERVALS, parseInstant } from '../core/time.ts';
import { DATA_KINDS, VENUE_IDS } from '../ingest/types.ts';
import { parseRailsConfig, RailsOverrideSchema, type RailsConfig, type RailsOverride } from '../params/rails.ts';
import { canonicalJson } from '../params/record.ts';

/** The stages a job may run, in the only order they run in. */
export const STAGE_NAMES = ['ingest', 'train', 'evaluate', 'recommend', 'publish', 'report'] as const;
/** A stage name. */
export type StageName = (typeof STAGE_NAMES)[number];

const int = z.number().int();
const name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'use lower-case letters, digits, "-" and "_" (at most 64, starting with a letter or digit)');

/** A cron expression node-cron 4.6 accepts: 6 fields with seconds or 5 without; evaluated in UTC. */
const cronSchema = z.string().superRefine((s, ctx) => {
  const v = validateDetailed(s);
  if (!v.valid) {
    const why = v.errors.map((e) => e.message).join('; ');
    ctx.addIssue({ code: 'custom', message: `invalid cron expression "${s}" (${why}); write 5 fields (minute hour day month weekday) or 6 with seconds first, in UTC, e.g. "0 5 * * * *"` });
  }
});

/**
 * Retries of a failing stage: attempts in all, and exponential backoff baseDelayMs · 2^(n−1) capped at maxDelayMs
 * (ms). A server's Retry-After, when longer, is waited up to maxRetryAfterMs (omitted: 120 000 ms).
 */
const retriesSchema = z.strictObject({
  maxAttempts: int.min(1).max(10).default(3),
  baseDelayMs: int.min(0).max(3_600_000).default(2_000),
  maxDelayMs: int.min(0).max(3_600_000).default(60_000),
  maxRetryAfterMs: int.min(0).max(3_600_000).optional(),
});

/** A stage deadline, ms: from 100 ms (tests) to one day. */
const stageTimeout = int.min(100).max(86_400_000);
/** The default deadline of every stage, ms (30 min). */
export const DEFAULT_STAGE_TIMEOUT_MS = 1_800_000;

const simulatorVenue = z.strictObject({
  kind: z.literal('simulator'),
  /** Seed of the simulated market (the same seed gives the same data). */
  seed: int.min(0).default(7),
  /** Days of history ingested, ending at the last closed bar. */
  days: int.min(30).max(3650).default(365),
});
const liveVenue = z.strictObject({
  kind: z.literal('live'),
  venue: z.enum(VENUE_IDS),
  kinds: z.array(z.enum(DATA_KINDS)).min(1).default(['bars']),
  /** History fetched on the first run (later runs resume after the stored data); open interest is capped at 29 days (Binance serves 30). */
  days: int.min(1).max(3650).default(400),
  /** Another server speaking the venue's wire format (a `liqcal serve-venue` replay, a proxy). */
  baseUrl: z.url().optional(),
  /** Store rows under this venue name (default: the venue id). */
  storeVenue: name.optional(),
  /** HTTP retries per request inside the client (default: the client's 5); the stage retries on top. */
  httpRetries: int.min(0).max(10).optional(),
  /** Whole-response deadline of one HTTP attempt (connection, headers and the whole body), ms; default 30 000. */
  requestTimeoutMs: int.min(100).max(600_000).optional(),
  /** Total time one request may spend on attempts and the waits between them, ms; default 300 000. */
  retryBudgetMs: int.min(100).max(3_600_000).optional(),
  /** The longest wait a venue's Retry-After imposes inside the client, ms; default 120 000. */
  maxRetryAfterMs: int.min(1).max(3_600_000).optional(),
  maxRps: z.number().positive().optional(),
  concurrency: int.min(1).max(16).default(2),
});
const csvVenue = z.strictObject({
  kind: z.literal('csv'),
  /** Venue name the rows are stored under, e.g. "binance-spot". */
  venue: name,
  /** Bar interval of the files (must equal the pipeline's interval). */
  interval: z.enum(INTERVALS).optional(),
  /** Per market: files or globs (`*` and `?` in any path segment), imported in sorted order. */
  files: z.record(z.string(), z.array(z.string().min(1)).min(1)),
});

/**
 * Overrides of the parameter store's guard rails (any subset of DEFAULT_RAILS in src/params/rails.ts). Tighten-only:
 * the publish stage merges them over the store's rails and refuses (guardRail) any field that would loosen them.
 */
const railsOverrideSchema = RailsOverrideSchema;

const modelSpecSchema = z.looseObject({ kind: z.enum(['ewma', 'garch', 'har', 'ml']) });

/** zod schema of a pipeline file. */
export const pipelineSchema = z.strictObject({
  /** Name recorded in the run ledger and lock names (default: the file name without .json). */
  name: name.optional(),
  description: z.string().optional(),
  /** Seed of training, the walk-forward fits and the stress replay. */
  seed: int.min(0).default(42),
  markets: z.array(z.string().regex(/^[A-Za-z0-9._-]{1,40}$/, 'use a venue symbol such as BTCUSDT')).min(1),
  interval: z.enum(INTERVALS).default('1h'),
  /** Replay: the data side (simulator, stale-data breaker) runs as of this instant; the ledger and parameter store keep the wall clock. */
  asOf: z.string().optional(),
  venue: z.discriminatedUnion('kind', [simulatorVenue, liveVenue, csvVenue], { error: 'venue.kind must be "simulator", "live" or "csv"' }),
  store: z.strictObject({
    db: z.string().min(1).optional(),
    /** Publish to PostgreSQL instead of the SQLite store (market data and the run ledger stay in SQLite). */
    postgres: z.strictObject({
      url: z.string().regex(/^postgres(ql)?:\/\//, 'give a URL such as postgres://user@host:5432/db').optional(),
      /** Name of an environment variable holding the URL (keeps credentials out of the file). */
      urlEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional(),
      schema: z.string().regex(/^[a-z_][a-z0-9_]*$/).optional(),
    }).refine((p) => (p.url === undefined) !== (p.urlEnv === undefined), 'give exactly one of url and urlEnv').optional(),
  }).default({}),
  model: z.strictObject({
    name: name.optional(),
    horizon: z.string().regex(/^\d+[mhd]$/).default('24h'),
    modelsDir: z.string().min(1).optional(),
    /** Overrides of the neural model's spec (epochs, hidden, ensemble, …; src/forecasting/ml/spec.ts). */
    spec: z.looseObject({}).optional(),
    promote: z.boolean().default(true),
  }).default({ horizon: '24h', promote: true }),
  policy: z.strictObject({
    name: z.enum(POLICY_NAMES).default('ml-anticipatory'),
    /** Any subset of the policy configuration (src/calibration/config.ts); the rest takes the defaults. */
    config: policyConfigSchema.optional(),
    breakers: breakerConfigSchema.optional(),
    calibrationDays: int.min(30).max(3650).default(120),
    retrainEveryDays: int.min(1).max(3650).default(60),
    /** Forecaster specs by model name replacing the registry's, e.g. { "ml": { "kind": "ml", "epochs": 15 } }. */
    modelSpecs: z.record(z.string(), modelSpecSchema).optional(),
  }).default({ name: 'ml-anticipatory', calibrationDays: 120, retrainEveryDays: 60 }),
  backtest: z.strictObject({
    days: int.min(7).max(3650).default(90),
    warmupDays: int.min(30).max(3650).default(180),
    retrainEveryDays: int.min(1).max(3650).default(90),
    policies: z.array(z.enum(POLICY_NAMES)).min(1).default(['static', 'har', 'ml-anticipatory']),
    stressSeeds: int.min(0).max(100).default(3),
  }).default({ days: 90, warmupDays: 180, retrainEveryDays: 90, policies: ['static', 'har', 'ml-anticipatory'], stressSeeds: 3 }),
  params: z.strictObject({
    /** auto: approve what lies within the rails, the rest waits for a person; manual: everything waits. */
    approval: z.enum(['auto', 'manual']).default('auto'),
    by: z.string().min(1).default('liqcal-pipeline'),
    rails: railsOverrideSchema.optional(),
  }).default({ approval: 'auto', by: 'liqcal-pipeline' }),
  report: z.strictObject({ outDir: z.string().min(1).optional(), png: z.boolean().default(false) }).default({ png: false }),
  retries: retriesSchema.default({ maxAttempts: 3, baseDelayMs: 2_000, maxDelayMs: 60_000 }),
  runtime: z.strictObject({
    /** On SIGTERM, how long the current stage may still take before the run is abandoned. */
    graceMs: int.min(0).max(600_000).default(10_000),
    /** Lease of a job's cross-process lock, renewed every third of it while the job runs. */
    leaseMs: int.min(1_000).max(3_600_000).default(60_000),
    /**
     * Deadline of each stage, all its attempts included, ms (default 30 min): past it the stage and the run are
     * recorded failed, the stage's work is cancelled and the job's lock is released.
     */
    stageTimeoutMs: stageTimeout.default(DEFAULT_STAGE_TIMEOUT_MS),
    /** Per-stage deadlines overriding stageTimeoutMs, ms, e.g. { "train": 7200000 }. */
    stageTimeoutsMs: z.strictObject({
      ingest: stageTimeout.optional(), train: stageTimeout.optional(), evaluate: stageTimeout.optional(),
      recommend: stageTimeout.optional(), publish: stageTimeout.optional(), report: stageTimeout.optional(),
    }).optional(),
  }).default({ graceMs: 10_000, leaseMs: 60_000, stageTimeoutMs: DEFAULT_STAGE_TIMEOUT_MS }),
  jobs: z.array(z.strictObject({
    name,
    cron: cronSchema,
    stages: z.array(z.enum(STAGE_NAMES)).min(1),
    /** On daemon start, run once now if the last successful run is older than one period. */
    catchUp: z.boolean().default(true),
    retries: retriesSchema.optional(),
  })).min(1),
}).superRefine((p, ctx) => {
  const seen = new Set<string>();
  p.jobs.forEach((j, i) => {
    if (j.name === 'all') ctx.addIssue({ code: 'custom', path: ['jobs', i, 'name'], message: '"all" is reserved for running every stage once (liqcal run without --job); choose another name' });
    if (seen.has(j.name)) ctx.addIssue({ code: 'custom', path: ['jobs', i, 'name'], message: `job name "${j.name}" is used twice; give every job its own name` });
    seen.add(j.name);
    const order = j.stages.map((s) => STAGE_NAMES.indexOf(s));
    if (new Set(j.stages).size !== j.stages.length || order.some((o, k) => k > 0 && o <= order[k - 1]!)) {
      ctx.addIssue({ code: 'custom', path: ['jobs', i, 'stages'], message: `stages [${j.stages.join(', ')}] must be distinct and in the order ${STAGE_NAMES.join(', ')}` });
    }
    for (const s of ['publish', 'report'] as const) {
      if (j.stages.includes(s) && !j.stages.includes('recommend')) ctx.addIssue({ code: 'custom', path: ['jobs', i, 'stages'], message: `the ${s} stage needs the recommend stage in the same job (add "recommend" before it)` });
    }
  });
  if (p.venue.kind === 'csv') {
    const files = p.venue.files;
    for (const m of p.markets) if (!files[m]) ctx.addIssue({ code: 'custom', path: ['venue', 'files'], message: `no files for market ${m}; add "${m}": ["path/or/glob*.csv"]` });
    for (const k of Object.keys(files)) if (!p.markets.includes(k)) ctx.addIssue({ code: 'custom', path: ['venue', 'files', k], message: `${k} is not one of the markets [${p.markets.join(', ')}]` });
    if (p.venue.interval !== undefined && p.venue.interval !== p.interval) ctx.addIssue({ code: 'custom', path: ['venue', 'interval'], message: `the files' interval ${p.venue.interval} must equal the pipeline's interval ${p.interval}` });
  }
  if (p.venue.kind === 'simulator') {
    p.markets.forEach((m, i) => { if (!/^[A-Z0-9]{2,20}$/.test(m)) ctx.addIssue({ code: 'custom', path: ['markets', i], message: `the simulator needs upper-case symbols such as BTCUSDT, not "${m}"` }); });
  }
  if (new Set(p.markets).size !== p.markets.length) ctx.addIssue({ code: 'custom', path: ['markets'], message: 'markets must be distinct' });
  if (p.asOf !== undefined && !Number.isFinite(instantOrNaN(p.asOf))) ctx.addIssue({ code: 'custom', path: ['asOf'], message: `cannot read "${p.asOf}" as a time; give ISO-8601 UTC such as 2025-11-01T00:00:00Z` });
  if (p.retries.maxDelayMs < p.retries.baseDelayMs) ctx.addIssue({ code: 'custom', path: ['retries', 'maxDelayMs'], message: 'must be at least retries.baseDelayMs' });
});

function instantOrNaN(s: string): number {
  try { return parseInstant(s, 'asOf'); } catch { return Number.NaN; }
}

/** A pipeline file as written, defaults filled in (paths still as written). */
export type PipelineConfig = z.output<typeof pipelineSchema>;
/** One job of a pipeline. */
export type JobConfig = PipelineConfig['jobs'][number];
/** Stage retry settings. */
export type RetrySettings = z.output<typeof retriesSchema>;

/** A loaded pipeline: the checked config, where it came from, and what derives from it. */
export interface Pipeline {
  /** The file as given (relative paths in messages stay readable). */
  readonly file: string;
  /** Directory that relative paths in the file resolve against (absolute). */
  readonly dir: string;
  /** Name in the run ledger: `name` or the file name without .json. */
  readonly name: string;
  readonly config: PipelineConfig;
  /** sha256 (hex) of the canonical JSON of the checked config (sorted keys, defaults filled, paths as written). */
  readonly configHash: string;
  /** `asOf` in epoch ms, or null to run at the wall clock. */
  readonly asOfMs: number | null;
  /** The policy configuration with every default (and cross-field checks passed). */
  readonly policyConfig: PolicyConfig;
  /** `params.rails` overlaid on DEFAULT_RAILS: checked when the file is loaded, for display; the store's rails are what apply. */
  readonly rails: RailsConfig;
  /** `params.rails` as written (null if absent): applied over the store's rails at publish time, tighten-only. */
  readonly railsOverride: RailsOverride | null;
}

/** Formats a zod issue path as `jobs[0].cron` (empty path: `(root)`). */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

/**
 * Checks a parsed pipeline document; `file` names it in errors and its directory anchors relative paths.
 * Throws a `config` AppError listing every bad field as `file: path: problem`.
 */
export function parsePipeline(json: unknown, file: string): Pipeline {
  // Before zod: no message may echo a password, and the checked config is copied into the run ledger.
  refusePipelineUrlCredentials(json, file);
  const r = pipelineSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 8).map((i) => `${file}: ${formatPath(i.path)}: ${i.message}`);
    if (r.error.issues.length > 8) issues.push(`… and ${r.error.issues.length - 8} more`);
    throw new AppError('config', `${issues.join('; ')}. Fix the named fields (pipelines/README.md describes each one).`, { context: { file, issues: r.error.issues.map((i) => formatPath(i.path)) } });
  }
  const config = r.data;
  const policyConfig = parsePolicyConfig(config.policy.config ?? {}, `${file}: policy.config`);
  const rails = parseRailsConfig(config.params.rails ?? {}, `${file}: params.rails`);
  return {
    file, dir: resolve(dirname(file)), name: config.name ?? basename(file, extname(file)), config,
    configHash: createHash('sha256').update(canonicalJson(config)).digest('hex'),
    asOfMs: config.asOf === undefined ? null : parseInstant(config.asOf, 'asOf'), policyConfig, rails,
    railsOverride: config.params.rails ?? null,
  };
}

/** Reads and checks a pipeline file; `io` if it cannot be read, `config` naming the file and field otherwise. */
export function loadPipeline(path: string): Pipeline {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AppError('io', `Cannot read the pipeline file ${path}: ${(e as Error).message}. Check the --pipeline path (the shipped ones are in pipelines/).`, { context: { path } });
  }
  // JSON.parse's message quotes the text around the error, which may be a password: give the position only.
  const json = parseJsonQuietly(text, (at) => new AppError('config', `${path}: (root): not valid JSON at ${describeJsonPosition(at)}. Fix the syntax there; pipelines/README.md has a complete example.`, { context: { path, ...(at ? { line: at.line, column: at.column } : {}) } }));
  return parsePipeline(json, path);
}

/** Resolves a path written in the pipeline file against the file's directory (absolute paths stay). */
export function pipelinePath(p: Pipeline, path: string): string {
  return isAbsolute(path) ? path : resolve(p.dir, path);
}

/** A path setting: the file's value resolved against its directory, or the default resolved against the working directory. */
export function settingPath(p: Pipeline, value: string | undefined, fallback: string): string {
  return value === undefined ? resolve(fallback) : pipelinePath(p, value);
}

/** The deadline of `stage` in ms: its `runtime.stageTimeoutsMs` entry, else `runtime.stageTimeoutMs`. */
export function stageTimeoutMs(config: PipelineConfig, stage: StageName): number {
  return config.runtime.stageTimeoutsMs?.[stage] ?? config.runtime.stageTimeoutMs;
}

/** The config field that sets the deadline of `stage` (named in timeout errors). */
export function stageTimeoutSetting(config: PipelineConfig, stage: StageName): string {
  return config.runtime.stageTimeoutsMs?.[stage] !== undefined ? `runtime.stageTimeoutsMs.${stage}` : 'runtime.stageTimeoutMs';
}

/** What `liqcal run` runs: one job by name, or with no name every stage any job declares (job "all"). */
export function selectJob(p: Pipeline, job?: string): { name: string; stages: StageName[]; retries: RetrySettings } {
  if (job === undefined) {
    const stages = STAGE_NAMES.filter((s) => p.config.jobs.some((j) => j.stages.includes(s)));
    return { name: 'all', stages, retries: p.config.retries };
  }
  const j = p.config.jobs.find((x) => x.name === job);
  if (!j) throw new AppError('config', `${p.file} has no job "${job}"; its jobs are ${p.config.jobs.map((x) => x.name).join(', ')} (or omit --job to run every stage once).`, { context: { file: p.file, job } });
  return { name: j.name, stages: [...j.stages], retries: j.retries ?? p.config.retries };
}
