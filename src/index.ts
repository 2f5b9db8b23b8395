/**
 * liqcal's public API: the library surface for researchers (notebooks, benchmarks) and integrators
 * (a pipeline of one's own, a parameter updater). Everything here is stable enough to build on; anything not
 * re-exported is internal and may change without notice. The CLI (`liqcal …`) is a thin shell over the same
 * functions.
 *
 * The stages, in the order data flows through them:
 * - **core** — one error tree (`AppError` with a `kind` that decides retries and exit codes), UTC time helpers
 *   (`EpochMs`, intervals, `parseInstant`, an injectable `Clock`), seeded randomness, pino logging with run ids;
 * - **data** — the embedded SQLite store (`openStore`, `MarketData`, the run ledger), CSV import of the shared
 *   data formats, venue sources and resumable backfills (`createSource`, `ingestMany`), data quality and the
 *   multi-venue reference price, the offline simulator and replay servers;
 * - **features** — per-symbol `FeatureFrame`s of `Float64Array` columns, each value at t computed from bars ≤ t;
 * - **dataset** — targets (forward realised variance, spike labels, adverse excursions) and walk-forward folds;
 * - **forecasting** — `Forecaster`s built from JSON specs (EWMA, GARCH(1,1)-t, HAR-RV, the pooled neural
 *   model), the walk-forward engine, model comparison, training and the model registry;
 * - **evaluation** — loss metrics, Diebold–Mariano, VaR backtests (Kupiec, Christoffersen, Basel zones),
 *   procyclicality, spike skill, the liquidation simulator;
 * - **calibration** — margin parameters with their rationale, the anticipatory governor, circuit breakers,
 *   recommendations, the validation backtest, and recommendations as parameter-store drafts;
 * - **params** — the append-only versioned parameter store on SQLite or PostgreSQL, guard rails, the update
 *   record schemas, webhooks (and their signature check for receivers) and the read-only HTTP API.
 *
 * Units: variances are sums of squared log returns over the stated horizon; ratios are fractions (0.05 = 5 %);
 * times are epoch milliseconds, UTC, and a bar is stamped with its open time.
 *
 * @example
 * ```ts
 * import { openStore, MarketData, importCsv, loadFeatureFrames } from '../src/index.ts';
 * const md = new MarketData(openStore(':memory:'));
 * await importCsv({ md, venue: 'binance-spot', symbol: 'BTCUSDT', interval: '1h', files: ['BTCUSDT-1h-2024.csv'] });
 * const [btc] = loadFeatureFrames(md, { venue: 'binance-spot', symbols: ['BTCUSDT'], interval: '1h' });
 * ```
 * @packageDocumentation
 */

// ── core ────────────────────────────────────────────────────────────────────────────────────────────────
export { AppError, EXIT_CODES, RETRYABLE_KINDS, formatIssues, isAppError, type ErrorContext, type ErrorKind } from './core/errors.ts';
export {
  INTERVALS, epochMs, fixedClock, floorToInterval, intervalMs, isInterval, iso, parseInstant, parseInterval, systemClock,
  type Clock, type EpochMs, type Interval,
} from './core/time.ts';
export { createRng, deriveSeed, type Rng } from './core/rng.ts';
export { childLog, createLogger, log, runLogger, type LoggerOptions } from './core/log.ts';

// ── data: store, run ledger, ingest ─────────────────────────────────────────────────────────────────────
export { DEFAULT_DB_PATH, openStore, type OpenStoreOptions, type Store } from './store/db.ts';
export { MarketData, storedInterval, type BarColumns, type SeriesKey, type SeriesSummary } from './store/market-data.ts';
export { RunLedger, type RunRecord, type RunStatus } from './store/runs.ts';
export { CSV_FORMATS, importCsv, parseCsvFile, type CsvKind, type ImportCsvOptions, type ImportedFile, type ImportResult } from './ingest/csv.ts';
export { createSource, isLoopbackUrl, type SourceOptions } from './ingest/source.ts';
export { backfill, resumePoint, type BackfillJob, type BackfillProgress, type BackfillResult } from './ingest/backfill.ts';
export { ingestMany, type FailedJob, type IngestOutcome } from './ingest/ingest-many.ts';
export {
  DATA_KINDS, VENUE_IDS, rowTime,
  type Bar, type DataKind, type FundingRow, type ImpliedVolRow, type MarketDataSource, type OpenInterestRow, type RangeQuery, type RowOf, type VenueId,
} from './ingest/types.ts';
export { dataStatus, findGaps, seriesQuality, type Gap, type SeriesQuality, type SeriesStatus } from './ingest/quality.ts';
export { referencePrice, referencePriceFromStore, type ReferencePrice, type ReferencePriceOptions, type StoreReferenceOptions, type StoreReferencePrice } from './ingest/aggregate.ts';
export { resolveBarVenue } from './ingest/series-venue.ts';
export { createSimulatorProvider, DEFAULT_SIM_SYMBOLS, type SimulatorOptions, type SimulatorProvider } from './ingest/simulator/provider.ts';
export { createReplayProvider, type ReplayOptions } from './ingest/replay/replay.ts';
export { startVenueServer, type VenueDataProvider, type VenueServer, type VenueServerOptions } from './ingest/replay/wire-server.ts';

