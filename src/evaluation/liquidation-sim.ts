/**
 * Gauntlet-style liquidation simulator (DOMAIN.md §A4; issue 4 item 6): a seeded population of leveraged longs and
 * shorts replayed through one market's historical bars under a margin schedule, reporting liquidations, their volume
 * (LaR basis), insolvent debt (VaR basis) and the healthy positions a parameter change liquidated (DOMAIN §E2).
 *
 * Mechanics, each chosen to be simple and conservative:
 * - Oracle cadence = one bar. Margin is checked at the bar's adverse extreme (low for longs, high for shorts, each
 *   widened to include open and close) and at its close, whichever gives the lower equity ratio, and a liquidation
 *   executes at that price: the engine sees one reading per bar and it is assumed to be the worst one.
 * - Parameters: the schedule entry with the greatest effectiveMs ≤ bar open time applies to the whole bar. New
 *   positions open at the bar's open with leverage capped at 1 / IMR; arrivals are Poisson at openPerDay spread over
 *   bars of the data's shortest spacing (a gap in the data does not release a flood of arrivals). During an
 *   opening halt (a circuit breaker in REDUCE_ONLY or HALT) arrivals are drawn but not opened.
 * - Liquidation (book.ts): closeFactor of the position per event, or all of it (equity ≤ 0, ratio below
 *   fullLiquidationBelowEquityRatio, or a remainder below minRemainderNotionalUsd); slippage worsens the execution
 *   price; the penalty is capped at the remaining equity; negative equity closes the rest as bad debt. A position is
 *   re-checked at the same price up to MAX_PARTIAL_ROUNDS times.
 * - Cascade: after a round of checks the oracle of the rest of the bar moves by −cascade.impactCoef × (long − short
 *   liquidated notional) / bar quote volume (sells push it down), all positions are checked again at the moved prices,
 *   up to cascade.maxRounds extra rounds; the next bar starts from history again (temporary impact).
 * - Grandfathering (grandfather = true): each position carries a personal MMR. At every check it becomes
 *   min(marketMMR, max(personal, equity ratio at the check price)), and the position is liquidatable only when its
 *   ratio is below that. An increase therefore never liquidates a position healthy under its previous MMR at the same
 *   price; its MMR ratchets up as its equity allows; decreases apply at once. Without it every position uses the
 *   market MMR, and healthyLiquidatedByChange counts the positions liquidated at the first check after a change took
 *   effect that were not liquidatable under their previous MMR at the same price.
 * - Traders close at the close of the bar their exponential holding time ends in (no slippage, no penalty); positions
 *   still open at the window's end are closed at its last close, so the ledger balances exactly.
 * - Not modelled: traders reacting to announcements, funding, fees on voluntary trades, liquidation throughput limits,
 *   insurance fund / ADL (bad debt is reported, not socialised).
 */
import { AppError } from '../core/errors.ts';
import { createRng, deriveSeed, type Rng } from '../core/rng.ts';
import { PositionBook, type LiquidationTerms } from './liquidation-sim/book.ts';
import { parseSimOptions, type ParsedSimOptions, type SimOptions } from './liquidation-sim/spec.ts';

export { MAX_PARTIAL_ROUNDS, MAX_SLIPPAGE } from './liquidation-sim/book.ts';
export {
  DEFAULT_MIN_REMAINDER_NOTIONAL_USD, parseSimOptions, populationSpecSchema, scheduledParamsSchema,
  type InitialPosition, type ParsedSimOptions, type PopulationSpec, type PopulationSpecInput, type ScheduledParams,
  type SimBars, type SimOptions,
} from './liquidation-sim/spec.ts';

/** Largest cascade move of the oracle within one bar, as a fraction of the historical price. */
export const MAX_CASCADE_SHIFT = 0.5;

/** The value ledger of a run, USD: collateralInUsd + pnlUsd − penaltiesUsd = payoutsUsd − badDebtUsd. */
export interface SimLedger {
  /** Collateral posted by every position at open. */
  readonly collateralInUsd: number;
  /** Realised PnL at execution prices (liquidation slippage included, as a loss). */
  readonly pnlUsd: number;
  readonly penaltiesUsd: number;
  /** Liquidation slippage against the oracle; already inside pnlUsd, reported for information. */
  readonly slippageUsd: number;
  /** Margin returned to traders when their positions ended. */
  readonly payoutsUsd: number;
  /** Σ over positions that ended with negative margin of that deficit. */
  readonly badDebtUsd: number;
}

