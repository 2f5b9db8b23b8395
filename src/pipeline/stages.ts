/**
 * The stages after ingest, each a function of the run context and its inputs, returning its outputs: train (the
 * pooled neural model into the registry), evaluate (the validation backtest comparing policies), recommend (the
 * parameters per market with their history), publish (propose → approve → publish, one transaction for the batch)
 * and report (the risk-committee report, rendered by src/reporting/). Heavy modules (TensorFlow.js, vega) load lazily.
 */
import { join } from 'node:path';
import type { BacktestReport } from '../calibration/backtest.ts';
import type { RecommendReport } from '../calibration/recommend.ts';
import { settingPath } from '../config/pipeline.ts';
import { AppError } from '../core/errors.ts';
import { intervalMs } from '../core/time.ts';
import type { ForecasterSpec } from '../forecasting/forecaster.ts';
import type { ParamValue, UpdateType } from '../params/record.ts';
import type { ParameterStore, PipelineResult } from '../params/store.ts';
import { dataVenue, type StageContext } from './context.ts';

const DAY_MS = 86_400_000;

/** What the train stage saved: the registry entry of the new model version. */
export interface TrainOutput {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  readonly promoted: boolean;
  readonly backend: string;
  /** The model was trained on bars whose labels close before this instant (epoch ms). */
  readonly trainedToMs: number;
}

/** Live published values per market (the "current" column of a report): head records in state published. */
export type LiveValues = Record<string, Partial<Record<UpdateType, ParamValue>>>;

/** What the publish stage did: the live values before it, and the parameter store's outcome. */
export interface PublishOutput {
  readonly previous: LiveValues;
  readonly result: PipelineResult;
  /** Where it published ("sqlite:<path>" or "postgres:<db>"). */
  readonly backend: string;
}

/** Newest stored bar's close over the pipeline's markets (epoch ms): the "now" of the models. */
function lastCloseMs(ctx: StageContext): number {
  const { markets, interval } = ctx.pipeline.config;
  const venue = dataVenue(ctx.pipeline);
  const last = ctx.md.listSeries().filter((s) => s.kind === 'bars' && s.venue === venue && s.interval === interval && markets.includes(s.symbol)).map((s) => s.lastMs);
  if (last.length === 0) throw new AppError('dataQuality', `The store has no ${interval} bars of ${markets.join(', ')} from venue "${venue}". Run a job with the ingest stage first (liqcal run --pipeline ${ctx.pipeline.file}).`, { context: { venue, markets } });
  return Math.max(...last) + intervalMs(interval);
}

function modelSpecs(ctx: StageContext): Readonly<Record<string, ForecasterSpec>> | undefined {
  return ctx.pipeline.config.policy.modelSpecs as Readonly<Record<string, ForecasterSpec>> | undefined;
}

/** Trains the pooled neural volatility model on every stored bar and saves (and by default promotes) it. */
export async function trainStage(ctx: StageContext): Promise<TrainOutput> {
  const { config } = ctx.pipeline;
  const { trainModel } = await import('../forecasting/train.ts');
  const trainToMs = lastCloseMs(ctx);
  const t = await trainModel({
    md: ctx.md, symbols: config.markets, interval: config.interval, horizon: config.model.horizon, trainToMs,
    modelsDir: settingPath(ctx.pipeline, config.model.modelsDir, 'models'), venue: dataVenue(ctx.pipeline), seed: config.seed,
    promote: config.model.promote, clock: ctx.clock, ...(config.model.name ? { name: config.model.name } : {}),
    ...(config.model.spec ? { spec: config.model.spec } : {}),
  });
  return { name: t.name, version: t.version, dir: t.dir, promoted: t.promoted, backend: t.card.backend, trainedToMs: trainToMs };
}

/** Backtests the configured policies over the last `backtest.days` whose horizons have closed. */
export async function evaluateStage(ctx: StageContext): Promise<BacktestReport> {
  const { config } = ctx.pipeline;
  const [{ runBacktest }, { horizonBars }] = await Promise.all([import('../calibration/backtest.ts'), import('../forecasting/horizon.ts')]);
  const barMs = intervalMs(config.interval);
  const toMs = lastCloseMs(ctx) - horizonBars(ctx.pipeline.policyConfig.horizon, config.interval) * barMs;
  const specs = modelSpecs(ctx);
  return runBacktest({
    md: ctx.md, symbols: config.markets, interval: config.interval, fromMs: toMs - config.backtest.days * DAY_MS, toMs,
    policies: config.backtest.policies, venue: dataVenue(ctx.pipeline), config: ctx.pipeline.policyConfig,
    retrainEveryDays: config.backtest.retrainEveryDays, warmupDays: config.backtest.warmupDays, seed: config.seed,
    stress: { seeds: config.backtest.stressSeeds }, ...(specs ? { modelSpecs: specs } : {}),
    onFold: (f) => ctx.log.info({ stage: 'evaluate', fold: f.fold + 1, folds: f.folds }, 'backtest fold'),
  });
}

/** Recommends parameters for every market with the policy, including each market's history (for the report). */
export async function recommendStage(ctx: StageContext): Promise<RecommendReport> {
  const { config } = ctx.pipeline;
  const { recommend } = await import('../calibration/recommend.ts');
  const specs = modelSpecs(ctx);
  const { report } = await recommend({
    md: ctx.md, symbols: config.markets, interval: config.interval, venue: dataVenue(ctx.pipeline), policy: config.policy.name,
    config: ctx.pipeline.policyConfig, calibrationDays: config.policy.calibrationDays, retrainEveryDays: config.policy.retrainEveryDays,
    seed: config.seed, includeHistory: true, clock: ctx.dataClock,
    ...(config.policy.breakers ? { breakers: config.policy.breakers } : {}), ...(specs ? { modelSpecs: specs } : {}),
  });
  return report;
}

