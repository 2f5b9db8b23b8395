/**
 * Forecast comparison: the Diebold–Mariano test of equal predictive accuracy, on per-origin loss series
 * of two forecasts of the same targets at the same origins, and the tables of a walk-forward run
 * ({@link summarise}): accuracy, spike skill and DM against the baseline.
 */
import { AppError } from '../core/errors.ts';
import type { ModelSeries, WalkForwardResult } from '../forecasting/walk-forward.ts';
import { coverage, logRealised, lossSeries, mincerZarnowitz, mseLog, pinballLoss, qlike } from './metrics.ts';
import { brier, brierSkill, median, medianLeadTime, precisionRecall, rocAuc } from './spike-metrics.ts';
import { studentTTwoSidedP } from './stats.ts';

/** Result of {@link dieboldMariano}. */
export interface DieboldMariano {
  /** HLN-corrected DM statistic; negative ⇒ A has the lower mean loss. 0 when the series are identical. */
  readonly stat: number;
  /** Two-sided p-value of H0 "equal expected loss". */
  readonly p: number;
  /** Pairs used (both losses finite). */
  readonly n: number;
  /** mean(lossA − lossB) over those pairs. */
  readonly meanDiff: number;
  /** Newey–West long-run variance of d used in the statistic. */
  readonly longRunVariance: number;
}

/** Options of {@link dieboldMariano}. */
export interface DieboldMarianoOptions {
  /**
   * Forecast horizon in origins: the number of consecutive origins whose targets overlap (h-step
   * forecasts made every step have errors that are MA(h−1)). 1 for non-overlapping targets.
   */
  readonly horizon: number;
  /** Use the normal instead of Student-t(n−1) at or above this many pairs (default 1000; t(999) and N(0,1) differ by < 1e-3). */
  readonly normalAbove?: number;
}

/**
 * Diebold–Mariano (1995, J. Business & Economic Statistics 13(3):253–263) test with the
 * Harvey–Leybourne–Newbold (1997, Int. J. Forecasting 13(2):281–291) small-sample correction.
 *
 * With d_t = lossA_t − lossB_t over the n pairs where both are finite, d̄ their mean and
 * γ̂_k = (1/n)·Σ_{t=k+1..n} (d_t − d̄)(d_{t−k} − d̄):
 *
 *   σ̂² = γ̂_0 + 2·Σ_{k=1..h−1} (1 − k/h)·γ̂_k     (Newey–West 1987, Bartlett weights, h−1 lags: always ≥ 0)
 *   DM = d̄ / √(σ̂²/n)
 *   DM* = DM · √((n + 1 − 2h + h(h−1)/n) / n)
 *
 * p = 2·P(T_{n−1} > |DM*|), Student-t with n − 1 degrees of freedom (normal for large n). Identical
 * series give DM* = 0, p = 1; a constant non-zero difference gives ±∞, p = 0.
 *
 * @param lossA per-origin losses of model A (e.g. {@link lossSeries} `qlike`), NaN = unusable
 * @param lossB per-origin losses of model B at the same origins
 */
export function dieboldMariano(lossA: Float64Array, lossB: Float64Array, opts: DieboldMarianoOptions): DieboldMariano {
  if (lossA.length !== lossB.length) {
    throw new AppError('badRequest', `dieboldMariano needs loss series of equal length, got ${lossA.length} and ${lossB.length}: compute both at the same origins.`, {
      context: { lengths: [lossA.length, lossB.length] },
    });
  }
  const h = opts.horizon;
  if (!(Number.isInteger(h) && h >= 1)) {
    throw new AppError('badRequest', `dieboldMariano horizon must be a positive integer number of origins, got ${h}.`, { context: { horizon: h } });
  }
  const d = new Float64Array(lossA.length);
  let n = 0;
  let sum = 0;
  for (let i = 0; i < lossA.length; i++) {
    const a = lossA[i]!;
    const b = lossB[i]!;
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    d[n] = a - b;
    sum += a - b;
    n++;
  }
  if (n < 2) return { stat: Number.NaN, p: Number.NaN, n, meanDiff: n === 1 ? d[0]! : Number.NaN, longRunVariance: Number.NaN };
  const mean = sum / n;
  const autocov = (k: number): number => {
    let s = 0;
    for (let t = k; t < n; t++) s += (d[t]! - mean) * (d[t - k]! - mean);
    return s / n;
  };
  let lrv = autocov(0);
  for (let k = 1; k < Math.min(h, n); k++) lrv += 2 * (1 - k / h) * autocov(k);
  const base = { n, meanDiff: mean, longRunVariance: lrv };
  if (mean === 0) return { stat: 0, p: 1, ...base };
  if (!(lrv > 0)) return { stat: mean > 0 ? Infinity : -Infinity, p: 0, ...base };
  const dm = mean / Math.sqrt(lrv / n);
  const hln = Math.sqrt(Math.max(0, (n + 1 - 2 * h + (h * (h - 1)) / n) / n));
  const stat = dm * hln;
  const df = n >= (opts.normalAbove ?? 1000) ? Infinity : n - 1;
  return { stat, p: studentTTwoSidedP(stat, df), ...base };
}

