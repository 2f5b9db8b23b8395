/**
 * Parameters of the seeded market simulator, with their defaults. The model is described in
 * ./README.md and in model.ts; every number here is in the unit its name says.
 */
import { AppError } from '../../core/errors.ts';
import { deriveSeed } from '../../core/rng.ts';
import { intervalMs, type Interval } from '../../core/time.ts';

/** One market regime of the Markov switch. */
export interface RegimeParams {
  readonly name: string;
  /** Mean time spent in the regime per visit (durations are geometric), in hours. */
  readonly meanDurationHours: number;
  /** When leaving, the probability of moving to each regime (same order as `regimes`; own entry ignored). */
  readonly exitTo: readonly number[];
  /** Multiplies the market factor's conditional volatility. */
  readonly marketVolMult: number;
  /** Multiplies every asset's idiosyncratic volatility (below `marketVolMult`: correlation rises). */
  readonly idioVolMult: number;
  /** Log drift of the market factor, per day (assets get `beta` times it). */
  readonly marketDriftPerDay: number;
  /** Multiplies the jump intensities. */
  readonly jumpIntensityMult: number;
  /** Target of log open interest relative to the asset's level (−0.2 ≈ 18 % lower). */
  readonly openInterestTarget: number;
  /** Added to the perpetual premium at each funding event, as a fraction per funding interval. */
  readonly fundingPremium: number;
}

/** One simulated asset (a USDT-quoted spot pair and its perpetual). */
export interface AssetProfile {
  readonly symbol: string;
  readonly baseAsset: string;
  readonly quoteAsset: string;
  /** Price at genesis, in quote per base. */
  readonly startPrice: number;
  /** Loading on the market factor. */
  readonly beta: number;
  /** Annualised idiosyncratic volatility in the calm regime (fraction, 0.2 = 20 %). */
  readonly idioVolAnnual: number;
  /** Price tick = 10^−priceDecimals; quantity step = 10^−qtyDecimals. */
  readonly priceDecimals: number;
  readonly qtyDecimals: number;
  /** Mean traded volume per day in the calm regime, in base units. */
  readonly volumePerDay: number;
  /** Mean trade size in quote units (sets the trade count). */
  readonly avgTradeQuote: number;
  /** Long-run open interest of the perpetual, in base units. */
  readonly openInterest: number;
}

/** Every parameter of the simulator. Pass a `Partial` to override; object-valued groups merge one level deep. */
export interface SimParams {
  /** Resolution the model steps at; every served interval is an aggregate of base bars. */
  readonly baseInterval: Interval;
  /** Degrees of freedom of the Student-t innovations (unit variance; > 2). */
  readonly tailDof: number;
  /** GARCH(1,1) news and persistence coefficients per base step: h = ω + α·e² + β·h, ω set by the target variance. */
  readonly garchAlpha: number;
  readonly garchBeta: number;
  /** Annualised volatility of the market factor in the calm regime. */
  readonly marketVolAnnual: number;
  /** Intraday volatility seasonality: amplitude of a 24 h cosine peaking at `seasonalPeakHourUtc`. */
  readonly seasonalAmplitude: number;
  readonly seasonalPeakHourUtc: number;
  /** Volatility multiplier on Saturdays and Sundays (UTC). The week's mean variance is renormalised to 1. */
  readonly weekendVolMult: number;
  readonly regimes: readonly RegimeParams[];
  /** Poisson jumps in log price: market jumps hit every asset through its beta, idiosyncratic ones one asset. */
  readonly jumps: { readonly marketPerDay: number; readonly marketMean: number; readonly marketStd: number; readonly idioPerDay: number; readonly idioStd: number };
  /** log volume = a + volElasticity·log(σ/σ̄) + absReturnElasticity·min(|r|/σ, 6) + AR(1) noise. */
  readonly volume: { readonly volElasticity: number; readonly absReturnElasticity: number; readonly noiseStd: number; readonly noiseAr: number };
  /** Taker-buy share = 0.5 + returnSensitivity·tanh(r/σ) + noise, clamped to [0.02, 0.98]. */
  readonly taker: { readonly returnSensitivity: number; readonly noiseStd: number };
  /**
   * Funding every `intervalHours`: premium P = momentumCoef·momentum + AR(1) premium + regime premium; rate =
   * P + clamp(interest − P, ±premiumClamp) (Binance's formula), then clamped to ±cap.
   */
  readonly funding: {
    readonly intervalHours: number; readonly interest: number; readonly premiumClamp: number; readonly cap: number;
    readonly momentumCoef: number; readonly momentumHalfLifeHours: number; readonly premiumAr: number; readonly premiumNoise: number;
  };
  /** log OI mean-reverts (half-life) to its regime target, with noise, and drops by deleverage·|r| on down moves. */
  readonly openInterest: { readonly halfLifeDays: number; readonly volPerDay: number; readonly deleverage: number };
  /** Profiles by symbol; symbols not listed get a generic alt profile (see {@link assetProfile}). */
  readonly assets: Readonly<Record<string, AssetProfile>>;
}

