/**
 * The simulator's market model: a pure, seeded, sequential generator of base-interval bars for
 * several assets, in Float64Array columns. See ./README.md for the equations and parameters.
 *
 * Per base step t (all logs natural, σ's per step):
 *   regime  s_t: Markov chain (geometric durations, `RegimeParams`)
 *   factor  f_t = μ_s + m_s·k_t·√h_t·z_t + J_t,   h_t = ω + α·e²_{t−1} + β·h_{t−1}   (GARCH(1,1), Bollerslev 1986)
 *   asset   r_it = β_i·f_t + v_s·k_t·√g_it·z_it + J_it,   g_it its own GARCH(1,1)
 * with z ~ unit-variance Student-t (Bollerslev 1987), J compound-Poisson jumps, k_t the intraday/weekday
 * seasonal multiplier and m_s > v_s in stress so cross-asset correlation rises. The GARCH recursions run
 * on the de-seasonalised, de-regimed shocks e = √h·z, so regimes scale volatility without destabilising them.
 *
 * Determinism: all draws come from seeded streams (core/rng) — one for the regime chain, one for the
 * market factor and one per asset keyed by its symbol — consumed in a fixed order, step after step
 * from genesis. A step's values therefore depend only on (seed, genesis, params, symbol), never on
 * which range was asked first or on the clock.
 */
import { createRng, deriveSeed, type Rng } from '../../core/rng.ts';
import { intervalMs } from '../../core/time.ts';
import type { AssetProfile, SimParams } from './params.ts';

const DAY_MS = 86_400_000;
const YEAR_DAYS = 365;

/** Generated base bars of one asset, as columns of length `model.steps` (views; re-read them after `ensureSteps`). */
export interface AssetColumns {
  readonly close: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  /** Base units. */
  readonly volume: Float64Array;
  readonly takerBuyBase: Float64Array;
  readonly trades: Uint32Array;
  /** Open interest at the bar's close, base units. */
  readonly openInterest: Float64Array;
}

/** Funding events of one asset: event k is at `firstFundingMs + k·fundingMs`. */
export interface FundingColumns {
  readonly rate: Float64Array;
  readonly markPrice: Float64Array;
}

interface AssetState {
  readonly profile: AssetProfile;
  readonly rng: Rng;
  readonly tick: number;
  readonly priceScale: number;
  readonly qtyScale: number;
  readonly omega: number;
  readonly volA: number;
  readonly startPrice: number;
  g: number; e: number; logPrice: number; lastClose: number;
  volNoise: number; momentum: number; premium: number; oiDev: number;
  close: Float64Array; high: Float64Array; low: Float64Array; volume: Float64Array; takerBuyBase: Float64Array; trades: Uint32Array; openInterest: Float64Array;
  fundRate: Float64Array; fundMark: Float64Array;
}

/** Rounds to `scale` = 10^decimals (k/scale is the double nearest the decimal, so it prints exactly). */
const roundTo = (x: number, scale: number): number => Math.round(x * scale) / scale;

function grow<T extends Float64Array | Uint32Array>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}

/**
 * A seeded multi-asset market at a fixed base interval, generated lazily and cached: `ensureSteps(n)`
 * extends the history to n steps from genesis. Pure: no I/O, no clock.
 */
export class MarketModel {
  /** Base step in ms. */
  readonly baseMs: number;
  /** Funding interval in ms and the first funding time ≥ genesis. */
  readonly fundingMs: number;
  readonly firstFundingMs: number;
  private regimeCol = new Uint8Array(0);
  private n = 0;
  private nFunding = 0;
  private cap = 0;
  private fundCap = 0;
  private readonly states: AssetState[];
  private readonly regimeRng: Rng;
  private readonly marketRng: Rng;
  private readonly seasonal: Float64Array;
  private regime = 0;
  private h: number;
  private e = 0;
  // Per-regime constants, per step.
  private readonly pExit: Float64Array;
  private readonly drift: Float64Array;
  private readonly omegaM: number;