/** Options of {@link summarise}. */
export interface SummariseOptions {
  /** Model every other model is tested against (Diebold–Mariano on QLIKE), e.g. `har`. */
  readonly baseline?: string;
  /** Alarm threshold on the spike probability for precision, recall and lead time (default 0.5). */
  readonly spikeThreshold?: number;
  /** Bars (origins) before an episode in which an alarm counts as a warning (default: one horizon, i.e. alarms whose forecast windows reach the episode start). */
  readonly leadLookbackBars?: number;
  /**
   * Score every model on the same pairs: per symbol, only origins where the realised variance and every
   * model's forecast are usable (default true). Without it a model that abstains on hard origins would
   * score on an easier sample.
   */
  readonly commonSample?: boolean;
}

/** Accuracy of one model on one symbol or pooled over symbols. */
export interface AccuracyRow {
  readonly model: string;
  readonly symbol: string;
  readonly n: number;
  readonly qlike: number;
  readonly mseLog: number;
  readonly mzAlpha: number;
  readonly mzBeta: number;
  readonly mzR2: number;
  /** Quantile level (as written by String(level)) → mean pinball loss on ln RV. */
  readonly pinball: Readonly<Record<string, number>>;
  /** Quantile level → share of origins with ln RV ≤ the forecast quantile. */
  readonly coverage: Readonly<Record<string, number>>;
}

/** Spike-forecast skill of one model on one symbol or pooled. */
export interface SpikeRow {
  readonly model: string;
  readonly symbol: string;
  readonly n: number;
  readonly auc: number;
  readonly brier: number;
  /** Against the training base rate in force at each origin. */
  readonly brierSkill: number;
  readonly precision: number;
  readonly recall: number;
  readonly medianLeadTimeH: number;
  readonly episodesDetected: number;
  readonly episodesMissed: number;
}

/** Diebold–Mariano test of one model against the baseline (negative stat ⇒ the model has lower QLIKE). */
export interface DmRow extends DieboldMariano {
  readonly model: string;
  readonly baseline: string;
  readonly symbol: string;
}

/** Tables of a walk-forward run. `symbol` is a symbol or `pooled`. */
export interface WalkForwardSummary {
  readonly accuracy: readonly AccuracyRow[];
  readonly spike: readonly SpikeRow[];
  readonly dm: readonly DmRow[];
}