/**
 * The parameter store of the pipeline (SQLite in the run's store, or PostgreSQL) with the wall clock. The store's own
 * rails apply; the pipeline's `params.rails`, if any, may only tighten them (a loosening field fails the stage with a
 * `guardRail` error naming it).
 */
export async function openParameterStore(ctx: StageContext): Promise<{ params: ParameterStore; close: () => Promise<void> }> {
  const [{ ParameterStore }, { SqliteParamBackend }] = await Promise.all([import('../params/store.ts'), import('../params/sqlite-backend.ts')]);
  const override = ctx.pipeline.railsOverride;
  const railsOpts = override ? { rails: override, railsSource: `rails of ${ctx.pipeline.file} (params.rails)` } : {};
  const pg = ctx.pipeline.config.store.postgres;
  if (!pg) {
    const backend = new SqliteParamBackend(ctx.store);
    return { params: new ParameterStore(backend, { clock: ctx.clock, ...railsOpts }), close: () => backend.close() };
  }
  const url = pg.url ?? process.env[pg.urlEnv!];
  if (!url) throw new AppError('config', `${ctx.pipeline.file}: store.postgres.urlEnv names ${pg.urlEnv}, which is not set. Export it with the PostgreSQL URL (postgres://user@host:5432/db).`, { context: { env: pg.urlEnv } });
  const { openPostgresBackend } = await import('../params/postgres-backend.ts');
  const backend = await openPostgresBackend({ url, ...(pg.schema ? { schema: pg.schema } : {}) });
  return { params: new ParameterStore(backend, { clock: ctx.clock, ...railsOpts }), close: () => backend.close() };
}

/** The values updaters run on now: per market, the head record of each type if it is in state published. */
export async function liveValues(params: ParameterStore, markets: readonly string[]): Promise<LiveValues> {
  const out: LiveValues = {};
  for (const m of markets) {
    out[m] = {};
    for (const r of await params.backend.headRecords(m)) if (r.state === 'published') out[m]![r.updateType] = r.newValue;
  }
  return out;
}

/**
 * Proposes the recommendation's parameters (referenceId `run:<runId>`), approves them (automatically within the rails,
 * or not at all with manual approval: they wait for `liqcal params approve`), and publishes the approved ones in one
 * transaction (publishMany): the batch is published whole or not at all.
 */
export async function publishStage(ctx: StageContext, rec: RecommendReport): Promise<PublishOutput> {
  const [{ proposeApprovePublish }, { recommendationDrafts }] = await Promise.all([import('../params/store.ts'), import('../calibration/drafts.ts')]);
  const { params, close } = await openParameterStore(ctx);
  try {
    const previous = await liveValues(params, ctx.pipeline.config.markets);
    const drafts = rec.recommendations.flatMap((r) => recommendationDrafts(r, `run:${ctx.runId}`));
    const { approval, by } = ctx.pipeline.config.params;
    let result: PipelineResult;
    if (approval === 'auto') {
      result = await proposeApprovePublish(params, drafts, { by, auto: true });
    } else {
      const proposed = await params.propose(drafts, { by });
      result = {
        proposed, published: [],
        waiting: proposed.filter((r) => r.state === 'proposed').map((r) => ({ updateId: r.updateId, reason: 'the pipeline approves manually: approve with liqcal params approve ID --by NAME' })),
        refused: proposed.filter((r) => r.rejection).map((r) => ({ updateId: r.updateId, rule: r.rejection!.rule, message: r.rejection!.message })),
      };
    }
    return { previous, result, backend: params.backend.name };
  } finally {
    await close();
  }
}

/** Inputs of the report stage: the run's identity and the outputs of the stages before it. */
export interface ReportStageInput {
  readonly run: { readonly id: string; readonly pipeline: string; readonly status: string; readonly startedAtMs: number; readonly endedAtMs: number | null; readonly configHash: string; readonly gitSha: string | null; readonly seed: number; readonly dataWatermarkMs: number | null };
  readonly recommend: RecommendReport;
  /** Live values before this run's publish; read from the parameter store when the job does not publish. */
  readonly previous?: LiveValues;
  readonly published?: PipelineResult;
  readonly backtest?: BacktestReport;
}

/** Paths of the written report (absolute). */
export interface ReportOutput {
  readonly dir: string;
  readonly markdown: string;
  readonly html: string;
  readonly json: string;
  readonly png: string[];
}

/** Builds the report model, keeps it in the store (table run_reports) and writes Markdown, HTML, JSON (and PNG) into `<reportDir>/<runId>/`. */
export async function reportStage(ctx: StageContext, input: ReportStageInput): Promise<ReportOutput> {
  const reporting = await import('../reporting/index.ts');
  let previous = input.previous;
  if (!previous) {
    const { params, close } = await openParameterStore(ctx);
    try { previous = await liveValues(params, ctx.pipeline.config.markets); } finally { await close(); }
  }
  const model = reporting.buildReportModel({
    run: input.run, recommend: input.recommend, previous,
    ...(input.published ? { published: input.published } : {}), ...(input.backtest ? { backtest: input.backtest } : {}),
  });
  reporting.saveReportModel(ctx.store, model);
  const w = await reporting.writeReport(model, join(ctx.reportDir, ctx.runId), { png: ctx.pipeline.config.report.png });
  return { dir: w.dir, markdown: w.markdown, html: w.html, json: w.json, png: w.png };
}
