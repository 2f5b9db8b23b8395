import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempStore } from '../helpers/tmp.ts';
import { AppError, isAppError } from '../../src/core/errors.ts';
import { importCsv } from '../../src/ingest/csv.ts';
import { parseDecimal } from '../../src/ingest/csv/formats.ts';
import type { Bar, FundingRow, ImpliedVolRow } from '../../src/ingest/types.ts';
import { type SeriesKey } from '../../src/store/market-data.ts';
import { SHARED_DATA } from '../helpers/http-server.ts';

const MARKET = `${SHARED_DATA}market/`;
const SPOT_1H = `${MARKET}binance-spot__finom-static-klines/BTCUSDT/1h/`;
const FIX = new URL('../fixtures/csv/', import.meta.url).pathname;

const ctx = useTempStore('liqcal-csv-');

const spot: SeriesKey = { venue: 'binance-spot', symbol: 'BTCUSDT', interval: '1h' };
const test = { venue: 'test', symbol: 'TEST', interval: '1h' } as const satisfies SeriesKey;

async function importError(files: string[], key: SeriesKey = test): Promise<AppError> {
  const e = await importCsv({ md: ctx.md, ...key, interval: '1h', files }).then(() => undefined, (err: unknown) => err);
  if (!(e instanceof AppError)) throw new Error(`expected an AppError, got ${String(e)}`);
  return e;
}