const concat = (parts: readonly Float64Array[]): Float64Array => {
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const masked = (x: Float64Array, keep: Uint8Array | undefined): Float64Array => (keep ? x.map((v, i) => (keep[i] ? v : Number.NaN)) : x);

/**
 * Scores a walk-forward result: per model, per symbol and pooled (symbols concatenated in
 * `result.symbols` order), QLIKE, MSE-log, Mincer–Zarnowitz, pinball and coverage per quantile level;
 * spike skill for models with spike probabilities; and Diebold–Mariano of each model against the
 * baseline on the per-origin QLIKE series, with horizon = origins per forecast window
 * (⌈horizonBars·barMs / stepMs⌉) so the HAC variance absorbs the overlap of consecutive targets.
 */
export function summarise(result: WalkForwardResult, opts: SummariseOptions = {}): WalkForwardSummary {
  const { baseline } = opts;
  if (baseline !== undefined && !result.models.includes(baseline)) {
    throw new AppError('config', `Baseline "${baseline}" is not among the evaluated models (${result.models.join(', ')}): add it to the run or pick one of those.`, { context: { baseline } });
  }
  const overlap = Math.max(1, Math.ceil((result.horizonBars * result.barMs) / result.stepMs));
  const threshold = opts.spikeThreshold ?? 0.5;
  const lookback = opts.leadLookbackBars ?? overlap;
  const get = (model: string, symbol: string): ModelSeries => {
    const s = result.series.find((x) => x.model === model && x.symbol === symbol);
    if (!s) throw new AppError('internal', `Walk-forward result has no series for model ${model} and symbol ${symbol}.`);
    return s;
  };
  const keep = new Map<string, Uint8Array | undefined>();
  for (const symbol of result.symbols) {
    if (opts.commonSample === false) continue;
    const all = result.models.map((m) => get(m, symbol));
    const mask = new Uint8Array(all[0]!.realised.length);
    mask.forEach((_, i) => {
      mask[i] = Number.isFinite(all[0]!.realised[i]!) && all.every((s) => Number.isFinite(s.forecast[i]!) && s.forecast[i]! > 0) ? 1 : 0;
    });
    keep.set(symbol, mask);
  }

  const accuracy: AccuracyRow[] = [];
  const spike: SpikeRow[] = [];
  const dm: DmRow[] = [];
  const groups = [...result.symbols.map((s) => [s, [s]] as const), ['pooled', result.symbols] as const];
  for (const model of result.models) {
    for (const [label, symbols] of groups) {
      const parts = symbols.map((s) => get(model, s));
      const pick = (f: (s: ModelSeries) => Float64Array | undefined): Float64Array | undefined => {
        const xs = parts.map((s, i) => { const x = f(s); return x && masked(x, keep.get(symbols[i]!)); });
        return xs.every((x) => x !== undefined) ? concat(xs as Float64Array[]) : undefined;
      };
      const realised = pick((s) => s.realised)!;
      const forecast = pick((s) => s.forecast)!;
      accuracy.push(accuracyRow(model, label, realised, forecast, parts, pick));
      const probs = pick((s) => s.spikeProb);
      const labels = pick((s) => s.spikeLabel);
      if (probs && labels) {
        const leads = parts.map((s, i) => medianLeadTime(masked(s.spikeLabel!, keep.get(symbols[i]!)), s.spikeProb!, threshold, s.originMs, { lookbackBars: lookback }));
        const auc = rocAuc(labels, probs);
        const pr = precisionRecall(labels, probs, threshold);
        spike.push({
          model, symbol: label, n: auc.n, auc: auc.auc, brier: brier(labels, probs).brier,
          brierSkill: brierSkill(labels, probs, pick((s) => s.spikeClimatology)).skill,
          precision: pr.precision, recall: pr.recall,
          medianLeadTimeH: median(concat(leads.map((l) => l.leadTimesMs))) / 3_600_000,
          episodesDetected: leads.reduce((a, l) => a + l.detected, 0), episodesMissed: leads.reduce((a, l) => a + l.missed, 0),
        });
      }
      if (baseline !== undefined && model !== baseline) {
        const base = symbols.map((s, i) => masked(get(baseline, s).forecast, keep.get(symbols[i]!)));
        const lossB = lossSeries('qlike', realised, concat(base));
        dm.push({ model, baseline, symbol: label, ...dieboldMariano(lossSeries('qlike', realised, forecast), lossB, { horizon: overlap }) });
      }
    }
  }
  return { accuracy, spike, dm };
}

function accuracyRow(
  model: string, symbol: string, realised: Float64Array, forecast: Float64Array, parts: readonly ModelSeries[],
  pick: (f: (s: ModelSeries) => Float64Array | undefined) => Float64Array | undefined,
): AccuracyRow {
  const q = qlike(realised, forecast);
  const mz = mincerZarnowitz(realised, forecast);
  const pinball: Record<string, number> = {};
  const cover: Record<string, number> = {};
  const yLog = logRealised(realised);
  for (const level of parts[0]?.logRvQuantiles?.keys() ?? []) {
    const qLog = pick((s) => s.logRvQuantiles?.get(level));
    if (!qLog) continue;
    pinball[String(level)] = pinballLoss(yLog, qLog, level).value;
    cover[String(level)] = coverage(yLog, qLog).value;
  }
  return {
    model, symbol, n: q.n, qlike: q.value, mseLog: mseLog(realised, forecast).value,
    mzAlpha: mz.alpha, mzBeta: mz.beta, mzR2: mz.r2, pinball, coverage: cover,
  };
}
