/**
 * `liqcal recommend`: the parameters each market should run on now (issue 4 item 7). The policy is run over a
 * recent out-of-sample history exactly as in the backtest — forecasters refitted walk-forward, the scale
 * calibrated on closed excursions, the governor stepping through time — and then forecasts the latest closed
 * bar with a model fitted on everything; the last step's margin, its pending change (with effective time), the
 * derived parameters with their rationale, and the circuit-breaker state are the recommendation. Publishing is
 * the parameter store's job.
 */
import { AppError } from '../core/errors.ts';
import { intervalMs, iso, systemClock, type Clock, type EpochMs, type Interval } from '../core/time.ts';
import { loadFeatureFrames } from '../features/build.ts';
import type { FeatureFrame } from '../features/frame.ts';
import type { ForecasterSpec } from '../forecasting/forecaster.ts';
import { horizonBars as parseHorizon } from '../forecasting/horizon.ts';
import { resolveBarVenue } from '../ingest/series-venue.ts';
import type { MarketData } from '../store/market-data.ts';
import { coverageRow, testRange } from './backtest-metrics.ts';
import { forwardRv } from '../dataset/targets.ts';
import { logReturns } from '../features/returns.ts';
import { alignForecasts, forecasts } from './backtest.ts';
import { breakerInputs } from './breaker-inputs.ts';
import { DEFAULT_BREAKER_CONFIG, runBreakers, type BlockedActions, type BreakerConfig, type BreakerReason, type BreakerState } from './circuit-breakers.ts';
import { DEFAULT_POLICY_CONFIG, type PolicyConfig } from './config.ts';
import { marketSeries, marketStates } from './market-series.ts';
import { marginParams, type MarginParams, type Rationale } from './margin-policy.ts';
import { POLICY_MODEL, policySeries, type MarketSeries, type PolicyName, type PolicySeries } from './policy-series.ts';

const DAY_MS = 86_400_000;

/** Options of {@link recommend}. */
export interface RecommendOptions {
  readonly md: MarketData;
  readonly symbols: readonly string[];
  readonly interval?: Interval;
  readonly venue?: string;
  readonly policy?: PolicyName;
  readonly config?: PolicyConfig;
  readonly breakers?: BreakerConfig;
  /** Out-of-sample history the scale and the governor run over (default 120 days). */
  readonly calibrationDays?: number;
  readonly retrainEveryDays?: number;
  readonly seed?: number;
  /** Forecaster specs by model name, replacing the registry's. */
  readonly modelSpecs?: Readonly<Record<string, ForecasterSpec>>;
  /** Also return each market's history over the calibration window (for reports and charts). */
  readonly includeHistory?: boolean;
  /** Injected clock: data age for the stale-data breaker. */
  readonly clock?: Clock;
}

/** A margin change the policy has decided: from → to, announced now, effective at `effectiveAt`. */
export interface RecommendedChange {
  readonly from: number;
  readonly to: number;
  readonly announcedAt: string;
  readonly effectiveAt: string;
}

/** The recommendation for one market. */
export interface MarketRecommendation {
  readonly market: string;
  readonly asOf: string;
  readonly policy: PolicyName;
  readonly params: MarginParams;
  readonly rationale: readonly Rationale[];
  /** The maintenance margin the policy has in force now, and the change it announces (null: none). */
  readonly currentMaintenanceMarginRatio: number;
  readonly change: RecommendedChange | null;
  readonly circuitBreaker: { readonly state: BreakerState; readonly reasons: readonly BreakerReason[]; readonly blocked: BlockedActions };
  readonly forecast: { readonly model: string | null; readonly sigmaH: number; readonly spikeProb: number | null; readonly horizon: string };
  /** The policy over the calibration window, hourly (with `includeHistory`). */
  readonly history?: MarketHistory;
  /** Coverage of the policy over the calibration window (out of sample, non-overlapping horizons). */
  readonly validation: { readonly observations: number; readonly breaches: number; readonly breachRate: number; readonly kupiecP: number };
}

/**
 * A market's policy history over the calibration window, one entry per decision instant (bar close, epoch ms):
 * forecast σ over H, the σ realised over the H bars that followed (NaN at the end), the maintenance margin in
 * force, whether the excursion plus the liquidation cost breached it, the spike probability and the breaker state.
 */
export interface MarketHistory {
  readonly timeMs: number[];
  readonly sigmaH: number[];
  readonly realisedSigmaH: number[];
  readonly margin: number[];
  readonly breach: boolean[];
  readonly spikeProb: number[];
  readonly breaker: BreakerState[];
}