describe('importCsv: real shared files, read in place (golden)', () => {
  it('imports a Binance spot year: row count, exact first and last bars, watermark', async () => {
    const file = `${SPOT_1H}BTCUSDT-1h-2023.csv`;
    const r = await importCsv({ md: ctx.md, ...spot, interval: '1h', files: [file] });
    expect(r.rows).toBe(8759); // 8760 hours minus the 2023-03-24 13:00 outage
    expect(r.duplicates).toBe(0);
    expect(r.files).toEqual([{ file, kind: 'bars', format: 'klines', rows: 8759, duplicates: 0, firstMs: 1672531200000, lastMs: 1704063600000 }]);
    expect(r.firstMs).toBe(1672531200000);
    expect(r.lastMs).toBe(1704063600000);
    expect(r.elapsedMs).toBeGreaterThan(0);
    const bars = ctx.md.readRows('bars', spot);
    expect(bars).toHaveLength(8759);
    expect(bars[0]).toEqual({ openTimeMs: 1672531200000, open: 16541.77, high: 16545.7, low: 16508.39, close: 16529.67, volume: 4364.8357, quoteVolume: 72146293.5867229, trades: 149854, takerBuyBaseVolume: 2179.94772 });
    expect(bars[8758]).toEqual({ openTimeMs: 1704063600000, open: 42257.89, high: 42345.65, low: 42066, close: 42283.58, volume: 1710.13721, quoteVolume: 72198036.3232907, trades: 55536, takerBuyBaseVolume: 777.45746 });
    // The outage hour before the gap is a flat zero-volume bar; it is stored as is.
    expect(bars.find((b) => b.openTimeMs === 1679659200000)).toMatchObject({ open: 28080, high: 28080, low: 28080, close: 28080, volume: 0 });
    expect(ctx.md.watermark('bars', spot)).toBe(1704063600000);
  });

  it('imports yearly files in order, tolerates overlaps and is idempotent on re-import', async () => {
    const files = [`${SPOT_1H}BTCUSDT-1h-2022.csv`, `${SPOT_1H}BTCUSDT-1h-2023.csv`];
    const progress: number[] = [];
    const r1 = await importCsv({ md: ctx.md, ...spot, interval: '1h', files, batchRows: 4000, onProgress: (n) => progress.push(n) });
    expect(r1.rows).toBe(8760 + 8759);
    expect(r1.files.map((f) => f.rows)).toEqual([8760, 8759]);
    expect(progress).toEqual([4000, 8000, 8760, 12760, 16760, 17519]);
    const before = ctx.md.readRows('bars', spot);
    // Overlap: the 2023 file again, then both again.
    await importCsv({ md: ctx.md, ...spot, interval: '1h', files: [files[1]!, ...files] });
    expect(ctx.md.readRows('bars', spot)).toEqual(before);
    expect(ctx.md.watermark('bars', spot)).toBe(1704063600000);
  });

  it('reads the perp format without taker volume (quote_volume,trades) and leaves taker undefined', async () => {
    const file = `${MARKET}binance-usdm-perp__gravestone-data/1h/BTCUSDT-perp-1h.csv`;
    const key = { venue: 'binance-usdm', symbol: 'BTCUSDT', interval: '1h' } as const;
    const r = await importCsv({ md: ctx.md, ...key, files: [file] });
    expect(r.files[0]).toMatchObject({ format: 'klines-no-taker', rows: 1168, firstMs: 1757750400000, lastMs: 1761951600000 });
    const [first] = ctx.md.readRows('bars', key, { limit: 1 });
    expect(first).toEqual<Bar>({ openTimeMs: 1757750400000, open: 115715.5, high: 116011, low: 115715.5, close: 115913.3, volume: 1844.202, quoteVolume: 213658733.8412, trades: 39746, takerBuyBaseVolume: undefined });
  });

  it('reads the plain OHLCV perp format', async () => {
    const file = `${MARKET}binance-usdm-perp__pixelalpha-markettrend/BTCUSDT-perp-1h.csv`;
    const key = { venue: 'binance-usdm', symbol: 'BTCUSDT', interval: '1h' } as const;
    const r = await importCsv({ md: ctx.md, ...key, files: [file], kind: 'bars' });
    expect(r.files[0]).toMatchObject({ format: 'ohlcv', rows: 37660, firstMs: 1577836800000 });
    expect(ctx.md.readRows('bars', key, { limit: 1 })[0]).toEqual<Bar>({ openTimeMs: 1577836800000, open: 7189.43, high: 7190.52, low: 7170.15, close: 7171.55, volume: 2449.049, quoteVolume: undefined, trades: undefined, takerBuyBaseVolume: undefined });
  });

  it('reads funding in percent (÷100) and as a fraction, keeping the ms jitter of funding times', async () => {
    const pct = `${MARKET}binance-funding-btcusdt__eth-dashboard/BTCUSDT-funding-8h-pct.csv`;
    const frac = `${MARKET}binance-usdm-perp__rl-trading-validation/BTC_USDT_USDT-8h-funding_rate.csv`;
    const a = { venue: 'binance-usdm', symbol: 'BTCUSDT', interval: '1h' } as const;
    const b = { venue: 'freqtrade', symbol: 'BTCUSDT', interval: '1h' } as const;
    const ra = await importCsv({ md: ctx.md, ...a, files: [pct] });
    const rb = await importCsv({ md: ctx.md, ...b, files: [frac] });
    expect(ra.files[0]).toMatchObject({ kind: 'funding', format: 'funding-pct', rows: 3281, firstMs: 1667462400016, lastMs: 1761926400007 });
    expect(rb.files[0]).toMatchObject({ kind: 'funding', format: 'funding-fraction', rows: 115, firstMs: 1758240000000 });
    const fa = ctx.md.readRows('funding', a);
    expect(fa[0]).toEqual<FundingRow>({ fundingTimeMs: 1667462400016, rate: 0.00044 / 100, markPrice: undefined });
    expect(fa[1]!.fundingTimeMs).toBe(1667491200005);
    expect(fa.at(-1)!.rate).toBeCloseTo(0.0001, 15);
    const fb = ctx.md.readRows('funding', b);
    expect(fb[0]!.rate).toBe(-2.31e-6);
    expect(fb[1]).toEqual<FundingRow>({ fundingTimeMs: 1758268800005, rate: 2.109e-5, markPrice: undefined });
    // The two sources agree where they overlap (PROVENANCE.md: 0 mismatches).
    const byTime = new Map(fa.map((f) => [f.fundingTimeMs, f.rate]));
    const common = fb.filter((f) => byTime.has(f.fundingTimeMs));
    expect(common.length).toBeGreaterThan(50);
    for (const f of common) expect(byTime.get(f.fundingTimeMs)).toBeCloseTo(f.rate, 12);
    expect(ctx.md.watermark('funding', a)).toBe(1761926400007);
  });

  it('reads the Deribit DVOL close as an implied-vol series', async () => {
    const file = `${MARKET}deribit-dvol-btc__eth-dashboard/BTC-DVOL-1d-close.csv`;
    const key = { venue: 'deribit', symbol: 'BTC', interval: '1d' } as const;
    const r = await importCsv({ md: ctx.md, ...key, files: [file] });
    expect(r.files[0]).toMatchObject({ kind: 'impliedVol', format: 'dvol-close', rows: 1091, firstMs: 1667692800000, lastMs: 1761868800000 });
    const rows = ctx.md.readRows('impliedVol', key);
    expect(rows[0]).toEqual<ImpliedVolRow>({ timeMs: 1667692800000, open: undefined, high: undefined, low: undefined, close: 56.76 });
    expect(rows.at(-1)!.close).toBe(43.31);
  });
});

