/**
 * Builds a market's per-origin calibration inputs from its feature frame, pure and causal: the realised
 * maximum adverse excursion over H (the label), and the market state known at each origin's close —
 * trailing realised σ per bar, typical bar volume, the oracle buffer and liquidation cost they imply, and
 * the long-lookback σ of the floor.
 */
import { maxAdverseExcursion } from '../dataset/targets.ts';
import { rollingMedian } from '../dataset/rolling-window.ts';
import type { FeatureFrame } from '../features/frame.ts';
import { logReturns } from '../features/returns.ts';
import { intervalMs } from '../core/time.ts';
import type { PolicyConfig } from './config.ts';
import { liquidationCostRatio, oracleBufferRatio, type MarketState } from './margin-policy.ts';
import type { MarketSeries } from './policy-series.ts';

const DAY_MS = 86_400_000;

/** Trailing mean of the finite values of x over `window` bars, available once `minCount` are present (expanding until full). */
export function trailingMean(x: Float64Array, window: number, minCount: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(n).fill(Number.NaN);
  let sum = 0;
  let count = 0;
  for (let t = 0; t < n; t++) {
    const v = x[t]!;
    if (Number.isFinite(v)) {
      sum += v;
      count++;
    }
    if (t >= window) {
      const old = x[t - window]!;
      if (Number.isFinite(old)) {
        sum -= old;
        count--;
      }
    }
    if (count >= minCount) out[t] = Math.max(0, sum / count);
  }
  return out;
}

/** Quote volume per bar in USD: the reported quote volume, else base volume × close. */
export function quoteVolumeUsd(frame: FeatureFrame): Float64Array {
  const { quoteVolume, volume, close } = frame.bars;
  return Float64Array.from(quoteVolume, (q, t) => (Number.isFinite(q) && q > 0 ? q : volume[t]! * close[t]!));
}

/** Market state at each origin: trailing 1-day realised σ per bar and the trailing 7-day median bar volume. */
export function marketStates(frame: FeatureFrame): { sigmaBar: Float64Array; barQuoteVolumeUsd: Float64Array } {
  const barMs = intervalMs(frame.interval);
  const perDay = Math.max(1, Math.round(DAY_MS / barMs));
  const r = frame.columns.r ?? logReturns(frame.bars.close);
  const r2 = Float64Array.from(r, (x) => x * x);
  const meanDay = trailingMean(r2, perDay, Math.max(1, perDay >> 1));
  return {
    sigmaBar: Float64Array.from(meanDay, Math.sqrt),
    barQuoteVolumeUsd: rollingMedian(quoteVolumeUsd(frame), 7 * perDay, perDay),
  };
}

/**
 * The per-origin inputs of {@link policySeries} for every bar of `frame` (origin u = bar u). `horizonBars` is H
 * in bars; the floor's σ uses `cfg.governor.floorLookbackDays` (expanding until it is full, ≥ 30 days).
 */
export function marketSeries(frame: FeatureFrame, horizonBars: number, cfg: PolicyConfig): MarketSeries {
  const barMs = intervalMs(frame.interval);
  const perDay = Math.max(1, Math.round(DAY_MS / barMs));
  const n = frame.timeMs.length;
  const exc = maxAdverseExcursion(frame.bars, horizonBars);
  const mae = Float64Array.from(exc.long, (l, t) => Math.max(l, exc.short[t]!));
  const st = marketStates(frame);
  const oracle = new Float64Array(n);
  const liqCost = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const state: MarketState = { sigmaBar: st.sigmaBar[t]!, barQuoteVolumeUsd: st.barQuoteVolumeUsd[t]! };
    oracle[t] = oracleBufferRatio(state, cfg, barMs);
    liqCost[t] = liquidationCostRatio(cfg.liquidation.referenceNotionalUsd, state, cfg);
  }
  const r = frame.columns.r ?? logReturns(frame.bars.close);
  const r2 = Float64Array.from(r, (x) => x * x);
  const longMean = trailingMean(r2, cfg.governor.floorLookbackDays * perDay, 30 * perDay);
  const weekMean = trailingMean(r2, 7 * perDay, perDay);
  return {
    symbol: frame.symbol, originMs: frame.timeMs, barMs, horizonBars, mae, oracle, liqCost,
    sigmaLongH: Float64Array.from(longMean, (v) => Math.sqrt(v * horizonBars)),
    sigmaPastH: Float64Array.from(weekMean, (v) => Math.sqrt(v * horizonBars)),
    sigmaRecentH: Float64Array.from(trailingMean(r2, horizonBars, horizonBars), (v) => Math.sqrt(v * horizonBars)),
  };
}

/** The origins [from, to) of a market series, as views. */
export function sliceMarket(m: MarketSeries, from: number, to: number): MarketSeries {
  const s = (a: Float64Array): Float64Array => a.subarray(from, to);
  return { ...m, originMs: s(m.originMs), mae: s(m.mae), oracle: s(m.oracle), liqCost: s(m.liqCost), sigmaLongH: s(m.sigmaLongH), sigmaPastH: s(m.sigmaPastH), sigmaRecentH: s(m.sigmaRecentH) };
}
