/**
 * HAR-RV in logs (Corsi 2009, J. Fin. Econometrics 7(2)) and two extensions, fitted by OLS per symbol:
 *
 *   ln RV_h(t) = β0 + βd ln rv_1d(t) + βw ln rv_1w(t) + βm ln rv_1m(t) + ε(t)          variant 'rv'
 *   … + βj ln(1 + jump_1d(t))                                                         variant 'j'  (HAR-RV-J, Andersen, Bollerslev & Diebold 2007, REStat)
 *   ln rv_1d split into βp ln rs_pos_1d(t) + βn ln rs_neg_1d(t)                       variant 'sv' (Patton & Sheppard 2015, REStat)
 *
 * RV_h(t) = Σ_{j=1..h} r[t+j]² is the realised variance of the h bars after the origin t (`forwardRv`); the
 * regressors are the frame's per-day HAR aggregates at t (bars ≤ t). The h-bar vs per-day scale sits in β0.
 * Mapping back to variance uses the log-normal bias correction E[RV] = exp(μ + σ²/2), σ² = SSR/(n − p).
 * Quantiles of ln RV_h are μ(t) + the empirical quantile of the in-sample residuals (stored on a grid of
 * 1,001 levels, linearly interpolated), so they need no distributional assumption.
 *
 * Training uses `trainingOrigins` (labels closed by `fitEnd`: the one-horizon embargo) with complete
 * regressors. A zero regressor or label (a flat day; RS+ of an all-down day) is floored at 1% of its
 * training median before the log; the floors are part of the state. Forecasts at origins whose
 * regressors are not yet warm (rv_1m needs 30 days of bars) are NaN. `originMs` is the origin bar's open
 * time (`frame.timeMs[t]`); the forecast is made at that bar's close.
 */
import { z } from 'zod';
import { AppError, formatIssues } from '../../core/errors.ts';
import { intervalMs } from '../../core/time.ts';
import { ols } from '../../dataset/ols.ts';
import { forwardRv } from '../../dataset/targets.ts';
import { trainingOrigins } from '../../dataset/walk-forward.ts';
import type { FeatureFrame } from '../../features/frame.ts';
import type { FitOptions, ForecastBatch, Forecaster, ForecasterCapabilities, ForecasterSpec, FittedForecaster, ModelArtifact, PredictRequest } from '../forecaster.ts';

/** HAR variants: plain, with jumps, with signed semivariances. */
export type HarVariant = 'rv' | 'j' | 'sv';

/** Spec of a HAR forecaster. `name` is a report label only. */
export interface HarSpec extends ForecasterSpec {
  readonly kind: 'har';
  readonly variant?: HarVariant;
  readonly name?: string;
}

/** Frame columns each variant regresses on, in coefficient order (after the intercept). */
export const HAR_REGRESSORS: Readonly<Record<HarVariant, readonly string[]>> = {
  rv: ['rv_1d', 'rv_1w', 'rv_1m'],
  j: ['rv_1d', 'rv_1w', 'rv_1m', 'jump_1d'],
  sv: ['rs_pos_1d', 'rs_neg_1d', 'rv_1w', 'rv_1m'],
};

/** Columns entering as ln(1 + x) (jumps are often exactly 0); all others enter as ln(max(x, floor)). */
const LOG1P_COLUMNS = new Set(['jump_1d']);
/** A zero variance (a flat day, an all-up day's RS−) is floored at this share of its training median before the log. */
const FLOOR_SHARE = 0.01;
/** Residual quantile grid: levels k / GRID for k = 0 … GRID. */
const GRID = 1000;

const specSchema = z.looseObject({ kind: z.literal('har'), variant: z.enum(['rv', 'j', 'sv']).optional(), name: z.string().optional() });

const symbolStateSchema = z.object({
  beta: z.array(z.number()),
  sigma2: z.number().nonnegative(),
  floors: z.array(z.number()),
  yFloor: z.number().positive(),
  residualQuantiles: z.array(z.number()).length(GRID + 1),
  nObs: z.number().int().positive(),
  r2: z.number().nullable(),
});
const stateSchema = z.object({
  version: z.literal(1),
  variant: z.enum(['rv', 'j', 'sv']),
  horizonBars: z.number().int().positive(),
  regressors: z.array(z.string()),
  symbols: z.record(z.string(), symbolStateSchema),
});

/** Serialised HAR state: coefficients, floors and residual quantiles per symbol. */
export type HarState = z.infer<typeof stateSchema>;
type SymbolState = z.infer<typeof symbolStateSchema>;