describe('importCsv: bad files name file, line and field, and write nothing of the file', () => {
  const cases: [fixture: string, line: number, field: string | undefined, message: RegExp][] = [
    ['bad-field-count.csv', 5, undefined, /expected 6 fields .* but found 5/],
    ['bad-number.csv', 5, 'high', /field high is "1O3", not a finite decimal number/],
    ['nan.csv', 5, 'close', /field close is "NaN"/],
    ['negative-price.csv', 5, 'low', /low is -99, not positive/],
    ['high-below-low.csv', 5, 'high', /high 95 < low 99/],
    ['ohlc-inconsistent.csv', 5, 'high', /high 103 is below max\(open 101, close 104\)/],
    ['conflicting-duplicate.csv', 5, 'close', /duplicate open_time_ms 2023-01-01T02:00:00.000Z \(also on line 4\) with a different close \(102 vs 101\)/],
    ['out-of-order.csv', 5, 'open_time_ms', /out of order: open_time_ms 2023-01-01T01:00:00.000Z comes after 2023-01-01T02:00:00.000Z on line 4/],
    ['misaligned.csv', 5, 'open_time_ms', /is not on the 60-minute interval grid .*check --interval \(1h\)/],
  ];
  it.each(cases)('%s → dataQuality at line %i', async (fixture, line, field, message) => {
    const file = `${FIX}${fixture}`;
    // Two earlier hours with other values: a partial write would change them, or add hour 2 and move the watermark.
    const earlier = join(ctx.dir, 'earlier.csv');
    writeFileSync(earlier, 'open_time_ms,open,high,low,close,volume\n1672531200000,200,210,190,205,1\n1672534800000,205,212,201,208,1\n');
    await importCsv({ md: ctx.md, ...test, interval: '1h', files: [earlier] });
    const before = ctx.md.readRows('bars', test);
    expect(before).toHaveLength(2);
    const e = await importError([file]);
    expect(e.kind).toBe('dataQuality');
    expect(e.message).toContain(`${file}:${line}:`);
    expect(e.message).toMatch(message);
    expect(e.message).toContain('Nothing of this file was imported');
    expect(e.context).toMatchObject({ file, line, ...(field ? { field } : {}) });
    // The file's good first rows (other values on the same hours, plus hour 2) were not written either.
    expect(ctx.md.readRows('bars', test)).toEqual(before);
    expect(ctx.md.watermark('bars', test)).toBe(1672534800000);
  });

  it('writes nothing of a bad file into an empty series (no rows, no watermark)', async () => {
    await importError([`${FIX}negative-price.csv`]);
    expect(ctx.md.readTimes('bars', test)).toHaveLength(0);
    expect(ctx.md.watermark('bars', test)).toBeUndefined();
    expect(ctx.md.listSeries()).toEqual([]);
  });

  it('keeps earlier good files of the same call (all-or-nothing is per file)', async () => {
    const e = await importError([`${FIX}crlf-bom.csv`, `${FIX}nan.csv`]);
    expect(e.context).toMatchObject({ file: `${FIX}nan.csv`, line: 5 });
    expect(ctx.md.readTimes('bars', test)).toHaveLength(3);
  });

  it('rejects a wrong header with a config error naming file, header found and headers expected', async () => {
    const file = `${FIX}wrong-header.csv`;
    const e = await importError([file]);
    expect(e.kind).toBe('config');
    expect(e.message).toContain(`${file}:1`);
    expect(e.message).toContain('"timestamp,open,high,low,close,volume"');
    expect(e.message).toContain('"open_time_ms,open,high,low,close,volume"');
    expect(e.message).toContain('"open_time_ms,open,high,low,close,volume,quote_volume,trades,taker_buy_base_volume"');
    expect(e.message).toContain('"funding_time_ms,funding_rate_pct"');
    expect(e.message).toContain('"date_ms,dvol_close"');
    expect(ctx.md.listSeries()).toEqual([]);
  });

  it('rejects a header of another kind than the one asked for', async () => {
    const e = await importCsv({ md: ctx.md, ...test, files: [`${FIX}crlf-bom.csv`], kind: 'funding' }).catch((err: unknown) => err);
    expect(isAppError(e, 'config')).toBe(true);
    expect((e as AppError).message).toMatch(/It is a bars file, but kind funding was requested/);
  });

  it('rejects an empty file, and a missing file as an io error', async () => {
    const empty = join(ctx.dir, 'empty.csv');
    writeFileSync(empty, '');
    expect((await importError([empty])).message).toMatch(/empty\.csv:1: found an empty file \(no header line\)/);
    const missing = join(ctx.dir, 'nope.csv');
    const e = await importError([missing]);
    expect(e.kind).toBe('io');
    expect(e.message).toContain(missing);
  });

  it('rejects a file with an endless line instead of buffering it', async () => {
    const file = join(ctx.dir, 'blob.csv');
    writeFileSync(file, `open_time_ms,open,high,low,close,volume\n${'9'.repeat(3 << 20)}`);
    const e = await importError([file]);
    expect(e.kind).toBe('dataQuality');
    expect(e.message).toMatch(/blob\.csv:2: the line is longer than/);
  });

  it('rejects invalid options as a config error', async () => {
    const e = await importCsv({ md: ctx.md, ...test, files: [] }).catch((err: unknown) => err);
    expect(isAppError(e, 'config')).toBe(true);
    expect((e as AppError).message).toContain('files');
  });
});

