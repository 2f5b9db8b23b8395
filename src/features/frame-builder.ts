/**
 * Builds a symbol's {@link FeatureFrame} from its bars (and, when given, funding, open interest,
 * implied volatility and a reference asset's bars). Pure: no I/O, no clock. Every column at index t is
 * computed from bars 0..t and from side series rows already known at the close of bar t (the as-of rule
 * of `as-of.ts`). Windows count bars, not wall time: across a bridged gap a "day" of D bars spans a little
 * more than 24 h.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../core/errors.ts';
import { intervalMs, iso, type Interval } from '../core/time.ts';
import type { BarColumns } from '../store/market-data.ts';
import { alignExact, asOfJoin } from './as-of.ts';
import { rollingBetaCorr } from './cross-asset.ts';
import type { FeatureFrame } from './frame.ts';
import { garmanKlassPerBar, parkinsonPerBar, rogersSatchellPerBar } from './range.ts';
import { bipowerVariation, ewmaVariance, harAggregates, jumpComponent, realisedVariance, signedSemivariances } from './realised.ts';
import { logReturns, rollingSum, squared } from './returns.ts';
import { logActivity, trailingZScore } from './volume.ts';

const DAY_MS = 86_400_000;

/**
 * Side series older than this (ms after they became known) are stale and give NaN rather than being
 * carried forward for ever (a funding feed that stopped, an IV index that ended).
 */
export const AS_OF_MAX_AGE_MS = 2 * DAY_MS;

/**
 * Columns present in every frame, computed from bars alone, in this order. `qvol_z` and `trades_z` need
 * the venue's quote volume and trade counts: for bars that report neither (all NaN, e.g. plain OHLCV
 * files) those two are absent, so read a frame's feature set from `Object.keys(frame.columns)`.
 */
export const BASE_FEATURES: readonly string[] = Object.freeze([
  'r', 'r2', 'rv_1d', 'rv_1w', 'rv_1m', 'bpv_1d', 'jump_1d', 'rs_pos_1d', 'rs_neg_1d',
  'parkinson_1d', 'gk_1d', 'rsv_1d', 'ewma_var', 'vol_z', 'qvol_z', 'trades_z',
]);

/** Optional columns, present only when their inputs are: funding, open interest, implied vol, reference bars. */
export const OPTIONAL_FEATURES: readonly string[] = Object.freeze(['funding', 'oi_chg_1d', 'iv', 'beta_btc', 'corr_btc', 'btc_rv_1d']);

/**
 * Bars of `interval` in one day (D): 24 for 1h, 96 for 15m, 6 for 4h, 1 for 1d.
 * @throws AppError `config` for an interval that does not divide a day.
 */
export function barsPerDay(interval: Interval): number {
  const step = intervalMs(interval);
  if (DAY_MS % step !== 0) throw new AppError('config', `Interval ${interval} does not divide a day; use an interval of at most 1d that does.`, { context: { interval } });
  return DAY_MS / step;
}

/**
 * Identifies a feature set: sha256 hex (first 16 characters) of the names sorted by UTF-16 code units
 * and joined by ','. Order-insensitive; models record it to refuse frames with other features.
 */
export function featureSetHash(names: readonly string[]): string {
  return createHash('sha256').update([...names].sort().join(',')).digest('hex').slice(0, 16);
}

/** Inputs of {@link buildFeatureFrame}. All times are epoch ms, ascending. */
export interface BuildFeatureFrameInput {
  readonly symbol: string;
  readonly interval: Interval;
  readonly bars: BarColumns;
  /** Funding events: `rate` is a fraction per funding interval, paid (and known) at `timeMs`. */
  readonly funding?: { readonly timeMs: Float64Array; readonly rate: Float64Array };
  /** Open-interest snapshots (base units), each known at its `timeMs`. */
  readonly openInterest?: { readonly timeMs: Float64Array; readonly value: Float64Array };
  /**
   * Implied-vol bars stamped at their open (`timeMs`), in volatility points; the close is known at
   * `timeMs + periodMs`. `periodMs` defaults to the smallest spacing between consecutive stamps (1 day
   * with fewer than two rows) — read from the stamps only, never the values; pass it explicitly when the
   * series' interval is known (`loadFeatureFrames` does).
   */
  readonly impliedVol?: { readonly timeMs: Float64Array; readonly close: Float64Array; readonly periodMs?: number };
  /** The reference asset's (BTC's) bars at the same interval, for cross-asset features; omit for the reference itself. */
  readonly reference?: BarColumns;
}