/** The JSON report of `liqcal recommend`. */
export interface RecommendReport {
  readonly policy: PolicyName;
  readonly confidence: number;
  readonly horizon: string;
  readonly interval: Interval;
  readonly venue: string;
  readonly recommendations: readonly MarketRecommendation[];
  readonly elapsedMs: number;
}

/** Forecasts of `model` at the last `k` bars of each frame, from a fit on everything that closed by the last bar. */
async function tailForecasts(frames: readonly FeatureFrame[], model: string, h: number, k: number, seed: number, specs?: Readonly<Record<string, ForecasterSpec>>): Promise<Map<string, { sigmaH: Float64Array; spikeProb?: Float64Array; origins: Int32Array }>> {
  const { forecasterFor } = await import('./forecasters.ts');
  const f = forecasterFor(model, specs);
  const barMs = intervalMs(frames[0]!.interval);
  const fitEnd = Math.max(...frames.map((fr) => fr.timeMs[fr.timeMs.length - 1]! + barMs)) as EpochMs;
  const fitted = await f.fit(frames, { fitEnd, seed, horizonBars: h });
  try {
    return new Map(frames.map((fr) => {
      const n = fr.timeMs.length;
      const origins = Int32Array.from({ length: Math.min(k, n) }, (_, i) => n - Math.min(k, n) + i);
      const b = fitted.predict(fr, { origins, horizonBars: h });
      return [fr.symbol, { sigmaH: b.variance.map((v) => Math.sqrt(Math.max(0, v))), ...(b.spikeProb ? { spikeProb: b.spikeProb } : {}), origins }];
    }));
  } finally {
    fitted.dispose();
  }
}

/**
 * Recommends parameters for every symbol: runs `policy` (default ml-anticipatory) over the last
 * `calibrationDays` out of sample, forecasts the latest bar, and derives the parameter set with rationale and
 * circuit-breaker state.
 */
export async function recommend(opts: RecommendOptions): Promise<{ report: RecommendReport }> {
  const t0 = performance.now();
  const interval = opts.interval ?? '1h';
  const cfg = opts.config ?? DEFAULT_POLICY_CONFIG;
  const policy = opts.policy ?? 'ml-anticipatory';
  const model = POLICY_MODEL[policy];
  const h = parseHorizon(cfg.horizon, interval);
  const barMs = intervalMs(interval);
  const venue = resolveBarVenue(opts.md, opts.symbols, interval, opts.venue);
  const seed = opts.seed ?? 42;
  const calibrationDays = opts.calibrationDays ?? 120;
  const frames = loadFeatureFrames(opts.md, { venue, symbols: opts.symbols, interval });
  const lastClose = Math.max(...frames.map((f) => f.timeMs[f.timeMs.length - 1]! + barMs));
  const calFrom = lastClose - calibrationDays * DAY_MS;
  for (const f of frames) {
    if (f.timeMs[0]! + 60 * DAY_MS > calFrom) {
      throw new AppError('dataQuality', `${f.symbol} has bars from ${iso(f.timeMs[0]!)} only: recommend needs ${calibrationDays} days of calibration history plus 60 days before it (from ${iso(calFrom - 60 * DAY_MS)}). Backfill more bars or lower --calibration-days.`, { context: { symbol: f.symbol } });
    }
  }
  const opts4 = { md: opts.md, symbols: opts.symbols, interval, fromMs: calFrom, toMs: lastClose, policies: [policy], ...(opts.modelSpecs ? { modelSpecs: opts.modelSpecs } : {}) };
  const wf = model ? await forecasts(opts4, frames, h, calFrom, opts.retrainEveryDays ?? 60, seed) : undefined;
  const tail = model ? await tailForecasts(frames, model, h, h + 1, seed, opts.modelSpecs) : undefined;
  const nowMs = (opts.clock ?? systemClock).now();

  const recommendations = frames.map((frame): MarketRecommendation => {
    const n = frame.timeMs.length;
    const { sigmaH, spikeProb } = alignForecasts(frame, wf, model ?? '');
    const tf = tail?.get(frame.symbol);
    tf?.origins.forEach((o, i) => {
      sigmaH[o] = tf.sigmaH[i]!;
      if (tf.spikeProb) spikeProb[o] = tf.spikeProb[i]!;
    });
    const market = marketSeries(frame, h, cfg);
    const series = policySeries({ policy, market, cfg, trainEndMs: calFrom, ...(model ? { sigmaH, spikeProb } : {}) });
    const last = n - 1;
    const lastChange = series.changes.at(-1);
    const pending = lastChange && lastChange.effectiveMs > frame.timeMs[last]! + barMs ? lastChange : undefined;
    const decidedNow = lastChange && lastChange.announcedMs === frame.timeMs[last]! + barMs ? lastChange : undefined;
    const target = pending?.to ?? series.margin[last]!;
    const st = marketStates(frame);
    const state = { sigmaBar: st.sigmaBar[last]!, barQuoteVolumeUsd: st.barQuoteVolumeUsd[last]! };
    const clippedBy = series.bindings ? governorClips(series, last, cfg, pending !== undefined) : [];
    const { params, rationale } = marginParams({
      riskRatio: Math.max(0, target - market.oracle[last]! - market.liqCost[last]!), state, cfg, barMs,
      riskDrivers: { sigmaH: sigmaH[last]!, scale: series.scale[last]!, ...(Number.isFinite(spikeProb[last]!) ? { spikeProb: spikeProb[last]! } : {}) },
      riskClippedBy: clippedBy,
    });
    const [from] = testRange(market, calFrom, lastClose + barMs);
    const steps = runBreakers(breakerInputs(frame, sigmaH, spikeProb, nowMs, from), opts.breakers ?? DEFAULT_BREAKER_CONFIG);
    const br = steps.at(-1)!;
    const { row } = coverageRow(market, series, calFrom, lastClose, cfg.confidence);
    const change = pending ?? decidedNow;
    return {
      market: frame.symbol, asOf: iso(frame.timeMs[last]! + barMs), policy, params, rationale,
      currentMaintenanceMarginRatio: pending ? pending.from : (decidedNow ? decidedNow.from : series.margin[last]!),
      change: change ? { from: change.from, to: change.to, announcedAt: iso(change.announcedMs), effectiveAt: iso(change.effectiveMs) } : null,
      circuitBreaker: { state: br.state, reasons: br.reasons, blocked: br.blocked },
      forecast: { model: model ?? null, sigmaH: sigmaH[last]!, spikeProb: Number.isFinite(spikeProb[last]!) ? spikeProb[last]! : null, horizon: cfg.horizon },
      validation: { observations: row.observations, breaches: row.breaches, breachRate: row.breachRate, kupiecP: row.kupiecP },
      ...(opts.includeHistory ? { history: marketHistory(frame, market, series, sigmaH, spikeProb, steps.map((x) => x.state), from) } : {}),
    };
  });
  return { report: { policy, confidence: cfg.confidence, horizon: cfg.horizon, interval, venue, recommendations, elapsedMs: Math.round(performance.now() - t0) } };
}