describe('importCsv: duplicates, line endings, empty files', () => {
  it('skips and counts exact duplicate rows', async () => {
    const r = await importCsv({ md: ctx.md, ...test, files: [`${FIX}duplicate.csv`] });
    expect(r).toMatchObject({ rows: 5, duplicates: 2 });
    expect(r.files[0]).toMatchObject({ rows: 5, duplicates: 2 });
    expect(Array.from(ctx.md.readTimes('bars', test))).toEqual([0, 1, 2, 3, 4].map((i) => 1672531200000 + i * 3_600_000));
  });

  it('accepts CRLF line ends and a UTF-8 byte-order mark', async () => {
    const r = await importCsv({ md: ctx.md, ...test, files: [`${FIX}crlf-bom.csv`] });
    expect(r.rows).toBe(3);
    expect(ctx.md.readRows('bars', test)[2]).toMatchObject({ open: 108, high: 109, low: 100, close: 101, volume: 12.5 });
  });

  it('accepts a header-only file and writes nothing', async () => {
    const r = await importCsv({ md: ctx.md, ...test, files: [`${FIX}header-only.csv`] });
    expect(r).toMatchObject({ rows: 0, duplicates: 0, firstMs: undefined, lastMs: undefined });
    expect(ctx.md.watermark('bars', test)).toBeUndefined();
  });

  it('handles a file without a final newline and lines split across read chunks', async () => {
    const file = join(ctx.dir, 'long.csv');
    const lines = ['open_time_ms,open,high,low,close,volume'];
    // ~2.5 MiB: several 1 MiB chunks, so lines straddle chunk boundaries.
    for (let i = 0; i < 40_000; i++) lines.push(`${1672531200000 + i * 60_000},100.123456789,100.5,99.5,100.25,${(i * 0.001).toFixed(3)}`);
    writeFileSync(file, `${lines.join('\n')}`);
    const r = await importCsv({ md: ctx.md, ...test, interval: '1m', files: [file] });
    expect(r.rows).toBe(40_000);
    const rows = ctx.md.readRows('bars', { ...test, interval: '1m' });
    expect(rows[39_999]).toMatchObject({ openTimeMs: 1672531200000 + 39_999 * 60_000, open: 100.123456789, volume: 39.999 });
  });
});

describe('parseDecimal', () => {
  it('equals Number() bit for bit on decimal spellings of doubles', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
      const s = String(x);
      expect(Object.is(parseDecimal(s), Number(s))).toBe(true);
    }), { numRuns: 5000 });
  });

  it('equals Number() on generated digit strings (fast path and fallback)', () => {
    const digits = fc.string({ unit: fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'), minLength: 1, maxLength: 22 });
    fc.assert(fc.property(fc.constantFrom('', '-', '+'), digits, fc.option(digits), fc.option(fc.integer({ min: -330, max: 330 })), (sign, int, frac, exp) => {
      const s = `${sign}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : `e${exp}`}`;
      const n = Number(s);
      expect(Object.is(parseDecimal(s), Number.isFinite(n) ? n : Number.NaN)).toBe(true);
    }), { numRuns: 5000 });
  });

  it('rejects what is not a plain decimal', () => {
    for (const s of ['', ' ', ' 1', '1 ', '0x10', '0b1', '0o7', 'NaN', 'Infinity', '-Infinity', '1e', '1e+', '.', '-', '+', '1.2.3', '"1"', '1,5', '1e999', '--1', '١']) {
      expect(parseDecimal(s), JSON.stringify(s)).toBeNaN();
    }
    expect(parseDecimal('.5')).toBe(0.5);
    expect(parseDecimal('5.')).toBe(5);
    expect(parseDecimal('+7')).toBe(7);
    expect(Object.is(parseDecimal('-0'), -0)).toBe(true);
    expect(parseDecimal('-2.31e-06')).toBe(-2.31e-6);
    expect(parseDecimal('1E3')).toBe(1000);
  });
});