/**
 * Calm / stress / crash. Stationary shares ≈ 91 % / 8.5 % / 0.5 %; stress lasts about a day and a half, a crash
 * about six hours. Drifts and jump means net out to a long-run expected log return of about β·5 %/yr.
 */
export const DEFAULT_REGIMES: readonly RegimeParams[] = [
  { name: 'calm', meanDurationHours: 20 * 24, exitTo: [0, 0.85, 0.15], marketVolMult: 1, idioVolMult: 1, marketDriftPerDay: 0.0021, jumpIntensityMult: 1, openInterestTarget: 0, fundingPremium: 0 },
  { name: 'stress', meanDurationHours: 36, exitTo: [0.8, 0, 0.2], marketVolMult: 2, idioVolMult: 1.3, marketDriftPerDay: -0.012, jumpIntensityMult: 3, openInterestTarget: -0.15, fundingPremium: -0.0002 },
  { name: 'crash', meanDurationHours: 6, exitTo: [0, 1, 0], marketVolMult: 4, idioVolMult: 1.8, marketDriftPerDay: -0.08, jumpIntensityMult: 12, openInterestTarget: -0.35, fundingPremium: -0.0008 },
];

const asset = (symbol: string, base: string, p: Omit<AssetProfile, 'symbol' | 'baseAsset' | 'quoteAsset'>): AssetProfile => ({ symbol, baseAsset: base, quoteAsset: 'USDT', ...p });

/** Default assets, priced as on 2023-01-01. Calm-regime volatility ≈ sqrt(β²·0.38² + idio²): BTC ≈ 42 %, ETH ≈ 56 %, SOL ≈ 77 %, BNB ≈ 45 %; with stress and jumps the long-run figures are ≈ 50 %, 64 %, 87 %, 52 %. */
export const DEFAULT_ASSETS: Readonly<Record<string, AssetProfile>> = {
  BTCUSDT: asset('BTCUSDT', 'BTC', { startPrice: 16_500, beta: 1, idioVolAnnual: 0.18, priceDecimals: 2, qtyDecimals: 5, volumePerDay: 30_000, avgTradeQuote: 1_000, openInterest: 90_000 }),
  ETHUSDT: asset('ETHUSDT', 'ETH', { startPrice: 1_200, beta: 1.2, idioVolAnnual: 0.33, priceDecimals: 2, qtyDecimals: 4, volumePerDay: 400_000, avgTradeQuote: 700, openInterest: 1_000_000 }),
  SOLUSDT: asset('SOLUSDT', 'SOL', { startPrice: 10, beta: 1.45, idioVolAnnual: 0.55, priceDecimals: 3, qtyDecimals: 2, volumePerDay: 5_000_000, avgTradeQuote: 300, openInterest: 20_000_000 }),
  BNBUSDT: asset('BNBUSDT', 'BNB', { startPrice: 245, beta: 0.85, idioVolAnnual: 0.33, priceDecimals: 2, qtyDecimals: 3, volumePerDay: 300_000, avgTradeQuote: 300, openInterest: 500_000 }),
};