  constructor(readonly seed: number, readonly genesisMs: number, readonly assets: readonly AssetProfile[], readonly params: SimParams) {
    const p = params;
    this.baseMs = intervalMs(p.baseInterval);
    const dtYears = this.baseMs / (YEAR_DAYS * DAY_MS);
    this.fundingMs = p.funding.intervalHours * 3_600_000;
    this.firstFundingMs = Math.ceil(genesisMs / this.fundingMs) * this.fundingMs;
    const persistence = 1 - p.garchAlpha - p.garchBeta;
    this.omegaM = p.marketVolAnnual ** 2 * dtYears * persistence;
    this.h = p.marketVolAnnual ** 2 * dtYears;
    this.pExit = Float64Array.from(p.regimes, (r) => 1 - Math.exp(-this.baseMs / (r.meanDurationHours * 3_600_000)));
    this.drift = Float64Array.from(p.regimes, (r) => (r.marketDriftPerDay * this.baseMs) / DAY_MS);
    this.seasonal = seasonalTable(p, this.baseMs);
    this.regimeRng = createRng(deriveSeed(seed, 'sim:regime'));
    this.marketRng = createRng(deriveSeed(seed, 'sim:market'));
    const volNoiseVar = p.volume.noiseStd ** 2 / (1 - p.volume.noiseAr ** 2);
    this.states = assets.map((a) => {
      const sigmaRef = Math.sqrt((a.beta * p.marketVolAnnual) ** 2 + a.idioVolAnnual ** 2) * Math.sqrt(dtYears);
      const priceScale = 10 ** a.priceDecimals;
      const start = Math.max(roundTo(a.startPrice, priceScale), 1 / priceScale);
      return {
        profile: a, rng: createRng(deriveSeed(seed, `sim:asset:${a.symbol}`)), tick: 1 / priceScale, priceScale, qtyScale: 10 ** a.qtyDecimals,
        omega: a.idioVolAnnual ** 2 * dtYears * persistence,
        // Mean calm volume per step, corrected for the lognormal noise, and normalised by the reference σ.
        volA: Math.log((a.volumePerDay * this.baseMs) / DAY_MS) - volNoiseVar / 2 - p.volume.absReturnElasticity * 0.8 + p.volume.volElasticity * -Math.log(sigmaRef),
        startPrice: start,
        g: a.idioVolAnnual ** 2 * dtYears, e: 0, logPrice: Math.log(start), lastClose: start,
        volNoise: 0, momentum: 0, premium: 0, oiDev: 0,
        close: new Float64Array(0), high: new Float64Array(0), low: new Float64Array(0), volume: new Float64Array(0), takerBuyBase: new Float64Array(0),
        trades: new Uint32Array(0), openInterest: new Float64Array(0), fundRate: new Float64Array(0), fundMark: new Float64Array(0),
      };
    });
  }

  /** Regime index per generated step (0 = the first of `params.regimes`); valid for indices < `steps`. */
  get regimes(): Uint8Array { return this.regimeCol; }
  /** Steps generated so far. */
  get steps(): number { return this.n; }
  /** Funding events generated so far (per asset). */
  get fundingEvents(): number { return this.nFunding; }

  /** The price of asset `a` at the open of step `i` (the previous close; the start price at genesis). */
  openAt(a: number, i: number): number {
    return i === 0 ? this.states[a]!.startPrice : this.states[a]!.close[i - 1]!;
  }

  /** Columns of asset `a` (valid for indices < `steps`). */
  columns(a: number): AssetColumns {
    const s = this.states[a]!;
    return { close: s.close, high: s.high, low: s.low, volume: s.volume, takerBuyBase: s.takerBuyBase, trades: s.trades, openInterest: s.openInterest };
  }

  /** Funding columns of asset `a` (valid for indices < `fundingEvents`). */
  funding(a: number): FundingColumns {
    const s = this.states[a]!;
    return { rate: s.fundRate, markPrice: s.fundMark };
  }

  /** Generates steps until at least `n` exist (in whole days, to amortise the calls). */
  ensureSteps(n: number): void {
    if (n <= this.n) return;
    const perDay = Math.max(1, Math.round(DAY_MS / this.baseMs));
    const target = Math.ceil(n / perDay) * perDay;
    // Grow by a quarter (plus a month) rather than doubling: a long history is already large (~52 B per asset-step).
    if (target > this.cap) this.reserve(Math.max(target + 30 * perDay, Math.ceil(this.cap * 1.25), 4096));
    this.generate(target);
  }

