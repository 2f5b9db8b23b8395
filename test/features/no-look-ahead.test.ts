/**
 * The key property of the feature core: a feature value at bar t depends on nothing after the close of
 * bar t. On real data (ETHUSDT 1h 2023, with BTCUSDT as reference, BTC funding, BTC DVOL and a synthetic
 * open-interest feed), everything not yet known at the close of bar t is perturbed and the frame is rebuilt:
 * every column must be bit-identical at indices ≤ t.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFeatureFrame, type BuildFeatureFrameInput } from '../../src/features/build.ts';
import type { BarColumns } from '../../src/store/market-data.ts';
import { firstMismatch, readBtcDvol, readBtcFunding, readSpotBars } from './real-data.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let input: BuildFeatureFrameInput;

beforeAll(async () => {
  const bars = await readSpotBars('ETHUSDT', [2023]);
  const reference = await readSpotBars('BTCUSDT', [2023]);
  const funding = await readBtcFunding();
  const dvol = await readBtcDvol();
  // No open-interest history is shared: a deterministic snapshot feed every hour at hh:05 from ETH volumes.
  const oiTime = Float64Array.from(bars.openTimeMs, (t) => t + 5 * 60_000);
  let level = 1e6;
  const oiValue = Float64Array.from(bars.volume, (v, i) => (level = level * (1 + 0.01 * Math.sin(i / 7)) + v));
  input = { symbol: 'ETHUSDT', interval: '1h', bars, reference, funding, openInterest: { timeMs: oiTime, value: oiValue }, impliedVol: dvol };
});

/** Perturbs every bar whose open time is after `afterOpenMs` (prices rescaled consistently, activity changed). */
function perturbBars(b: BarColumns, afterOpenMs: number): BarColumns {
  const c = Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Float64Array.from(v as Float64Array)])) as unknown as { -readonly [K in keyof BarColumns]: Float64Array };
  for (let i = 0; i < c.openTimeMs.length; i++) {
    if (c.openTimeMs[i]! <= afterOpenMs) continue;
    const f = 1.5 + 0.4 * Math.sin(i);
    c.open[i] = c.open[i]! * f;
    c.high[i] = c.high[i]! * f * 1.01;
    c.low[i] = c.low[i]! * f * 0.99;
    c.close[i] = c.close[i]! * f;
    c.volume[i] = c.volume[i]! * (3 + Math.cos(i));
    c.quoteVolume[i] = c.quoteVolume[i]! * (0.2 + Math.abs(Math.sin(i)));
    c.trades[i] = c.trades[i]! * 7 + 1;
  }
  return c;
}

/** Changes every value whose row becomes known after `closeMs` (stamp + knownAfterMs > closeMs). */
function perturbRows(time: Float64Array, values: Float64Array, closeMs: number, knownAfterMs: number): Float64Array {
  return Float64Array.from(values, (v, k) => (time[k]! + knownAfterMs > closeMs ? v * -3 + 0.5 : v));
}

function perturbedInput(t: number): BuildFeatureFrameInput {
  const openMs = input.bars.openTimeMs[t]!;
  const closeMs = openMs + HOUR;
  return {
    ...input,
    bars: perturbBars(input.bars, openMs),
    reference: perturbBars(input.reference!, openMs),
    funding: { timeMs: input.funding!.timeMs, rate: perturbRows(input.funding!.timeMs, input.funding!.rate, closeMs, 0) },
    openInterest: { timeMs: input.openInterest!.timeMs, value: perturbRows(input.openInterest!.timeMs, input.openInterest!.value, closeMs, 0) },
    // A daily DVOL bar stamped at 00:00 is known at 24:00: today's bar is still unknown at an intraday close.
    impliedVol: { timeMs: input.impliedVol!.timeMs, close: perturbRows(input.impliedVol!.timeMs, input.impliedVol!.close, closeMs, DAY) },
  };
}

describe('buildFeatureFrame has no look-ahead (real data)', () => {
  it('builds every feature, including the as-of and cross-asset ones, over the 2023-03-24 gap', () => {
    const f = buildFeatureFrame(input);
    expect(f.gaps).toBe(1);
    for (const name of ['funding', 'oi_chg_1d', 'iv', 'beta_btc', 'corr_btc', 'btc_rv_1d', 'qvol_z', 'trades_z']) expect(Object.keys(f.columns)).toContain(name);
    const last = f.timeMs.length - 1;
    for (const [name, col] of Object.entries(f.columns)) expect(Number.isFinite(col[last]!), name).toBe(true);
  });

  it('keeps every column bit-identical at indices ≤ t when everything after the close of t changes', () => {
    const base = buildFeatureFrame(input);
    const n = base.timeMs.length;
    const gapAt = base.timeMs.findIndex((x, i) => i > 0 && x - base.timeMs[i - 1]! > HOUR);
    const ts = [0, 1, 23, 24, 719, 720, 2000, gapAt - 1, gapAt, 4321, 6000, n - 25, n - 2];
    for (const t of ts) {
      const alt = buildFeatureFrame(perturbedInput(t));
      expect(Object.keys(alt.columns).sort()).toEqual(Object.keys(base.columns).sort());
      let changedAfter = 0;
      for (const [name, col] of Object.entries(base.columns)) {
        const altCol = alt.columns[name]!;
        expect(firstMismatch(col, altCol, t), `${name} at t=${t}`).toBe(-1);
        if (firstMismatch(col, altCol, n - 1) > t) changedAfter++;
      }
      // The perturbation is real: most columns do change after t.
      expect(changedAfter).toBeGreaterThan(10);
    }
  });

  it('joins daily IV as of the bar close: an intraday bar sees the previous day, the 23:00 bar sees its own day', () => {
    const f = buildFeatureFrame(input);
    const dvol = input.impliedVol!;
    const day = Date.UTC(2023, 5, 15);
    const k = dvol.timeMs.indexOf(day);
    const at = (ms: number): number => f.columns.iv![f.timeMs.indexOf(ms)]!;
    expect(at(day + 10 * HOUR)).toBe(dvol.close[k - 1]);
    expect(at(day + 22 * HOUR)).toBe(dvol.close[k - 1]);
    expect(at(day + 23 * HOUR)).toBe(dvol.close[k]);
  });

  it('joins funding events as of the bar close (a few ms of Binance jitter defers an event by one bar)', () => {
    const f = buildFeatureFrame(input);
    const fund = input.funding!;
    const k = fund.timeMs.findIndex((x) => x >= Date.UTC(2023, 5, 15, 8));
    expect(fund.timeMs[k]! - Date.UTC(2023, 5, 15, 8)).toBeLessThan(1000);
    const at = (ms: number): number => f.columns.funding![f.timeMs.indexOf(ms)]!;
    // The event is stamped 08:00:00.00x: bar 07:00 closes at 08:00:00.000, before it.
    expect(at(Date.UTC(2023, 5, 15, 7))).toBe(fund.timeMs[k] === Date.UTC(2023, 5, 15, 8) ? fund.rate[k] : fund.rate[k - 1]);
    expect(at(Date.UTC(2023, 5, 15, 8))).toBe(fund.rate[k]);
  });
});