/** Outcome of one seeded run over the simulated window. */
export interface SimResult {
  readonly positionsOpened: number;
  /** Σ over simulated bars of the positions open in that bar (the work done; speed is quoted per position-bar). */
  readonly positionBars: number;
  /** Liquidation events (each partial close counts once). */
  readonly liquidations: number;
  /** Positions liquidated at least once. */
  readonly liquidatedPositions: number;
  /** Σ closed quantity × oracle price over liquidations, USD (the LaR basis). */
  readonly liquidatedNotionalUsd: number;
  /** Insolvent debt: Σ of losses beyond collateral, USD (the VaR basis). */
  readonly badDebtUsd: number;
  readonly penaltiesUsd: number;
  /** Nominal penalties not collected because equity had run out (what an uncapped penalty would have added to bad debt). */
  readonly penaltyShortfallUsd: number;
  readonly slippageUsd: number;
  /** Positions liquidated at the first check after a change took effect that were healthy under their previous MMR. */
  readonly healthyLiquidatedByChange: number;
  readonly ledger: SimLedger;
  /** Liquidated notional and bad debt per simulated bar (USD), aligned with the bar open times. */
  readonly perBar: { readonly timeMs: Float64Array; readonly liquidatedNotionalUsd: Float64Array; readonly badDebtUsd: Float64Array };
}

/** Summary of {@link simulateAcrossSeeds}: Gauntlet's VaR (p95 bad debt) and LaR (p95 liquidated notional). */
export interface SeedSweepResult {
  readonly runs: SimResult[];
  readonly badDebtP95Usd: number;
  readonly badDebtMeanUsd: number;
  readonly liquidatedNotionalP95Usd: number;
  readonly liquidationsMean: number;
  readonly healthyLiquidatedByChangeMax: number;
}

/** Runs one seeded simulation; throws `config` / `dataQuality` AppErrors for invalid options or bars. */
export function simulateLiquidations(opts: SimOptions): SimResult {
  return runParsed(parseSimOptions(opts), opts.seed);
}

/** Runs the same options once per seed (validated once); percentiles are linear-interpolated (numpy's default). */
export function simulateAcrossSeeds(opts: Omit<SimOptions, 'seed'>, seeds: readonly number[]): SeedSweepResult {
  if (seeds.length === 0) throw new AppError('config', 'simulateAcrossSeeds got no seeds; pass at least one integer seed.');
  for (const s of seeds) {
    if (!Number.isInteger(s)) throw new AppError('config', `Seed ${s} is not an integer; pass integer seeds.`);
  }
  const parsed = parseSimOptions(opts);
  const runs = seeds.map((s) => runParsed(parsed, s));
  const col = (f: (r: SimResult) => number): Float64Array => Float64Array.from(runs, f);
  const badDebt = col((r) => r.badDebtUsd);
  return {
    runs,
    badDebtP95Usd: quantile(badDebt, 0.95),
    badDebtMeanUsd: mean(badDebt),
    liquidatedNotionalP95Usd: quantile(col((r) => r.liquidatedNotionalUsd), 0.95),
    liquidationsMean: mean(col((r) => r.liquidations)),
    healthyLiquidatedByChangeMax: Math.max(...runs.map((r) => r.healthyLiquidatedByChange)),
  };
}