const CAPABILITIES: ForecasterCapabilities = { quantiles: true, spike: false, pooled: false };

/**
 * Creates a HAR forecaster (log HAR-RV, HAR-RV-J or HAR-SV; see the module comment).
 * @param spec - `{ kind: 'har', variant?: 'rv' | 'j' | 'sv' }`, default variant 'rv'.
 * @throws AppError `config` for an invalid spec.
 */
export function createHar(spec: HarSpec = { kind: 'har', variant: 'rv' }): Forecaster<HarSpec> {
  const parsed = specSchema.safeParse(spec);
  if (!parsed.success) throw new AppError('config', `Invalid HAR spec: ${formatIssues(parsed.error.issues)}. Use { kind: 'har', variant: 'rv' | 'j' | 'sv' }.`, { context: { spec } });
  const variant: HarVariant = spec.variant ?? 'rv';
  return {
    spec,
    capabilities: CAPABILITIES,
    fit: async (train, opts) => fittedHar(spec, fitHar(train, opts, variant)),
    load: async (artifact) => {
      if (artifact.spec.kind !== 'har') throw new AppError('config', `Cannot load a "${artifact.spec.kind}" artifact as a HAR model.`, { context: { spec: artifact.spec } });
      const st = stateSchema.safeParse(artifact.state);
      if (!st.success) throw new AppError('schema', `HAR artifact state is invalid: ${formatIssues(st.error.issues)}.`, { context: { issues: st.error.issues.map((i) => i.path.join('.')) } });
      if (st.data.variant !== variant) throw new AppError('config', `The artifact is HAR variant '${st.data.variant}' but this forecaster is '${variant}'; create the forecaster from the artifact's spec.`, { context: { artifact: st.data.variant, variant } });
      return fittedHar(artifact.spec as HarSpec, st.data);
    },
  };
}

function fitHar(train: readonly FeatureFrame[], opts: FitOptions, variant: HarVariant): HarState {
  const h = opts.horizonBars;
  if (!Number.isInteger(h) || h < 1) throw new AppError('config', `HAR fit: horizonBars must be a positive whole number, not ${h}.`, { context: { horizonBars: h } });
  const regressors = HAR_REGRESSORS[variant];
  const symbols: Record<string, SymbolState> = {};
  for (const frame of train) {
    if (symbols[frame.symbol]) throw new AppError('config', `HAR fit got two frames for ${frame.symbol}; pass one frame per symbol.`, { context: { symbol: frame.symbol } });
    symbols[frame.symbol] = fitSymbol(frame, regressors, h, opts.fitEnd);
  }
  return { version: 1, variant, horizonBars: h, regressors: [...regressors], symbols };
}

function fitSymbol(frame: FeatureFrame, regressors: readonly string[], h: number, fitEnd: number): SymbolState {
  const cols = regressors.map((name) => column(frame, name));
  const y = forwardRv(column(frame, 'r'), h);
  const origins = trainingOrigins(frame.timeMs, intervalMs(frame.interval), h, fitEnd);
  const rows: number[] = [];
  for (const t of origins) {
    if (Number.isFinite(y[t]!) && cols.every((c) => Number.isFinite(c[t]!))) rows.push(t);
  }
  const p = regressors.length + 1;
  const minObs = Math.max(30, 10 * p);
  if (rows.length < minObs) {
    throw new AppError('dataQuality', `HAR fit for ${frame.symbol}: only ${rows.length} usable training origins before fitEnd ${new Date(fitEnd).toISOString()} (need ${minObs}); fit on a longer history (rv_1m needs 30 days of bars first).`, { context: { symbol: frame.symbol, rows: rows.length, fitEnd } });
  }
  const floors = regressors.map((name, j) => (LOG1P_COLUMNS.has(name) ? 0 : floorOf(rows, cols[j]!, `${frame.symbol} ${name}`)));
  const yFloor = floorOf(rows, y, `${frame.symbol} forward RV`);
  const X = [new Float64Array(rows.length).fill(1), ...regressors.map((name, j) => Float64Array.from(rows, (t) => transform(name, cols[j]![t]!, floors[j]!)))];
  const yv = Float64Array.from(rows, (t) => Math.log(Math.max(y[t]!, yFloor)));
  const fit = ols(X, yv);
  let ssr = 0;
  for (const e of fit.residuals) ssr += e * e;
  const sorted = Float64Array.from(fit.residuals).sort();
  const residualQuantiles = Array.from({ length: GRID + 1 }, (_, k) => quantileSorted(sorted, k / GRID));
  return { beta: Array.from(fit.beta), sigma2: ssr / (rows.length - p), floors, yFloor, residualQuantiles, nObs: rows.length, r2: Number.isFinite(fit.r2) ? fit.r2 : null };
}

