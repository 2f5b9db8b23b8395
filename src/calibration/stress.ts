/**
 * Stress replays of policies through the liquidation simulator (issue 4 item 6): the stress episodes in a
 * test period, each policy's margins turned into a parameter schedule, and the Gauntlet-style outputs
 * (liquidations, liquidated notional, bad debt and its 95th percentile across seeds, healthy positions
 * liquidated by a parameter change).
 */
import { iso } from '../core/time.ts';
import { simulateAcrossSeeds } from '../evaluation/liquidation-sim.ts';
import type { PopulationSpecInput, ScheduledParams, SimBars } from '../evaluation/liquidation-sim/spec.ts';
import type { FeatureFrame } from '../features/frame.ts';
import type { PolicyConfig } from './config.ts';
import { quoteVolumeUsd } from './market-series.ts';
import { liquidationCostRatio, type MarketState } from './margin-policy.ts';
import type { MarketSeries, PolicySeries } from './policy-series.ts';

const DAY_MS = 86_400_000;

/** Stress dates of the shared data (DOMAIN.md, issue 4): COVID crash, May 2021, June 2022, FTX, Aug 2024 carry unwind, Oct 2025. */
export const STRESS_DATES: readonly { readonly name: string; readonly date: string }[] = [
  { name: 'covid-2020-03-12', date: '2020-03-12' },
  { name: 'china-2021-05-19', date: '2021-05-19' },
  { name: 'celsius-3ac-2022-06', date: '2022-06-13' },
  { name: 'ftx-2022-11', date: '2022-11-08' },
  { name: 'carry-unwind-2024-08-05', date: '2024-08-05' },
  { name: 'tariff-2025-10-10', date: '2025-10-10' },
];