/** The bar loop of one run over validated options. */
function runParsed(p: ParsedSimOptions, seed: number): SimResult {
  const { bars, schedule, population: pop, first, last, barMs } = p;
  const { timeMs, open, high, low, close, quoteVolumeUsd } = bars;
  const rng = createRng(deriveSeed(seed, 'liquidation-sim'));
  const book = new PositionBook();
  const terms: LiquidationTerms = { closeFactor: 1, penalty: 0, fullBelow: p.fullBelow, minRemainderUsd: p.minRemainderUsd, slippageCoef: p.slippageCoef, quoteVolumeUsd: 1 };
  const nBars = Math.max(0, last - first + 1);
  const perBarTime = timeMs.slice(first, first + nBars);
  const perBarLiq = new Float64Array(nBars);
  const perBarBadDebt = new Float64Array(nBars);
  const arrivalsPerBar = (pop.openPerDay * barMs) / 86_400_000;
  const logLevMin = Math.log(pop.leverage.min);
  const logLevSpan = Math.log(pop.leverage.max) - logLevMin;
  let si = 0;
  let hi0 = 0;
  let prevSi = -1;
  let healthy = 0;
  let positionBars = 0;

  for (let i = first; i <= last; i++) {
    const t = timeMs[i]!;
    const barEnd = i + 1 < timeMs.length ? timeMs[i + 1]! : t + barMs;
    while (si + 1 < schedule.effectiveMs.length && schedule.effectiveMs[si + 1]! <= t) si++;
    const mkt = schedule.mmr[si]!;
    const changed = prevSi >= 0 && si !== prevSi;
    const prevMkt = prevSi >= 0 ? schedule.mmr[prevSi]! : mkt;
    terms.closeFactor = schedule.closeFactor[si]!;
    terms.penalty = schedule.penalty[si]!;
    const qv = quoteVolumeUsd[i]!;
    terms.quoteVolumeUsd = qv > 1 ? qv : 1;
    const o = open[i]!;
    const c = close[i]!;
    const lo = Math.min(low[i]!, o, c);
    const hi = Math.max(high[i]!, o, c);
    const maxLeverage = 1 / schedule.imr[si]!;

    if (i === first) {
      for (const ip of p.initialPositions) {
        const closeAt = ip.lifetimeHours === undefined ? Infinity : t + ip.lifetimeHours * 3_600_000;
        book.open(ip.side, ip.notionalUsd, Math.min(ip.leverage, maxLeverage), o, i, closeAt, mkt);
      }
    }
    const arrivals = poisson(rng, arrivalsPerBar);
    while (hi0 < p.openingHalts.length && p.openingHalts[hi0]!.toMs <= t) hi0++;
    const halted = hi0 < p.openingHalts.length && p.openingHalts[hi0]!.fromMs <= t;
    for (let j = 0; j < arrivals; j++) {
      const side = rng.next() < pop.longShare ? 1 : -1;
      const leverage = Math.min(Math.exp(logLevMin + rng.next() * logLevSpan), maxLeverage);
      const notional = pop.notionalUsd.median * Math.exp(pop.notionalUsd.sigmaLog * rng.normal());
      const lifetimeMs = -pop.meanLifetimeHours * 3_600_000 * Math.log(1 - rng.next());
      if (!halted) book.open(side, notional, leverage, o, i, t + lifetimeMs, mkt);
    }
    positionBars += book.nActive;

    const liqBefore = book.liquidatedNotionalUsd;
    const badDebtBefore = book.badDebtUsd;
    let shift = 0;
    for (let round = 0; ; round++) {
      const pLo = lo * (1 + shift);
      const pHi = hi * (1 + shift);
      const pCl = c * (1 + shift);
      let flow = 0;
      let hits = 0;
      for (let a = 0; a < book.nActive; a++) {
        const k = book.active[a]!;
        if (book.alive[k] === 0) continue;
        const side = book.side[k]!;
        const q = book.qty[k]!;
        const pEx = side > 0 ? pLo : pHi;
        const eqEx = book.equity(k, pEx);
        const eqCl = book.equity(k, pCl);
        // The lower equity ratio of the two readings: eqEx/(q·pEx) vs eqCl/(q·pCl), cross-multiplied (q, prices > 0).
        const atEx = eqEx * pCl <= eqCl * pEx;
        const price = atEx ? pEx : pCl;
        const ratio = (atEx ? eqEx : eqCl) / (q * price);
        let eff = mkt;
        let before = prevMkt;
        if (p.grandfather) {
          before = book.personalMmr[k]!;
          eff = Math.min(mkt, Math.max(before, ratio));
          book.personalMmr[k] = eff;
        } else if (!changed) {
          before = mkt;
        }
        if (!(ratio < eff)) continue;
        if (round === 0 && changed && book.openBar[k]! < i && ratio >= before) healthy++;
        flow += book.liquidate(k, price, eff, terms);
        hits++;
      }
      if (hits === 0 || round >= p.cascadeRounds || p.cascadeCoef === 0 || flow === 0) break;
      const next = shift - (p.cascadeCoef * flow) / terms.quoteVolumeUsd;
      shift = Math.max(-MAX_CASCADE_SHIFT, Math.min(MAX_CASCADE_SHIFT, next));
    }

    const pClose = c * (1 + shift);
    const lastBar = i === last;
    for (let a = 0; a < book.nActive; a++) {
      const k = book.active[a]!;
      if (book.alive[k] === 1 && (lastBar || book.closeMs[k]! < barEnd)) book.closeAt(k, pClose);
    }
    perBarLiq[i - first] = book.liquidatedNotionalUsd - liqBefore;
    perBarBadDebt[i - first] = book.badDebtUsd - badDebtBefore;
    book.compact();
    prevSi = si;
  }

  return {
    positionsOpened: book.size,
    positionBars,
    liquidations: book.liquidations,
    liquidatedPositions: book.liquidatedPositions,
    liquidatedNotionalUsd: book.liquidatedNotionalUsd,
    badDebtUsd: book.badDebtUsd,
    penaltiesUsd: book.penaltiesUsd,
    penaltyShortfallUsd: book.penaltyShortfallUsd,
    slippageUsd: book.slippageUsd,
    healthyLiquidatedByChange: healthy,
    ledger: {
      collateralInUsd: book.collateralInUsd, pnlUsd: book.pnlUsd, penaltiesUsd: book.penaltiesUsd,
      slippageUsd: book.slippageUsd, payoutsUsd: book.payoutsUsd, badDebtUsd: book.badDebtUsd,
    },
    perBar: { timeMs: perBarTime, liquidatedNotionalUsd: perBarLiq, badDebtUsd: perBarBadDebt },
  };
}

/** Poisson(λ) by Knuth's product method, in chunks of λ ≤ 20 so e^−λ never underflows (sum of Poissons is Poisson). */
function poisson(rng: Rng, lambda: number): number {
  let k = 0;
  for (let rest = lambda; rest > 0; rest -= 20) {
    const limit = Math.exp(-Math.min(rest, 20));
    for (let prod = rng.next(); prod > limit; prod *= rng.next()) k++;
  }
  return k;
}

function mean(x: Float64Array): number {
  let s = 0;
  for (const v of x) s += v;
  return s / x.length;
}

/** Linear-interpolated quantile (Hyndman–Fan type 7) of a non-empty sample. */
function quantile(x: Float64Array, q: number): number {
  const s = Float64Array.from(x).sort();
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}
