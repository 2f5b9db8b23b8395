import { describe, expect, it } from 'vitest';
import { useTempStore } from '../helpers/tmp.ts';
import { isAppError } from '../../src/core/errors.ts';
import { importCsv } from '../../src/ingest/csv.ts';
import { countDuplicates, countNonMonotonic, dataStatus, findGaps, FUNDING_STALE_AFTER_MS, seriesQuality } from '../../src/ingest/quality.ts';
import { SHARED_DATA } from '../helpers/http-server.ts';

const H = 3_600_000;
const f64 = (xs: number[]): Float64Array => Float64Array.from(xs);

describe('findGaps, countDuplicates, countNonMonotonic (synthetic arrays)', () => {
  it('finds each run of missing bars with its first and last missing open time', () => {
    expect(findGaps(f64([0, 1, 2, 5, 6, 10].map((i) => i * H)), H)).toEqual([
      { startMs: 3 * H, endMs: 4 * H, missing: 2 },
      { startMs: 7 * H, endMs: 9 * H, missing: 3 },
    ]);
  });

  it('finds nothing in complete, empty or single-row series', () => {
    expect(findGaps(f64([0, 1, 2, 3].map((i) => i * H)), H)).toEqual([]);
    expect(findGaps(f64([]), H)).toEqual([]);
    expect(findGaps(f64([5 * H]), H)).toEqual([]);
  });

  it('ignores a few ms of jitter (funding times) but not a missed event', () => {
    const e = 8 * H;
    const times = f64([16, e + 5, 2 * e + 8, 5 * e + 7, 6 * e + 16]);
    expect(findGaps(times, e)).toEqual([{ startMs: 3 * e + 8, endMs: 4 * e + 8, missing: 2 }]);
  });

  it('skips duplicate and descending pairs, which are counted separately', () => {
    const times = f64([0, 1, 1, 1, 3, 2, 3, 4, 0].map((i) => i * H));
    expect(findGaps(times, H)).toEqual([{ startMs: 2 * H, endMs: 2 * H, missing: 1 }]);
    expect(countDuplicates(times)).toBe(2);
    expect(countNonMonotonic(times)).toBe(2);
    expect(countDuplicates(f64([]))).toBe(0);
    expect(countNonMonotonic(f64([1]))).toBe(0);
  });

  it('refuses a non-positive step', () => {
    expect(() => findGaps(f64([0, 1]), 0)).toThrow(/positive/);
    try { findGaps(f64([0, 1]), Number.NaN); } catch (e) { expect(isAppError(e, 'config')).toBe(true); }
  });
});