// ── features ────────────────────────────────────────────────────────────────────────────────────────────
export {
  AS_OF_MAX_AGE_MS, BASE_FEATURES, OPTIONAL_FEATURES, barsPerDay, baseCurrency, buildFeatureFrame, featureSetHash, loadFeatureFrames,
  type BuildFeatureFrameInput, type LoadFeatureFramesOptions,
} from './features/build.ts';
export type { FeatureFrame } from './features/frame.ts';
export { logReturns, rollingSum } from './features/returns.ts';
export { bipowerVariation, ewmaVariance, harAggregates, jumpComponent, realisedVariance, signedSemivariances, type HarAggregates } from './features/realised.ts';
export { garmanKlassPerBar, parkinsonPerBar, rogersSatchellPerBar } from './features/range.ts';

// ── dataset: targets and folds ──────────────────────────────────────────────────────────────────────────
export { forwardRv, maxAdverseExcursion, pastRv, spikeLabels, type AdverseExcursion, type SpikeOptions } from './dataset/targets.ts';
export { planWalkForward, type Fold } from './dataset/walk-forward.ts';
export { rollingExtreme, rollingMedian } from './dataset/rolling-window.ts';

// ── forecasting ─────────────────────────────────────────────────────────────────────────────────────────
export {
  modelName,
  type FitOptions, type FittedForecaster, type ForecastBatch, type Forecaster, type ForecasterCapabilities, type ForecasterSpec, type ModelArtifact, type PredictRequest,
} from './forecasting/forecaster.ts';
export { createForecaster, DEFAULT_MODEL_NAMES, forecasterByName, NAMED_SPECS } from './forecasting/registry.ts';
export { createEwma, RISKMETRICS_LAMBDA, type EwmaSpec } from './forecasting/baselines/ewma.ts';
export { createGarch, type GarchSpec } from './forecasting/baselines/garch.ts';
export { createHar, type HarSpec, type HarVariant } from './forecasting/baselines/har.ts';
export { createMlForecaster, type MlEpochProgress, type MlFitHooks, type MlForecaster, type MlSpec } from './forecasting/ml/model.ts';
export { ML_DEFAULTS } from './forecasting/ml/spec.ts';
export { loadTf, type BackendName } from './forecasting/ml/backend.ts';
export { horizonBars } from './forecasting/horizon.ts';
export { runWalkForward, summarise, type FoldInfo, type ModelSeries, type ModelTiming, type WalkForwardOptions, type WalkForwardResult } from './forecasting/walk-forward.ts';
export { evaluateModels, type AccuracyResult, type EvaluateOptions, type EvaluationReport } from './forecasting/evaluate.ts';
export { defaultModelName, forecastLatest, trainModel, type LatestForecast, type TrainOptions, type TrainResult } from './forecasting/train.ts';
export {
  listModels, loadModel, loadPromoted, promoteModel, promotedVersion, saveModel,
  type LoadedModel, type ModelCard, type ModelListing,
} from './forecasting/model-store.ts';

// ── evaluation ──────────────────────────────────────────────────────────────────────────────────────────
export {
  REALISED_FLOOR, coverage, logRealised, lossSeries, mincerZarnowitz, mseLog, pinballLoss, qlike,
  type LossKind, type LossOptions, type MincerZarnowitz, type SampleMean,
} from './evaluation/metrics.ts';
export {
  dieboldMariano,
  type AccuracyRow, type DieboldMariano, type DieboldMarianoOptions, type DmRow, type SpikeRow, type SummariseOptions, type WalkForwardSummary,
} from './evaluation/compare.ts';
export {
  BASEL_GREEN_MAX_CDF, BASEL_YELLOW_MAX_CDF, baselZone, binomialCdf, christoffersen, expectedShortfallOfExcess, hitSequence, kupiecPof,
  type BaselZone, type BaselZoneName, type ChristoffersenResult, type ExcessShortfall, type KupiecResult,
} from './evaluation/var-tests.ts';
export { maxIncrease, peakToTrough, procyclicalitySummary, type IncreaseMode, type ProcyclicalitySummary } from './evaluation/procyclicality.ts';
export { brier, brierSkill, medianLeadTime, precisionRecall, rocAuc, type Brier, type BrierSkill, type LeadTime, type PrecisionRecall, type RocAuc } from './evaluation/spike-metrics.ts';
export { chiSquareCdf, normalCdf, normalQuantile, studentTCdf, studentTTwoSidedP } from './evaluation/stats.ts';
export { simulateAcrossSeeds, simulateLiquidations, type SeedSweepResult, type SimLedger, type SimResult } from './evaluation/liquidation-sim.ts';
export type { PopulationSpec, PopulationSpecInput, ScheduledParams, SimBars, SimOptions } from './evaluation/liquidation-sim/spec.ts';

