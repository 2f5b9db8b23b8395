import { performance } from 'node:perf_hooks';
import { beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/core/errors.ts';
import { BASE_FEATURES, barsPerDay, buildFeatureFrame, featureSetHash, loadFeatureFrames } from '../../src/features/build.ts';
import { importCsv } from '../../src/ingest/csv.ts';
import { useTempStore } from '../helpers/tmp.ts';
import { BTC_DVOL_FILE, BTC_FUNDING_FILE, firstMismatch, readBtcDvol, readBtcFunding, readSpotBars, spotFiles, toBarColumns } from './real-data.ts';
import { syntheticBars } from '../helpers/tmp.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

describe('barsPerDay and featureSetHash', () => {
  it('counts bars per day', () => {
    expect(barsPerDay('1h')).toBe(24);
    expect(barsPerDay('15m')).toBe(96);
    expect(barsPerDay('4h')).toBe(6);
    expect(barsPerDay('8h')).toBe(3);
    expect(barsPerDay('1d')).toBe(1);
  });

  it('hashes the sorted names (first 16 hex chars of sha256), order-insensitively', () => {
    expect(featureSetHash(['rv_1d', 'r'])).toBe('81d386ea576825dd');
    expect(featureSetHash(['r', 'rv_1d'])).toBe('81d386ea576825dd');
    expect(featureSetHash(BASE_FEATURES)).toMatch(/^[0-9a-f]{16}$/);
    expect(featureSetHash([...BASE_FEATURES, 'iv'])).not.toBe(featureSetHash(BASE_FEATURES));
  });
});

describe('buildFeatureFrame', () => {
  it('has exactly the base features from bars alone, all aligned with the bars', () => {
    const bars = toBarColumns(syntheticBars(T0, 2000));
    const f = buildFeatureFrame({ symbol: 'SYN', interval: '1h', bars });
    expect(Object.keys(f.columns)).toEqual([...BASE_FEATURES]);
    for (const col of Object.values(f.columns)) expect(col.length).toBe(2000);
    expect(f.timeMs).toBe(bars.openTimeMs);
    expect(f.gaps).toBe(0);
    // Warm-up: rv_1d needs D returns after r[0] = NaN, rv_1m 30 days, z-scores 30 days of prior bars.
    expect(f.columns.rv_1d![23]).toBeNaN();
    expect(f.columns.rv_1d![24]).toBeGreaterThan(0);
    expect(f.columns.rv_1m![719]).toBeNaN();
    expect(f.columns.rv_1m![720]).toBeGreaterThan(0);
    expect(f.columns.vol_z![719]).toBeNaN();
    expect(Number.isFinite(f.columns.vol_z![720]!)).toBe(true);
  });

  it('omits columns whose inputs are missing instead of NaN-filling them', () => {
    const bars = toBarColumns(syntheticBars(T0, 100).map((b) => ({ ...b, quoteVolume: undefined, trades: undefined })));
    const f = buildFeatureFrame({ symbol: 'SYN', interval: '1h', bars, funding: { timeMs: new Float64Array(0), rate: new Float64Array(0) } });
    expect(Object.keys(f.columns)).toEqual(BASE_FEATURES.filter((c) => c !== 'qvol_z' && c !== 'trades_z'));
  });

  it('bridges gaps: counts missing bars and takes the return across the gap as one bar', () => {
    const all = syntheticBars(T0, 300);
    const kept = all.filter((_, i) => i !== 100 && i !== 200 && i !== 201);
    const f = buildFeatureFrame({ symbol: 'SYN', interval: '1h', bars: toBarColumns(kept) });
    expect(f.gaps).toBe(3);
    expect(f.timeMs.length).toBe(297);
    expect(f.columns.r![100]).toBeCloseTo(Math.log(all[101]!.close / all[99]!.close), 15);
  });

  it('rejects unordered or misaligned bar times with a dataQuality error', () => {
    const bars = syntheticBars(T0, 10);
    const swapped = [...bars];
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    expect(() => buildFeatureFrame({ symbol: 'SYN', interval: '1h', bars: toBarColumns(swapped) })).toThrow(/strictly ascending/);
    const shifted = bars.map((b, i) => (i === 5 ? { ...b, openTimeMs: b.openTimeMs + 60_000 } : b));
    try {
      buildFeatureFrame({ symbol: 'SYN', interval: '1h', bars: toBarColumns(shifted) });
      expect.unreachable();
    } catch (e) {
      expect(isAppError(e, 'dataQuality')).toBe(true);
    }
  });

  it('builds 33.6k real 1h bars with every side series in tens of ms', async () => {
    const years = [2022, 2023, 2024, 2025];
    const bars = await readSpotBars('ETHUSDT', years);
    const reference = await readSpotBars('BTCUSDT', years);
    const funding = await readBtcFunding();
    const impliedVol = await readBtcDvol();
    const input = { symbol: 'ETHUSDT', interval: '1h' as const, bars, reference, funding, impliedVol };
    buildFeatureFrame(input); // warm-up (JIT)
    const times: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      buildFeatureFrame(input);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    expect(bars.openTimeMs.length).toBeGreaterThan(33_000);
    expect(times[2]!).toBeLessThan(500); // measured ~15–30 ms; the bound only catches accidental O(n²)
  });
});

describe('loadFeatureFrames', () => {
  const ctx = useTempStore();
  beforeEach(async () => {
    await importCsv({ md: ctx.md, venue: 'binance-spot', symbol: 'BTCUSDT', interval: '1h', files: spotFiles('BTCUSDT', [2023]), nowMs: 0 });
    await importCsv({ md: ctx.md, venue: 'binance-spot', symbol: 'ETHUSDT', interval: '1h', files: spotFiles('ETHUSDT', [2023]), nowMs: 0 });
    await importCsv({ md: ctx.md, venue: 'binance-usdm', symbol: 'BTCUSDT', interval: '1h', files: [BTC_FUNDING_FILE], nowMs: 0 });
    await importCsv({ md: ctx.md, venue: 'deribit', symbol: 'BTC', interval: '1d', files: [BTC_DVOL_FILE], nowMs: 0 });
  });

  it('reads bars, funding and IV and builds the same frames as buildFeatureFrame', async () => {
    const fromMs = Date.UTC(2023, 2, 1);
    const toMs = Date.UTC(2023, 8, 1);
    const [btc, eth] = loadFeatureFrames(ctx.md, { venue: 'binance-spot', symbols: ['BTCUSDT', 'ETHUSDT'], interval: '1h', fromMs, toMs, fundingVenue: 'binance-usdm', ivVenue: 'deribit' });
    expect(btc!.symbol).toBe('BTCUSDT');
    expect(btc!.timeMs[0]).toBe(fromMs);
    expect(btc!.timeMs[btc!.timeMs.length - 1]).toBe(toMs - HOUR);
    expect(btc!.gaps).toBe(1);
    expect(Object.keys(btc!.columns)).toEqual([...BASE_FEATURES, 'funding', 'iv']);
    // ETH: no ETH funding stored, no ETH DVOL; cross-asset features against BTCUSDT.
    expect(Object.keys(eth!.columns)).toEqual([...BASE_FEATURES, 'beta_btc', 'corr_btc', 'btc_rv_1d']);

    const slice = (b: Awaited<ReturnType<typeof readSpotBars>>) => {
      const i0 = b.openTimeMs.indexOf(fromMs);
      const i1 = b.openTimeMs.indexOf(toMs);
      return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, (v as Float64Array).slice(i0, i1)])) as unknown as typeof b;
    };
    const direct = buildFeatureFrame({ symbol: 'BTCUSDT', interval: '1h', bars: slice(await readSpotBars('BTCUSDT', [2023])), funding: await readBtcFunding(), impliedVol: await readBtcDvol() });
    for (const [name, col] of Object.entries(direct.columns)) expect(firstMismatch(col, btc!.columns[name]!, col.length - 1), name).toBe(-1);
    // The first bar already sees the funding event and DVOL day before the range (side series are read with a look-back).
    expect(btc!.columns.funding![0]).not.toBeNaN();
    expect(btc!.columns.iv![0]).not.toBeNaN();
  });

  it('throws a dataQuality error naming venue and symbol when a symbol has no bars', () => {
    try {
      loadFeatureFrames(ctx.md, { venue: 'binance-spot', symbols: ['BTCUSDT', 'NOPEUSDT'], interval: '1h' });
      expect.unreachable();
    } catch (e) {
      expect(isAppError(e, 'dataQuality')).toBe(true);
      expect((e as Error).message).toContain('binance-spot/NOPEUSDT');
    }
    expect(() => loadFeatureFrames(ctx.md, { venue: 'binance-spot', symbols: ['ETHUSDT'], interval: '1h', referenceSymbol: 'SOLUSDT' })).toThrow(/reference binance-spot\/SOLUSDT/);
  });
});