/** A simulated window. */
export interface Episode {
  readonly name: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * The episodes to replay over [fromMs, toMs): every stress date inside it (± `halfWidthDays`, clipped to the
 * period); when none falls inside, the window around the bar with the largest absolute return of the first
 * frame (so any data set gets a stress replay).
 */
export function stressEpisodes(fromMs: number, toMs: number, frames: readonly FeatureFrame[], halfWidthDays = 5): Episode[] {
  const half = halfWidthDays * DAY_MS;
  const clip = (name: string, at: number): Episode => ({ name, fromMs: Math.max(fromMs, at - half), toMs: Math.min(toMs, at + half) });
  const inside = STRESS_DATES.map((s) => ({ ...s, at: Date.parse(`${s.date}T00:00:00Z`) })).filter((s) => s.at >= fromMs && s.at < toMs);
  if (inside.length > 0) return inside.map((s) => clip(s.name, s.at));
  const f = frames[0];
  if (!f) return [];
  let best = -1;
  let at = Number.NaN;
  for (let t = 1; t < f.timeMs.length; t++) {
    const tm = f.timeMs[t]!;
    if (tm < fromMs || tm >= toMs) continue;
    const r = Math.abs(Math.log(f.bars.close[t]! / f.bars.close[t - 1]!));
    if (r > best) {
      best = r;
      at = tm;
    }
  }
  return Number.isFinite(at) ? [clip(`largest-move-${iso(at).slice(0, 10)}`, at)] : [];
}

/** Settings of the replay. */
export interface StressSettings {
  readonly seeds: number;
  readonly seed: number;
  readonly population?: PopulationSpecInput;
  /** Oracle impact of liquidation flow per unit of (net liquidated notional / bar volume). */
  readonly cascadeImpactCoef: number;
}

/** Outcome of one policy on one market over all episodes. */
export interface StressRow {
  readonly policy: string;
  readonly symbol: string;
  /** Σ over episodes of the 95th percentile of bad debt across seeds, USD. */
  readonly badDebtUsd: number;
  readonly badDebtMeanUsd: number;
  /** Mean liquidation events per seed, summed over episodes. */
  readonly liquidations: number;
  /** Σ over episodes of the 95th percentile of liquidated notional (LaR), USD. */
  readonly liquidatedNotionalP95Usd: number;
  /** Worst seed's count of positions liquidated by a parameter change, summed over episodes. */
  readonly healthyLiquidatedByChange: number;
}

function simBars(frame: FeatureFrame): SimBars {
  return { timeMs: frame.timeMs, open: frame.bars.open, high: frame.bars.high, low: frame.bars.low, close: frame.bars.close, quoteVolumeUsd: quoteVolumeUsd(frame) };
}

/**
 * The policy's parameter schedule over [fromMs, toMs): an entry at every decision instant whose parameters differ
 * from the previous ones — maintenance and initial margin from the policy, penalty and close factor from the
 * market state (as the margin policy derives them). Announcement = effect: simulated traders do not react to notices.
 */
export function policySchedule(p: PolicySeries, m: MarketSeries, states: { sigmaBar: Float64Array; barQuoteVolumeUsd: Float64Array }, cfg: PolicyConfig, fromMs: number, toMs: number): ScheduledParams[] {
  const out: ScheduledParams[] = [];
  let prev: ScheduledParams | undefined;
  for (let u = 0; u < m.originMs.length; u++) {
    const at = m.originMs[u]! + m.barMs;
    if (at >= toMs) break;
    // The entry in force at the window's start is the last decision before it.
    const next = m.originMs[u + 1];
    if (at < fromMs && next !== undefined && next + m.barMs <= fromMs) continue;
    const mm = p.margin[u]!;
    if (!Number.isFinite(mm)) continue;
    const state: MarketState = { sigmaBar: states.sigmaBar[u]!, barQuoteVolumeUsd: states.barQuoteVolumeUsd[u]! };
    const cost = liquidationCostRatio(cfg.liquidation.referenceNotionalUsd, state, cfg);
    const absorbable = cfg.liquidation.maxParticipation * state.barQuoteVolumeUsd;
    const effective: ScheduledParams = {
      announcedMs: at, effectiveMs: Math.max(at, fromMs),
      maintenanceMarginRatio: mm, initialMarginRatio: Math.max(mm, p.initialMargin[u]!),
      liquidationPenalty: Math.min(Number.isFinite(cost) ? cost : cfg.liquidation.feeRatio, cfg.liquidation.maxPenaltyShareOfMaintenance * mm),
      closeFactor: Math.min(1, Math.max(cfg.liquidation.minCloseFactor, Number.isFinite(absorbable) ? absorbable / cfg.liquidation.referenceNotionalUsd : 0)),
    };
    if (prev && prev.maintenanceMarginRatio === effective.maintenanceMarginRatio && prev.initialMarginRatio === effective.initialMarginRatio
      && prev.liquidationPenalty === effective.liquidationPenalty && prev.closeFactor === effective.closeFactor) continue;
    if (prev && prev.effectiveMs === effective.effectiveMs) out.pop();
    out.push(effective);
    prev = effective;
  }
  return out;
}

/** Median of the finite values of x over [from, to). */
function median(x: Float64Array, from: number, to: number): number {
  const v = Array.from(x.subarray(from, to)).filter(Number.isFinite).sort((a, b) => a - b);
  return v.length ? v[v.length >> 1]! : Number.NaN;
}

/** Replays one policy on one market through every episode. */
export function stressRow(args: {
  frame: FeatureFrame; market: MarketSeries; policy: PolicySeries; states: { sigmaBar: Float64Array; barQuoteVolumeUsd: Float64Array };
  episodes: readonly Episode[]; cfg: PolicyConfig; settings: StressSettings;
  /** Periods in which the policy's circuit breaker refuses new positions. */
  openingHalts?: readonly { fromMs: number; toMs: number }[];
}): StressRow {
  const { frame, market, policy, states, episodes, cfg, settings } = args;
  const bars = simBars(frame);
  let badDebt = 0;
  let badDebtMean = 0;
  let liquidations = 0;
  let lar = 0;
  let healthy = 0;
  episodes.forEach((ep, e) => {
    const schedule = policySchedule(policy, market, states, cfg, ep.fromMs, ep.toMs);
    if (schedule.length === 0) return;
    let a = 0;
    while (a < frame.timeMs.length && frame.timeMs[a]! < ep.fromMs) a++;
    let b = a;
    while (b < frame.timeMs.length && frame.timeMs[b]! < ep.toMs) b++;
    // Slippage as in the margin policy (impactCoef · σ_bar · √(q/V)), with the episode's median σ_bar.
    const slip = cfg.liquidation.impactCoef * median(states.sigmaBar, a, b);
    const seeds = Array.from({ length: settings.seeds }, (_, i) => settings.seed + 1000 * e + i);
    const r = simulateAcrossSeeds({
      bars, schedule, population: settings.population ?? {}, fromMs: ep.fromMs, toMs: ep.toMs,
      grandfather: policy.policy === 'ml-anticipatory', slippage: { impactCoef: Number.isFinite(slip) ? slip : 0.01 },
      cascade: { impactCoef: settings.cascadeImpactCoef, maxRounds: 5 },
      ...(args.openingHalts?.length ? { openingHalts: args.openingHalts } : {}),
    }, seeds);
    badDebt += r.badDebtP95Usd;
    badDebtMean += r.badDebtMeanUsd;
    liquidations += r.liquidationsMean;
    lar += r.liquidatedNotionalP95Usd;
    healthy += r.healthyLiquidatedByChangeMax;
  });
  return { policy: policy.policy, symbol: market.symbol, badDebtUsd: badDebt, badDebtMeanUsd: badDebtMean, liquidations, liquidatedNotionalP95Usd: lar, healthyLiquidatedByChange: healthy };
}