/** The defaults: 5-minute base, t(4) innovations, persistent GARCH, three regimes. */
export const DEFAULT_SIM_PARAMS: SimParams = {
  baseInterval: '5m',
  tailDof: 4,
  garchAlpha: 0.05,
  garchBeta: 0.94,
  marketVolAnnual: 0.38,
  seasonalAmplitude: 0.3,
  seasonalPeakHourUtc: 15,
  weekendVolMult: 0.75,
  regimes: DEFAULT_REGIMES,
  jumps: { marketPerDay: 0.08, marketMean: -0.004, marketStd: 0.015, idioPerDay: 0.05, idioStd: 0.02 },
  volume: { volElasticity: 1, absReturnElasticity: 0.25, noiseStd: 0.3, noiseAr: 0.6 },
  taker: { returnSensitivity: 0.15, noiseStd: 0.03 },
  funding: { intervalHours: 8, interest: 0.0001, premiumClamp: 0.0005, cap: 0.0075, momentumCoef: 0.01, momentumHalfLifeHours: 24, premiumAr: 0.8, premiumNoise: 0.00015 },
  openInterest: { halfLifeDays: 10, volPerDay: 0.03, deleverage: 1.5 },
  assets: DEFAULT_ASSETS,
};

/** Merges overrides into the defaults (object-valued groups one level deep) and checks them. */
export function resolveParams(over: Partial<SimParams> = {}): SimParams {
  const d = DEFAULT_SIM_PARAMS;
  const p: SimParams = {
    ...d, ...over,
    jumps: { ...d.jumps, ...over.jumps },
    volume: { ...d.volume, ...over.volume },
    taker: { ...d.taker, ...over.taker },
    funding: { ...d.funding, ...over.funding },
    openInterest: { ...d.openInterest, ...over.openInterest },
    assets: { ...d.assets, ...over.assets },
  };
  const bad = (msg: string): never => { throw new AppError('config', `Simulator parameters: ${msg}`, { context: { params: over } }); };
  if (!(p.tailDof > 2)) bad(`tailDof ${p.tailDof} must be above 2 (unit-variance Student-t).`);
  if (!(p.garchAlpha >= 0 && p.garchBeta >= 0 && p.garchAlpha + p.garchBeta < 1)) bad(`garchAlpha + garchBeta = ${p.garchAlpha + p.garchBeta} must be below 1 (and both ≥ 0).`);
  if (p.regimes.length === 0 || p.regimes.length > 255 || p.regimes.some((r) => r.exitTo.length !== p.regimes.length || !(r.meanDurationHours > 0))) {
    bad('give 1 to 255 regimes, each with meanDurationHours > 0 and one exitTo probability per regime.');
  }
  const fundMs = p.funding.intervalHours * 3_600_000;
  if (!(fundMs > 0) || fundMs % intervalMs(p.baseInterval) !== 0) bad(`funding.intervalHours ${p.funding.intervalHours} must be a positive multiple of the base interval ${p.baseInterval}.`);
  return p;
}

/**
 * The profile of `symbol`: from `params.assets`, or for an unknown symbol a generic alt (β 1.3, 60 %
 * idiosyncratic vol, ≈ $50M daily volume) whose start price (0.1 … 100) is derived from the symbol name.
 */
export function assetProfile(symbol: string, params: SimParams): AssetProfile {
  const known = params.assets[symbol];
  if (known) return known;
  const quote = ['USDT', 'USDC', 'USD'].find((q) => symbol.length > q.length && symbol.endsWith(q)) ?? 'USDT';
  const base = symbol.endsWith(quote) ? symbol.slice(0, -quote.length) : symbol;
  const u = deriveSeed(0, `profile:${symbol}`) / 4294967296;
  const startPrice = Number((10 ** (3 * u - 1)).toPrecision(4));
  const priceDecimals = Math.min(8, Math.max(2, 4 - Math.floor(Math.log10(startPrice))));
  return {
    symbol, baseAsset: base, quoteAsset: quote, startPrice, beta: 1.3, idioVolAnnual: 0.6, priceDecimals, qtyDecimals: Math.max(0, Math.min(8, 8 - priceDecimals)),
    volumePerDay: 5e7 / startPrice, avgTradeQuote: 300, openInterest: 3e7 / startPrice,
  };
}
