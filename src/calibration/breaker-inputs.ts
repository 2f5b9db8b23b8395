/**
 * Circuit-breaker inputs from a market's bars and a policy's forecasts (issue 4 item 4): spike probability,
 * the day-over-day move of the forecast σ, data age, liquidity against its 7-day median, funding, price
 * validity. Cross-venue divergence is left unknown here (one venue per frame); a caller with a reference
 * price (ingest/aggregate.ts) can fill it.
 */
import { intervalMs } from '../core/time.ts';
import type { FeatureFrame } from '../features/frame.ts';
import type { BreakerInput } from './circuit-breakers.ts';
import { marketStates } from './market-series.ts';

const DAY_MS = 86_400_000;

/** Breaker inputs at every origin of a frame from the policy's forecasts and the market's bars. */
export function breakerInputs(frame: FeatureFrame, sigmaH: Float64Array, spikeProb: Float64Array, nowMs: number, from: number): BreakerInput[] {
  const barMs = intervalMs(frame.interval);
  const perDay = Math.max(1, Math.round(DAY_MS / barMs));
  const st = marketStates(frame);
  const out: BreakerInput[] = [];
  const n = frame.timeMs.length;
  for (let t = from; t < n; t++) {
    const close = frame.timeMs[t]! + barMs;
    const prev = sigmaH[t - perDay];
    const q = frame.bars.quoteVolume[t]!;
    const vol = Number.isFinite(q) && q > 0 ? q : frame.bars.volume[t]! * frame.bars.close[t]!;
    out.push({
      timeMs: close,
      spikeProb: spikeProb[t],
      sigmaMoveRatio: prev !== undefined && prev > 0 ? sigmaH[t]! / prev : Number.NaN,
      // Only the last step is "now": earlier steps saw their bar as soon as it closed.
      dataAgeMs: t === n - 1 ? Math.max(0, nowMs - close) : 0,
      liquidityRatio: vol / st.barQuoteVolumeUsd[t]!,
      fundingRate8h: frame.columns.funding?.[t],
      priceValid: frame.bars.close[t]! > 0,
    });
  }
  return out;
}

