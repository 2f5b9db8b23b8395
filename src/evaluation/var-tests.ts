/**
 * Coverage backtests of a margin (VaR) model: Kupiec's proportion-of-failures test, Christoffersen's
 * independence and conditional-coverage tests, the Basel traffic light, and the expected shortfall of the
 * loss in excess of the margin. Pure functions over counts or aligned Float64Arrays (one entry per
 * observation, loss and margin measured over the same horizon that starts at the observation's origin).
 *
 * Conventions: `coverage` c is the model's confidence (0.99), so a breach has probability α = 1 − c under
 * the null; a breach is loss > margin (strict); 0·ln 0 = 0 in every likelihood.
 */
import { AppError } from '../core/errors.ts';
import { gammaQ } from './stats.ts';

/** x·ln(y) with 0·ln(anything) = 0 (the limit used by every likelihood ratio here). */
const xlogy = (x: number, y: number): number => (x === 0 ? 0 : x * Math.log(y));

/** Upper tail of χ²(df): P(X ≥ x), computed directly (no 1 − CDF cancellation for tiny p-values). */
const chiSquareSf = (x: number, df: number): number => gammaQ(df / 2, Math.max(0, x) / 2);

function checkCoverage(what: string, coverage: number): void {
  if (!(coverage > 0 && coverage < 1)) {
    throw new AppError('badRequest', `${what} needs a coverage in (0, 1), got ${String(coverage)}: pass e.g. 0.99 for 99% coverage.`, { context: { coverage } });
  }
}

function checkCounts(what: string, breaches: number, observations: number): void {
  if (!Number.isInteger(observations) || observations < 0 || !Number.isInteger(breaches) || breaches < 0 || breaches > observations) {
    throw new AppError('badRequest', `${what} needs integer counts with 0 ≤ breaches ≤ observations, got ${String(breaches)} breaches in ${String(observations)} observations: count the 0/1 hits first.`, {
      context: { breaches, observations },
    });
  }
}

/** Kupiec POF result. */
export interface KupiecResult {
  /** LR_uc, distributed χ²(1) under the null; 0 when the observed rate equals α or there are no observations. */
  readonly lr: number;
  /** P(χ²(1) ≥ lr); 1 when lr = 0. */
  readonly p: number;
  readonly breaches: number;
  readonly observations: number;
  /** α·n breaches expected under the null. */
  readonly expected: number;
  /** breaches / observations (NaN for no observations). */
  readonly rate: number;
}

/**
 * Kupiec (1995) proportion-of-failures test of H0: breach probability = α = 1 − coverage:
 * LR_uc = −2·ln[(1−α)^(n−x)·α^x / ((1−x/n)^(n−x)·(x/n)^x)] ~ χ²(1). x = 0 and x = n are exact (0·ln 0 = 0).
 */
export function kupiecPof(breaches: number, observations: number, coverage: number): KupiecResult {
  checkCoverage('kupiecPof', coverage);
  checkCounts('kupiecPof', breaches, observations);
  const n = observations;
  const x = breaches;
  const alpha = 1 - coverage;
  const expected = alpha * n;
  if (n === 0) return { lr: 0, p: 1, breaches: x, observations: n, expected, rate: Number.NaN };
  const rate = x / n;
  const logNull = xlogy(n - x, 1 - alpha) + xlogy(x, alpha);
  const logAlt = xlogy(n - x, 1 - rate) + xlogy(x, rate);
  const lr = Math.max(0, -2 * (logNull - logAlt)); // ≥ 0 in exact arithmetic; clamp rounding noise
  return { lr, p: chiSquareSf(lr, 1), breaches: x, observations: n, expected, rate };
}

/** Christoffersen independence and conditional-coverage result, with the transition counts. */
export interface ChristoffersenResult {
  /** LR_ind ~ χ²(1); 0 when the sample cannot show dependence (no transitions, no breaches or only breaches). */
  readonly lrInd: number;
  readonly pInd: number;
  /** LR_cc = LR_uc + LR_ind ~ χ²(2), LR_uc being Kupiec's over all non-NaN observations. */
  readonly lrCc: number;
  readonly pCc: number;
  /** n_ij = number of transitions from state i at one observation to state j at the next (1 = breach). */
  readonly n00: number;
  readonly n01: number;
  readonly n10: number;
  readonly n11: number;
  /** Non-NaN observations and breaches among them (the Kupiec part's sample). */
  readonly observations: number;
  readonly breaches: number;
}

/**
 * Christoffersen (1998) Markov test on a 0/1 hit sequence: with π01 = n01/(n00+n01), π11 = n11/(n10+n11)
 * and π = (n01+n11)/(n00+n01+n10+n11),
 * LR_ind = −2·ln[(1−π)^(n00+n10)·π^(n01+n11) / ((1−π01)^n00·π01^n01·(1−π11)^n10·π11^n11)] ~ χ²(1).
 * NaN entries are skipped and break the chain: a transition is counted only between two consecutive
 * entries that are both non-NaN. Degenerate samples are finite by the 0·ln 0 = 0 convention: when π11
 * (or π01) is undefined its counts are all zero, so its terms vanish; no breaches, only breaches, or no
 * transitions give LR_ind = 0 and pInd = 1 (no evidence of clustering). Throws for entries other than 0, 1, NaN.
 */