describe('seriesQuality and dataStatus over a store', () => {
  const ctx = useTempStore('liqcal-quality-');

  const spot = { venue: 'binance-spot', symbol: 'BTCUSDT', interval: '1h' } as const;
  const LAST_2023 = 1704063600000;

  it('detects the 2023-03-24 13:00 Binance outage in the real 2023 file, and judges staleness', async () => {
    await importCsv({ md: ctx.md, ...spot, files: [`${SHARED_DATA}market/binance-spot__finom-static-klines/BTCUSDT/1h/BTCUSDT-1h-2023.csv`] });
    const q = seriesQuality(ctx.md, spot, 'bars', { nowMs: LAST_2023 + H + 2 * H });
    expect(q).toMatchObject({
      bars: 8759, firstMs: 1672531200000, lastMs: LAST_2023, gaps: 1, missingBars: 1, duplicates: 0, nonMonotonic: 0, ohlcViolations: 0,
      largestGap: { startMs: Date.parse('2023-03-24T13:00:00Z'), endMs: Date.parse('2023-03-24T13:00:00Z'), missing: 1 },
      stale: false, ageMs: 2 * H, stepMs: H,
    });
    expect(seriesQuality(ctx.md, spot, 'bars', { nowMs: LAST_2023 + 3 * H + 1 }).stale).toBe(true);
    expect(seriesQuality(ctx.md, spot, 'bars', { nowMs: LAST_2023 + 3 * H + 1, staleAfterMs: 24 * H }).stale).toBe(false);
  });

  it('counts stored bars that violate OHLC rules (written around validation)', () => {
    // The store refuses such bars, so they are written the way an older liqcal or another tool could have: raw SQL.
    const T = Date.UTC(2024, 0, 1);
    const raw = ctx.store.db.prepare('INSERT INTO bars (venue, symbol, interval, open_time_ms, open, high, low, close, volume, quote_volume, trades) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (const b of [
      { openTimeMs: T, open: 10, high: 11, low: 9, close: 10, volume: 1 },
      { openTimeMs: T + H, open: 10, high: 9, low: 11, close: 10, volume: 1 },
      { openTimeMs: T + 2 * H, open: 10, high: 12, low: 9, close: 13, volume: 1 },
      { openTimeMs: T + 3 * H, open: 10, high: 11, low: 9, close: 10, volume: 1, quoteVolume: 10, trades: 3 },
    ]) raw.run(spot.venue, spot.symbol, spot.interval, b.openTimeMs, b.open, b.high, b.low, b.close, b.volume, b.quoteVolume ?? null, b.trades ?? null);
    expect(seriesQuality(ctx.md, spot, 'bars', { nowMs: T + 5 * H }).ohlcViolations).toBe(2);
  });

  it('judges funding staleness against 9 h since the last event, and its gaps against 8 h', async () => {
    const key = { venue: 'binance-usdm', symbol: 'BTCUSDT', interval: '1h' } as const;
    await importCsv({ md: ctx.md, ...key, files: [`${SHARED_DATA}market/binance-funding-btcusdt__eth-dashboard/BTCUSDT-funding-8h-pct.csv`] });
    const last = 1761926400007;
    const fresh = seriesQuality(ctx.md, key, 'funding', { nowMs: last + FUNDING_STALE_AFTER_MS });
    expect(fresh).toMatchObject({ bars: 3281, gaps: 0, missingBars: 0, stale: false, ageMs: 9 * H, ohlcViolations: 0, stepMs: 8 * H });
    expect(seriesQuality(ctx.md, key, 'funding', { nowMs: last + FUNDING_STALE_AFTER_MS + 1 }).stale).toBe(true);
  });

  it('lists every series for `data status --json` with the agreed keys', async () => {
    const m = `${SHARED_DATA}market/`;
    await importCsv({ md: ctx.md, ...spot, files: [`${m}binance-spot__finom-static-klines/BTCUSDT/1h/BTCUSDT-1h-2023.csv`] });
    await importCsv({ md: ctx.md, venue: 'binance-usdm', symbol: 'BTCUSDT', interval: '1h', files: [`${m}binance-funding-btcusdt__eth-dashboard/BTCUSDT-funding-8h-pct.csv`] });
    await importCsv({ md: ctx.md, venue: 'deribit', symbol: 'BTC', interval: '1d', files: [`${m}deribit-dvol-btc__eth-dashboard/BTC-DVOL-1d-close.csv`] });
    const nowMs = Date.parse('2025-11-01T00:00:00Z');
    const status = JSON.parse(JSON.stringify(dataStatus(ctx.md, nowMs))) as { series: Record<string, unknown>[] };
    expect(status.series.map((s) => [s.kind, s.venue, s.symbol, s.interval])).toEqual([
      ['bars', 'binance-spot', 'BTCUSDT', '1h'],
      ['funding', 'binance-usdm', 'BTCUSDT', 'event'],
      ['impliedVol', 'deribit', 'BTC', '1d'],
    ]);
    for (const s of status.series) for (const k of ['venue', 'symbol', 'interval', 'bars', 'first', 'last', 'gaps', 'missingBars', 'stale', 'ageMs']) expect(s).toHaveProperty(k);
    expect(Object.keys(status.series[0]!).slice(0, 11)).toEqual(['kind', 'venue', 'symbol', 'interval', 'bars', 'first', 'last', 'gaps', 'missingBars', 'stale', 'ageMs']);
    expect(status.series[0]).toMatchObject({
      bars: 8759, first: '2023-01-01T00:00:00.000Z', last: '2023-12-31T23:00:00.000Z', gaps: 1, missingBars: 1, stale: true,
      largestGap: { start: '2023-03-24T13:00:00.000Z', end: '2023-03-24T13:00:00.000Z', missing: 1 }, watermarkMs: LAST_2023,
    });
    // Funding ends 2025-10-31 16:00 (+7 ms): 8 h before the cutoff, so fresh.
    expect(status.series[1]).toMatchObject({ bars: 3281, first: '2022-11-03T08:00:00.016Z', gaps: 0, stale: false, ageMs: 8 * H - 7 });
    // The last DVOL day (2025-10-31) closes exactly at the cutoff.
    expect(status.series[2]).toMatchObject({ bars: 1091, last: '2025-10-31T00:00:00.000Z', gaps: 0, stale: false, ageMs: 0 });
  });

  it('returns no series for an empty store', () => {
    expect(dataStatus(ctx.md, 0)).toEqual({ series: [], invalidTimes: [] });
  });
});