  private reserve(cap: number): void {
    this.cap = cap;
    const fundCap = Math.ceil((cap * this.baseMs) / this.fundingMs) + 2;
    const reg = new Uint8Array(cap);
    reg.set(this.regimeCol.subarray(0, this.n));
    this.regimeCol = reg;
    for (const s of this.states) {
      s.close = grow(s.close, cap); s.high = grow(s.high, cap); s.low = grow(s.low, cap); s.volume = grow(s.volume, cap);
      s.takerBuyBase = grow(s.takerBuyBase, cap); s.trades = grow(s.trades, cap); s.openInterest = grow(s.openInterest, cap);
      if (fundCap > this.fundCap) { s.fundRate = grow(s.fundRate, fundCap); s.fundMark = grow(s.fundMark, fundCap); }
    }
    this.fundCap = Math.max(this.fundCap, fundCap);
  }

  private generate(target: number): void {
    const p = this.params;
    const { regimes: rp, tailDof: nu, garchAlpha: alpha, garchBeta: beta } = p;
    const pMJ = (p.jumps.marketPerDay * this.baseMs) / DAY_MS;
    const pIJ = (p.jumps.idioPerDay * this.baseMs) / DAY_MS;
    const f = p.funding;
    const momDecay = 2 ** (-this.baseMs / (f.momentumHalfLifeHours * 3_600_000));
    const oiKappa = 1 - 2 ** (-this.baseMs / (p.openInterest.halfLifeDays * DAY_MS));
    const oiSigma = p.openInterest.volPerDay * Math.sqrt(this.baseMs / DAY_MS);
    const v = p.volume;
    const weekSteps = this.seasonal.length;
    for (let i = this.n; i < target; i++) {
      const t = this.genesisMs + i * this.baseMs;
      if (t >= this.firstFundingMs && (t - this.firstFundingMs) % this.fundingMs === 0) this.fundingEvent();
      // Regime switch at the start of the step.
      if (this.regimeRng.next() < this.pExit[this.regime]!) {
        const exits = rp[this.regime]!.exitTo;
        let u = this.regimeRng.next() * exits.reduce((acc, x, j) => acc + (j === this.regime ? 0 : x), 0);
        for (let j = 0; j < exits.length; j++) { if (j === this.regime) continue; u -= exits[j]!; if (u < 0) { this.regime = j; break; } }
      }
      const reg = rp[this.regime]!;
      this.regimeCol[i] = this.regime;
      const k = this.seasonal[Math.floor(t / this.baseMs) % weekSteps]!;
      // Market factor.
      const mr = this.marketRng;
      this.h = this.omegaM + alpha * this.e * this.e + beta * this.h;
      this.e = Math.sqrt(this.h) * studentT(mr, nu);
      const mScale = reg.marketVolMult * k;
      let fac = this.drift[this.regime]! + mScale * this.e;
      if (mr.next() < pMJ * reg.jumpIntensityMult) fac += p.jumps.marketMean + p.jumps.marketStd * mr.normal();
      const facVar = mScale * mScale * this.h;
      for (const s of this.states) {
        const a = s.profile;
        const rng = s.rng;
        s.g = s.omega + alpha * s.e * s.e + beta * s.g;
        s.e = Math.sqrt(s.g) * studentT(rng, nu);
        const iScale = reg.idioVolMult * k;
        let r = a.beta * fac + iScale * s.e;
        if (rng.next() < pIJ * reg.jumpIntensityMult) r += p.jumps.idioStd * rng.normal();
        const sigma = Math.sqrt(a.beta * a.beta * facVar + iScale * iScale * s.g);
        s.logPrice += r;
        const open = s.lastClose;
        const close = Math.max(roundTo(Math.exp(s.logPrice), s.priceScale), s.tick);
        // Intrabar extremes: exponential excursions beyond the body, scaled by the step's σ.
        const hiRaw = Math.max(open, close) * Math.exp(0.4 * sigma * -Math.log(1 - rng.next()));
        const loRaw = Math.min(open, close) * Math.exp(-0.4 * sigma * -Math.log(1 - rng.next()));
        const high = Math.max(Math.ceil(hiRaw * s.priceScale - 1e-7) / s.priceScale, open, close);
        const low = Math.max(Math.min(Math.floor(loRaw * s.priceScale + 1e-7) / s.priceScale, open, close), s.tick);
        const z = Math.min(Math.abs(r) / sigma, 6);
        s.volNoise = v.noiseAr * s.volNoise + v.noiseStd * rng.normal();
        const volume = roundTo(Math.exp(s.volA + v.volElasticity * Math.log(sigma) + v.absReturnElasticity * z + s.volNoise), s.qtyScale);
        const share = Math.min(0.98, Math.max(0.02, 0.5 + p.taker.returnSensitivity * Math.tanh(r / sigma) + p.taker.noiseStd * rng.normal()));
        const quote = volume * (open + high + low + close) / 4;
        s.trades[i] = volume > 0 ? Math.max(1, Math.round((quote / a.avgTradeQuote) * Math.exp(0.5 * (rng.next() - 0.5)))) : 0;
        s.close[i] = close; s.high[i] = high; s.low[i] = low; s.volume[i] = volume;
        s.takerBuyBase[i] = roundTo(volume * share, s.qtyScale);
        // Only large down moves (beyond 2.5σ) force liquidations; ordinary ones must not bleed OI away.
        s.oiDev += oiKappa * (reg.openInterestTarget - s.oiDev) + oiSigma * rng.normal() + p.openInterest.deleverage * Math.min(r + 2.5 * sigma, 0);
        s.openInterest[i] = roundTo(a.openInterest * Math.exp(s.oiDev), 1000);
        s.momentum = momDecay * s.momentum + r;
        s.lastClose = close;
      }
    }
    this.n = target;
  }