/**
 * Builds the feature frame of one symbol. Columns (D = {@link barsPerDay}; units are squared log
 * returns unless stated; each value at t uses bars ≤ t):
 * - `r` log return of bar t; `r2` its square.
 * - `rv_1d` Σ r² over the last D bars; `rv_1w` Σ over 7D bars / 7; `rv_1m` Σ over 30D bars / 30 (per-day averages).
 * - `bpv_1d` bipower variation, `jump_1d` max(rv_1d − bpv_1d, 0), `rs_pos_1d` / `rs_neg_1d` signed semivariances (D bars).
 * - `parkinson_1d`, `gk_1d` (Garman–Klass), `rsv_1d` (Rogers–Satchell): per-bar range estimators summed over D bars.
 * - `ewma_var` RiskMetrics EWMA (λ = 0.94) per-bar variance including r[t] (NaN for the first 30 returns, its seed).
 * - `vol_z`, `qvol_z`, `trades_z`: z-scores (dimensionless) of ln(1 + volume | quote volume | trades) vs the previous 30D bars.
 * - `funding` (fraction per funding interval), `oi_chg_1d` (log change of open interest over the last day),
 *   `iv` (implied vol, points): as-of values at the bar's close (see `as-of.ts`), NaN when stale ({@link AS_OF_MAX_AGE_MS}).
 * - `beta_btc`, `corr_btc`: rolling 30D-bar beta and correlation of r vs the reference's r on the same grid;
 *   `btc_rv_1d`: the reference's rv_1d at the same bar (NaN where the reference has no bar).
 *
 * Gaps (missing bars) are bridged: the return across a gap counts as one bar; `gaps` counts the missing bars.
 * @throws AppError `dataQuality` when bar times are not strictly ascending multiples of the interval apart.
 */