export function christoffersen(hits: ArrayLike<number>, coverage: number): ChristoffersenResult {
  checkCoverage('christoffersen', coverage);
  let n00 = 0;
  let n01 = 0;
  let n10 = 0;
  let n11 = 0;
  let observations = 0;
  let breaches = 0;
  let prev = Number.NaN;
  for (let i = 0; i < hits.length; i++) {
    const h = hits[i]!;
    if (Number.isNaN(h)) {
      prev = Number.NaN;
      continue;
    }
    if (h !== 0 && h !== 1) {
      throw new AppError('badRequest', `christoffersen needs hits of 0, 1 or NaN, got ${String(h)} at index ${i}: build them with hitSequence.`, { context: { index: i, value: h } });
    }
    observations++;
    breaches += h;
    if (prev === 0) h === 0 ? n00++ : n01++;
    else if (prev === 1) h === 0 ? n10++ : n11++;
    prev = h;
  }
  const total = n00 + n01 + n10 + n11;
  let lrInd = 0;
  if (total > 0) {
    const pi = (n01 + n11) / total;
    const pi01 = n00 + n01 > 0 ? n01 / (n00 + n01) : 0;
    const pi11 = n10 + n11 > 0 ? n11 / (n10 + n11) : 0;
    const logNull = xlogy(n00 + n10, 1 - pi) + xlogy(n01 + n11, pi);
    const logAlt = xlogy(n00, 1 - pi01) + xlogy(n01, pi01) + xlogy(n10, 1 - pi11) + xlogy(n11, pi11);
    lrInd = Math.max(0, -2 * (logNull - logAlt));
  }
  const uc = kupiecPof(breaches, observations, coverage);
  const lrCc = uc.lr + lrInd;
  return { lrInd, pInd: chiSquareSf(lrInd, 1), lrCc, pCc: chiSquareSf(lrCc, 2), n00, n01, n10, n11, observations, breaches };
}

/**
 * Exact binomial CDF P(X ≤ x) for X ~ Bin(n, p), summed in log space (log pmf by the ratio recursion,
 * streaming log-sum-exp), so it stays accurate where p^n underflows (n in the tens of thousands).
 */
export function binomialCdf(x: number, n: number, p: number): number {
  if (Number.isNaN(x) || Number.isNaN(n) || Number.isNaN(p)) return Number.NaN;
  const k = Math.floor(x);
  if (k < 0) return 0;
  if (k >= n || p <= 0) return 1;
  if (p >= 1) return 0;
  const logQ = Math.log1p(-p);
  const logRatio = Math.log(p) - logQ;
  let logPmf = n * logQ;
  let m = logPmf; // running max of the log terms; the sum is exp(m)·s
  let s = 1;
  for (let j = 0; j < k; j++) {
    logPmf += Math.log((n - j) / (j + 1)) + logRatio;
    if (logPmf > m) {
      s = s * Math.exp(m - logPmf) + 1;
      m = logPmf;
    } else {
      s += Math.exp(logPmf - m);
    }
  }
  return Math.min(1, Math.exp(m) * s);
}

/** Basel traffic-light zone. */
export type BaselZoneName = 'green' | 'yellow' | 'red';

/** Basel traffic-light result. */
export interface BaselZone {
  readonly zone: BaselZoneName;
  /** F(x) = P(X ≤ breaches), X ~ Bin(observations, 1 − coverage). */
  readonly cdf: number;
  /** Basel (1996) plus factor to the capital multiplier 3 (0 green, 0.40–0.85 yellow, 1.0 red). */
  readonly plusFactor: number;
  /** The 250-day, 99% breach count with the same CDF (the smallest k with F_250,0.01(k) ≥ cdf). */
  readonly scaledTo250: number;
}

/** Largest binomial CDF of the breach count still green (BCBS 1996; MathWorks varbacktest `tl`). */
export const BASEL_GREEN_MAX_CDF = 0.95;
/** Largest binomial CDF of the breach count still yellow; above it the zone is red. */
export const BASEL_YELLOW_MAX_CDF = 0.9999;

/** Basel (1996) plus factors for 5…9 exceptions in 250 days at 99%. */
const YELLOW_PLUS: Readonly<Record<number, number>> = { 5: 0.4, 6: 0.5, 7: 0.65, 8: 0.75, 9: 0.85 };

let cdf250Cache: Float64Array | undefined;
function cdf250(): Float64Array {
  if (!cdf250Cache) {
    cdf250Cache = new Float64Array(251);
    for (let k = 0; k <= 250; k++) cdf250Cache[k] = binomialCdf(k, 250, 0.01);
  }
  return cdf250Cache;
}