  /** Records one funding event for every asset, from the state at the event time (rows before it only). */
  private fundingEvent(): void {
    const f = this.params.funding;
    const regPremium = this.params.regimes[this.regime]!.fundingPremium;
    const k = this.nFunding;
    for (const s of this.states) {
      s.premium = f.premiumAr * s.premium + f.premiumNoise * s.rng.normal();
      const prem = f.momentumCoef * s.momentum + s.premium + regPremium;
      const rate = prem + Math.min(f.premiumClamp, Math.max(-f.premiumClamp, f.interest - prem));
      s.fundRate[k] = roundTo(Math.min(f.cap, Math.max(-f.cap, rate)), 1e8);
      s.fundMark[k] = s.lastClose;
    }
    this.nFunding = k + 1;
  }
}

/**
 * A unit-variance Student-t draw. For ν = 4 (the default) by the closed-form inverse CDF (one uniform
 * instead of five normals; Shaw 2006, "Sampling Student's T distribution"); otherwise via core/rng.
 */
export function studentT(rng: Rng, nu: number): number {
  if (nu !== 4) return rng.studentT(nu);
  const u = rng.next();
  if (u === 0) return -1e3;
  const a = 4 * u * (1 - u);
  const sa = Math.sqrt(a);
  const q = Math.cos(Math.acos(sa) / 3) / sa;
  const t = 2 * Math.sqrt(q - 1);
  // Var of t(4) is 2, so divide by √2 for unit variance.
  return (u < 0.5 ? -t : t) * Math.SQRT1_2;
}

/** Per-step seasonal volatility multipliers over one week (indexed by floor(t / base) mod steps-per-week), with mean square 1. */
function seasonalTable(p: SimParams, baseMs: number): Float64Array {
  const week = 7 * DAY_MS;
  const n = Math.max(1, Math.round(week / baseMs));
  const out = new Float64Array(n);
  let ss = 0;
  for (let j = 0; j < n; j++) {
    const t = j * baseMs + baseMs / 2; // mid-step; epoch day 0 (1970-01-01) was a Thursday
    const hour = (t % DAY_MS) / 3_600_000;
    const dow = (Math.floor(t / DAY_MS) + 4) % 7;
    const m = (1 + p.seasonalAmplitude * Math.cos((2 * Math.PI * (hour - p.seasonalPeakHourUtc)) / 24)) * (dow === 0 || dow === 6 ? p.weekendVolMult : 1);
    out[j] = m;
    ss += m * m;
  }
  const norm = Math.sqrt(ss / n);
  for (let j = 0; j < n; j++) out[j]! /= norm;
  return out;
}