function fittedHar(spec: HarSpec, state: HarState): FittedForecaster<HarSpec> {
  return {
    spec,
    symbols: Object.keys(state.symbols),
    predict: (history, req) => predictHar(state, history, req),
    toArtifact: (): ModelArtifact => ({ spec, state: structuredClone(state) }),
    dispose: () => {},
  };
}

function predictHar(state: HarState, frame: FeatureFrame, req: PredictRequest): ForecastBatch {
  const s = state.symbols[frame.symbol];
  if (!s) throw new AppError('notSupported', `This HAR model was fitted on ${Object.keys(state.symbols).join(', ') || 'no symbols'}, not ${frame.symbol}; HAR is per symbol, so fit it on ${frame.symbol}.`, { context: { symbol: frame.symbol } });
  if (req.horizonBars !== state.horizonBars) throw new AppError('notSupported', `This HAR model forecasts ${state.horizonBars}-bar variance, not ${req.horizonBars}; fit one model per horizon.`, { context: { fitted: state.horizonBars, requested: req.horizonBars } });
  const cols = state.regressors.map((name) => column(frame, name));
  const n = frame.timeMs.length;
  const m = req.origins.length;
  const mu = new Float64Array(m);
  const originMs = new Float64Array(m);
  const variance = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const t = req.origins[i]!;
    if (!(t >= 0 && t < n)) throw new AppError('config', `Origin index ${t} is outside the frame of ${frame.symbol} (0 … ${n - 1}).`, { context: { origin: t } });
    let acc = s.beta[0]!;
    for (let j = 0; j < cols.length; j++) acc += s.beta[j + 1]! * transform(state.regressors[j]!, cols[j]![t]!, s.floors[j]!);
    mu[i] = acc;
    originMs[i] = frame.timeMs[t]!;
    variance[i] = Math.exp(acc + s.sigma2 / 2);
  }
  const batch: { -readonly [K in keyof ForecastBatch]: ForecastBatch[K] } = { symbol: frame.symbol, horizonBars: req.horizonBars, originMs, variance };
  if (req.quantiles && req.quantiles.length > 0) {
    const qs = new Map<number, Float64Array>();
    for (const q of req.quantiles) {
      if (!(q > 0 && q < 1)) throw new AppError('config', `Quantile levels must lie strictly between 0 and 1, not ${q}.`, { context: { quantile: q } });
      const e = gridQuantile(s.residualQuantiles, q);
      qs.set(q, Float64Array.from(mu, (x) => x + e));
    }
    batch.logRvQuantiles = qs;
  }
  return batch;
}

/** The regressor as it enters the regression. */
function transform(name: string, x: number, floor: number): number {
  return LOG1P_COLUMNS.has(name) ? Math.log1p(x) : Math.log(Math.max(x, floor));
}

function column(frame: FeatureFrame, name: string): Float64Array {
  const c = frame.columns[name];
  if (!c) throw new AppError('dataQuality', `HAR needs the feature column "${name}", which the frame of ${frame.symbol} lacks; build frames with buildFeatureFrame.`, { context: { symbol: frame.symbol, column: name } });
  return c;
}

/** FLOOR_SHARE × the median of the positive values of `x` at `rows`. */
function floorOf(rows: readonly number[], x: Float64Array, what: string): number {
  const pos = Float64Array.from(rows.map((t) => x[t]!).filter((v) => v > 0)).sort();
  if (pos.length === 0) throw new AppError('dataQuality', `HAR fit: ${what} is never positive in the training window; the price series looks constant.`, { context: { what } });
  return FLOOR_SHARE * quantileSorted(pos, 0.5);
}

/** Type-7 (linear interpolation) quantile of an ascending array. */
function quantileSorted(a: Float64Array, q: number): number {
  const pos = q * (a.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, a.length - 1);
  return a[lo]! + (pos - lo) * (a[hi]! - a[lo]!);
}

/** Quantile at level q from the grid of levels k / GRID, linearly interpolated. */
function gridQuantile(grid: readonly number[], q: number): number {
  const pos = q * GRID;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, GRID);
  return grid[lo]! + (pos - lo) * (grid[hi]! - grid[lo]!);
}