/**
 * Basel traffic light for `breaches` in `observations` at `coverage`, for any N and p: green if
 * F(x) ≤ 0.95, yellow if F(x) ≤ 0.9999, red above. The plus factor is the Basel 250-day 99% table; for
 * other N or coverage it is the table's value at the equivalent 250-day count (the 250-day, 99% count
 * with the same CDF), clamped to the zone decided on the actual N and p so zone and plus factor always
 * agree (yellow → 0.40…0.85, green → 0, red → 1.0).
 */
export function baselZone(breaches: number, observations: number, coverage: number): BaselZone {
  checkCoverage('baselZone', coverage);
  checkCounts('baselZone', breaches, observations);
  const cdf = binomialCdf(breaches, observations, 1 - coverage);
  const zone: BaselZoneName = cdf <= BASEL_GREEN_MAX_CDF ? 'green' : cdf <= BASEL_YELLOW_MAX_CDF ? 'yellow' : 'red';
  let scaledTo250: number;
  if (observations === 250 && Math.abs(coverage - 0.99) < 1e-12) {
    scaledTo250 = breaches;
  } else {
    const table = cdf250();
    scaledTo250 = 250;
    for (let k = 0; k <= 250; k++) {
      if (table[k]! >= cdf) {
        scaledTo250 = k;
        break;
      }
    }
  }
  const plusFactor = zone === 'green' ? 0 : zone === 'red' ? 1 : YELLOW_PLUS[Math.min(9, Math.max(5, scaledTo250))]!;
  return { zone, cdf, plusFactor, scaledTo250 };
}

/** Expected shortfall of the loss in excess of the margin. */
export interface ExcessShortfall {
  /** Mean of (loss − margin) over the worst ⌈(1 − level)·n⌉ pairs; may be negative when the margin covers the tail. */
  readonly es: number;
  /** Mean of (loss − margin) over breaches (loss > margin); NaN without breaches. */
  readonly meanExcessGivenBreach: number;
  readonly breaches: number;
  /** Usable pairs (both finite) and skipped pairs. */
  readonly n: number;
  readonly skipped: number;
  readonly level: number;
}

/**
 * Expected shortfall at `level` (default 0.975, FRTB) of e = loss − margin over aligned arrays: the mean of
 * the ⌈(1 − level)·n⌉ largest excesses (the empirical tail mean), and the mean excess given a breach.
 * Pairs with a NaN on either side are skipped. Units are those of loss and margin (e.g. fractions of notional).
 */
export function expectedShortfallOfExcess(loss: Float64Array, margin: Float64Array, level = 0.975): ExcessShortfall {
  checkAligned('expectedShortfallOfExcess', loss, margin);
  if (!(level > 0 && level < 1)) {
    throw new AppError('badRequest', `expectedShortfallOfExcess needs a level in (0, 1), got ${String(level)}: pass e.g. 0.975.`, { context: { level } });
  }
  const excess: number[] = [];
  let breachSum = 0;
  let breaches = 0;
  for (let i = 0; i < loss.length; i++) {
    const e = loss[i]! - margin[i]!;
    if (Number.isNaN(e)) continue;
    excess.push(e);
    if (e > 0) {
      breaches++;
      breachSum += e;
    }
  }
  const n = excess.length;
  const skipped = loss.length - n;
  const meanExcessGivenBreach = breaches > 0 ? breachSum / breaches : Number.NaN;
  if (n === 0) return { es: Number.NaN, meanExcessGivenBreach, breaches, n, skipped, level };
  const tail = Math.max(1, Math.ceil((1 - level) * n - 1e-9)); // the epsilon keeps 0.025·400 = 10, not 11
  excess.sort((a, b) => b - a);
  let sum = 0;
  for (let i = 0; i < tail; i++) sum += excess[i]!;
  return { es: sum / tail, meanExcessGivenBreach, breaches, n, skipped, level };
}

function checkAligned(what: string, loss: Float64Array, margin: Float64Array): void {
  if (loss.length !== margin.length) {
    throw new AppError('badRequest', `${what} needs loss and margin of equal length, got ${loss.length} and ${margin.length}: align them by origin first.`, {
      context: { what, lengths: [loss.length, margin.length] },
    });
  }
}

/**
 * 0/1/NaN hits (1 = loss > margin, NaN when either is NaN) at origins offset, offset + every, …: with
 * `every` = the horizon in bars, the sampled horizons do not overlap, as the Kupiec and Christoffersen
 * tests assume independent trials. Index i of the result is origin offset + i·every.
 */
export function hitSequence(loss: Float64Array, margin: Float64Array, every = 1, offset = 0): Float64Array {
  checkAligned('hitSequence', loss, margin);
  if (!Number.isInteger(every) || every < 1 || !Number.isInteger(offset) || offset < 0) {
    throw new AppError('badRequest', `hitSequence needs an integer every ≥ 1 and offset ≥ 0, got every=${String(every)}, offset=${String(offset)}: pass the horizon in bars as every.`, {
      context: { every, offset },
    });
  }
  const count = offset >= loss.length ? 0 : Math.ceil((loss.length - offset) / every);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const l = loss[offset + i * every]!;
    const m = margin[offset + i * every]!;
    out[i] = Number.isNaN(l) || Number.isNaN(m) ? Number.NaN : l > m ? 1 : 0;
  }
  return out;
}