// ── calibration ─────────────────────────────────────────────────────────────────────────────────────────
export { DEFAULT_POLICY_CONFIG, parsePolicyConfig, policyConfigSchema, type PolicyConfig } from './calibration/config.ts';
export {
  liquidationCostRatio, marginParams, oracleBufferRatio, slippageRatio,
  type LeverageTier, type MarginInput, type MarginParams, type MarketState, type Rationale,
} from './calibration/margin-policy.ts';
export { runGovernor, type BindingCounts, type GovernorInput, type GovernorResult, type MarginChange } from './calibration/governor.ts';
export {
  BREAKER_STATES, DEFAULT_BREAKER_CONFIG, breakerConfigSchema, breakerStats, parseBreakerConfig, runBreakers, stepBreaker,
  type BreakerConfig, type BreakerInput, type BreakerState, type BreakerStats, type BreakerStep,
} from './calibration/circuit-breakers.ts';
export { POLICY_NAMES, parsePolicies, type PolicyName } from './calibration/policy-series.ts';
export { recommend, type MarketHistory, type MarketRecommendation, type RecommendedChange, type RecommendOptions, type RecommendReport } from './calibration/recommend.ts';
export { runBacktest, type BacktestOptions, type BacktestReport, type BacktestRow } from './calibration/backtest.ts';
export { STRESS_DATES, stressEpisodes, type Episode, type StressSettings } from './calibration/stress.ts';
export { recommendationDrafts } from './calibration/drafts.ts';

// ── params: the parameter store for automated updaters ──────────────────────────────────────────────────
export {
  ParameterStore, draftKey, proposeApprovePublish,
  type AutoApproveResult, type LatestResult, type ParameterStoreOptions, type PipelineResult, type PublishOutcome, type WatchOptions,
} from './params/store.ts';
export type { HistoryQuery, ParamBackend, StoreSettings } from './params/backend.ts';
export { SqliteParamBackend, openSqliteBackend, type SqliteBackendOptions } from './params/sqlite-backend.ts';
export { PostgresBackend, openPostgresBackend, type PostgresBackendOptions } from './params/postgres-backend.ts';
export { DEFAULT_RAILS, RailsConfigSchema, checkRails, parseRailsConfig, type RailInput, type RailsConfig } from './params/rails.ts';
export {
  AdditionalDataSchema, CIRCUIT_BREAKER_STATES, DEFAULT_TTL_MS, ProposalDraftSchema, ProposalDraftsSchema, UPDATE_STATES, UPDATE_TYPES, UpdateRecordSchema,
  isExpired, parseDrafts, parseUpdateRecord,
  type AdditionalData, type ParamValue, type ProposalDraft, type UpdateRecord, type UpdateState, type UpdateType,
} from './params/record.ts';
export { proposalFileJsonSchema, updateRecordJsonSchema } from './params/json-schema.ts';
export {
  SIGNATURE_HEADER, UPDATE_ID_HEADER, WebhookPublisher, parseWebhookConfig, signPayload, verifySignature,
  type SignatureCheck, type WebhookConfig, type WebhookPublisherOptions,
} from './params/webhook.ts';
export { startParamsApi, type ParamsApiOptions, type ParamsApiServer } from './params/http-api.ts';

// ── pipelines, scheduler and reports ────────────────────────────────────────────────────────────────────
export { STAGE_NAMES, loadPipeline, parsePipeline, pipelineSchema, type Pipeline, type PipelineConfig, type StageName } from './config/pipeline.ts';
export { runPipeline, type RunOptions, type RunResult, type StageEvent } from './pipeline/runner.ts';
export { startScheduler, type SchedulerOptions } from './scheduler/daemon.ts';
export { buildReportModel, loadReportModel, saveReportModel, writeReport, type ReportInput, type ReportModel } from './reporting/index.ts';