/** The hourly history of one market from origin `from` on (the breaker states start there too). */
function marketHistory(frame: FeatureFrame, market: MarketSeries, series: PolicySeries, sigmaH: Float64Array, spikeProb: Float64Array, breaker: BreakerState[], from: number): MarketHistory {
  const r = frame.columns.r ?? logReturns(frame.bars.close);
  const realised = forwardRv(r, market.horizonBars);
  const idx = Array.from({ length: market.originMs.length - from }, (_, i) => from + i);
  const num = (x: number): number => (Number.isFinite(x) ? x : Number.NaN);
  return {
    timeMs: idx.map((u) => market.originMs[u]! + market.barMs),
    sigmaH: idx.map((u) => num(sigmaH[u]!)),
    realisedSigmaH: idx.map((u) => Math.sqrt(realised[u]!)),
    margin: idx.map((u) => series.margin[u]!),
    breach: idx.map((u) => market.mae[u]! + market.liqCost[u]! > series.margin[u]!),
    spikeProb: idx.map((u) => num(spikeProb[u]!)),
    breaker,
  };
}

/** Governor bounds that hold the margin away from what the policy wants at the last step. */
function governorClips(series: ReturnType<typeof policySeries>, last: number, cfg: PolicyConfig, pending: boolean): string[] {
  const out: string[] = [];
  if (pending) out.push(`governor.noticeMs (${cfg.governor.noticeMs / 60_000} min notice before an increase)`);
  const want = series.desired?.[last] ?? Number.NaN;
  const level = series.changes.at(-1)?.to ?? series.margin[last]!;
  if (want > level * (1 + cfg.governor.deadband)) out.push(`governor.maxStepUp/minDelay (wants ${(want * 100).toFixed(2)}%)`);
  if (want < level * (1 - cfg.governor.deadband)) out.push(`governor.hysteresis/maxStepDown (wants ${(want * 100).toFixed(2)}%)`);
  return out;
}