export function buildFeatureFrame(input: BuildFeatureFrameInput): FeatureFrame {
  const { symbol, interval, bars } = input;
  const step = intervalMs(interval);
  const D = barsPerDay(interval);
  const timeMs = bars.openTimeMs;
  const n = timeMs.length;
  const gaps = checkBarTimes(timeMs, step, symbol, 'bars');
  for (const [name, col] of Object.entries(bars) as [string, Float64Array][]) {
    if (col.length !== n) throw new AppError('dataQuality', `Bars of ${symbol}: column ${name} has ${col.length} values but there are ${n} open times.`, { context: { symbol, column: name } });
  }

  const c: Record<string, Float64Array> = {};
  const r = logReturns(bars.close);
  c.r = r;
  c.r2 = squared(r);
  const har = harAggregates(r, D);
  c.rv_1d = har.rv1d;
  c.rv_1w = har.rv1w;
  c.rv_1m = har.rv1m;
  c.bpv_1d = bipowerVariation(r, D);
  c.jump_1d = jumpComponent(c.rv_1d, c.bpv_1d);
  const sv = signedSemivariances(r, D);
  c.rs_pos_1d = sv.pos;
  c.rs_neg_1d = sv.neg;
  c.parkinson_1d = rollingSum(parkinsonPerBar(bars.high, bars.low), D);
  c.gk_1d = rollingSum(garmanKlassPerBar(bars.open, bars.high, bars.low, bars.close), D);
  c.rsv_1d = rollingSum(rogersSatchellPerBar(bars.open, bars.high, bars.low, bars.close), D);
  c.ewma_var = ewmaVariance(r, 0.94);
  const zWindow = 30 * D;
  c.vol_z = trailingZScore(logActivity(bars.volume), zWindow);
  if (anyFinite(bars.quoteVolume)) c.qvol_z = trailingZScore(logActivity(bars.quoteVolume), zWindow);
  if (anyFinite(bars.trades)) c.trades_z = trailingZScore(logActivity(bars.trades), zWindow);

  const closeMs = new Float64Array(n);
  for (let t = 0; t < n; t++) closeMs[t] = timeMs[t]! + step;
  const maxAgeMs = AS_OF_MAX_AGE_MS;

  if (input.funding && input.funding.timeMs.length > 0) {
    c.funding = asOfJoin(closeMs, input.funding.timeMs, input.funding.rate, { knownAfterMs: 0, maxAgeMs, what: `funding of ${symbol}` });
  }
  if (input.openInterest && input.openInterest.timeMs.length > 0) {
    const oi = input.openInterest;
    const what = `open interest of ${symbol}`;
    const now = asOfJoin(closeMs, oi.timeMs, oi.value, { knownAfterMs: 0, maxAgeMs, what });
    const dayAgoMs = new Float64Array(n);
    for (let t = 0; t < n; t++) dayAgoMs[t] = closeMs[t]! - DAY_MS;
    const before = asOfJoin(dayAgoMs, oi.timeMs, oi.value, { knownAfterMs: 0, maxAgeMs, what });
    const chg = new Float64Array(n);
    for (let t = 0; t < n; t++) chg[t] = Math.log(now[t]! / before[t]!);
    c.oi_chg_1d = chg;
  }
  if (input.impliedVol && input.impliedVol.timeMs.length > 0) {
    const iv = input.impliedVol;
    const periodMs = iv.periodMs ?? inferPeriodMs(iv.timeMs);
    c.iv = asOfJoin(closeMs, iv.timeMs, iv.close, { knownAfterMs: periodMs, maxAgeMs, what: `implied vol for ${symbol}` });
  }
  if (input.reference && input.reference.openTimeMs.length > 0) {
    const ref = input.reference;
    checkBarTimes(ref.openTimeMs, step, symbol, 'reference bars');
    // Reference returns over exactly the same spans as r: closes aligned on this grid, then differenced.
    const refR = logReturns(alignExact(timeMs, ref.openTimeMs, ref.close));
    const bc = rollingBetaCorr(r, refR, 30 * D);
    c.beta_btc = bc.beta;
    c.corr_btc = bc.corr;
    c.btc_rv_1d = alignExact(timeMs, ref.openTimeMs, realisedVariance(logReturns(ref.close), D));
  }
  return { symbol, interval, timeMs, bars, columns: c, gaps };
}

/** Validates strictly ascending times that are whole intervals apart; returns the number of missing bars. */
function checkBarTimes(timeMs: Float64Array, step: number, symbol: string, what: string): number {
  let gaps = 0;
  for (let t = 1; t < timeMs.length; t++) {
    const d = timeMs[t]! - timeMs[t - 1]!;
    if (!(d > 0) || d % step !== 0) {
      throw new AppError('dataQuality', `${what} of ${symbol}: open time ${iso(timeMs[t]!)} follows ${iso(timeMs[t - 1]!)}; bars must be strictly ascending and whole intervals (${step} ms) apart. Re-import or repair the series.`, {
        context: { symbol, index: t, timeMs: timeMs[t], previousMs: timeMs[t - 1] },
      });
    }
    gaps += d / step - 1;
  }
  return gaps;
}

/** Smallest positive spacing between consecutive stamps (the period of a bar series), or a day with < 2 rows. */
function inferPeriodMs(timeMs: Float64Array): number {
  let p = Number.POSITIVE_INFINITY;
  for (let k = 1; k < timeMs.length; k++) {
    const d = timeMs[k]! - timeMs[k - 1]!;
    if (d > 0 && d < p) p = d;
  }
  return Number.isFinite(p) ? p : DAY_MS;
}

function anyFinite(x: Float64Array): boolean {
  for (let t = 0; t < x.length; t++) if (Number.isFinite(x[t]!)) return true;
  return false;
}
