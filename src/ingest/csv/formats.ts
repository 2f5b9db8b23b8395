/**
 * The CSV formats `liqcal import-csv` understands (see shared/data/PROVENANCE.md), how a header picks
 * one, and how a data line becomes a normalised row. Rows are checked here field by field; the
 * row-level rules (positive prices, OHLC consistency, funding in [-1, 1]) stay in row-checks.ts.
 */
import { AppError } from '../../core/errors.ts';
import type { Bar, FundingRow, ImpliedVolRow, RowOf } from '../types.ts';

/** Data kinds a CSV file may hold. */
export type CsvKind = 'bars' | 'funding' | 'impliedVol';

/** One known CSV layout: its exact header columns, its data kind and how parsed values become a row. */
export interface CsvFormat<K extends CsvKind = CsvKind> {
  /** Short name for messages and results. */
  readonly name: string;
  readonly kind: K;
  /** The header, column by column, exactly as it must appear on line 1. */
  readonly columns: readonly string[];
  /** Builds the row from the parsed values, one per column, in header order. */
  readonly toRow: (v: Float64Array) => RowOf<K>;
}

const bar = (v: Float64Array, quote: boolean, taker: boolean): Bar => ({
  openTimeMs: v[0]!, open: v[1]!, high: v[2]!, low: v[3]!, close: v[4]!, volume: v[5]!,
  quoteVolume: quote ? v[6]! : undefined,
  trades: quote ? v[7]! : undefined,
  takerBuyBaseVolume: taker ? v[8]! : undefined,
});

const OHLCV = ['open_time_ms', 'open', 'high', 'low', 'close', 'volume'] as const;

/** Every known format, bars first. Header matching is exact (after a UTF-8 BOM and a trailing CR are removed). */
export const CSV_FORMATS: readonly CsvFormat[] = [
  { name: 'klines', kind: 'bars', columns: [...OHLCV, 'quote_volume', 'trades', 'taker_buy_base_volume'], toRow: (v) => bar(v, true, true) },
  { name: 'klines-no-taker', kind: 'bars', columns: [...OHLCV, 'quote_volume', 'trades'], toRow: (v) => bar(v, true, false) },
  { name: 'ohlcv', kind: 'bars', columns: [...OHLCV], toRow: (v) => bar(v, false, false) },
  { name: 'funding-fraction', kind: 'funding', columns: ['funding_time_ms', 'funding_rate'], toRow: (v): FundingRow => ({ fundingTimeMs: v[0]!, rate: v[1]!, markPrice: undefined }) },
  // Percent per interval (0.01 = 0.01 %): stored as Binance's fraction.
  { name: 'funding-pct', kind: 'funding', columns: ['funding_time_ms', 'funding_rate_pct'], toRow: (v): FundingRow => ({ fundingTimeMs: v[0]!, rate: v[1]! / 100, markPrice: undefined }) },
  { name: 'dvol-close', kind: 'impliedVol', columns: ['date_ms', 'dvol_close'], toRow: (v): ImpliedVolRow => ({ timeMs: v[0]!, open: undefined, high: undefined, low: undefined, close: v[1]! }) },
];

/**
 * Picks the format whose header is exactly `headerLine`, optionally restricted to `kind`.
 * Throws a `config` error naming the file, the header found and the expected headers.
 */
export function detectFormat(file: string, headerLine: string | undefined, kind?: CsvKind): CsvFormat {
  const header = (headerLine ?? '').replace(/^\uFEFF/, '').replace(/\r$/, '');
  const candidates = kind === undefined ? CSV_FORMATS : CSV_FORMATS.filter((f) => f.kind === kind);
  const hit = candidates.find((f) => f.columns.join(',') === header);
  if (hit) return hit;
  const expected = candidates.map((f) => `"${f.columns.join(',')}"`).join(' or ');
  const other = kind === undefined ? undefined : CSV_FORMATS.find((f) => f.columns.join(',') === header);
  const found = headerLine === undefined ? 'an empty file (no header line)' : `the header "${clip(header, 200)}"`;
  const why = other ? ` It is a ${other.kind} file, but kind ${kind} was requested; drop --kind or pass --kind ${other.kind}.` : '';
  throw new AppError('config', `${file}:1: found ${found}; expected ${kind ? `a ${kind} header, ` : ''}one of ${expected}.${why}`, {
    context: { file, line: 1, header, expected: candidates.map((f) => f.columns.join(',')), kind },
  });
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
/** Position just after the field that {@link scanDecimal} last read. */
let scanEnd = 0;

/**
 * Reads one decimal field of `s` starting at `i` and ending before `end` or a comma: optional sign,
 * digits with an optional point, optional exponent. Anything else (empty, spaces, quotes, hex, `NaN`,
 * `Infinity`) gives NaN. Up to 15 significant digits and |exponent| ≤ 22 it computes `m / 10^k` (or
 * `m * 10^k`) from exact operands, which is correctly rounded and so bit-identical to `Number()`
 * (Clinger's fast path); longer inputs fall back to `Number()` on the substring.
 */
export function scanDecimal(s: string, i: number, end: number): number {
  const from = i;
  let ch = i < end ? s.charCodeAt(i) : -1;
  let neg = false;
  if (ch === 45 || ch === 43) { neg = ch === 45; ch = ++i < end ? s.charCodeAt(i) : -1; }
  let m = 0;
  let digits = 0;
  let frac = 0;
  let dot = false;
  for (;;) {
    if (ch >= 48 && ch <= 57) { m = m * 10 + (ch - 48); digits++; if (dot) frac++; }
    else if (ch === 46 && !dot) dot = true;
    else break;
    ch = ++i < end ? s.charCodeAt(i) : -1;
  }
  if (digits === 0) return bad(s, i, end);
  let exp = 0;
  if (ch === 101 || ch === 69) {
    ch = ++i < end ? s.charCodeAt(i) : -1;
    let eneg = false;
    if (ch === 45 || ch === 43) { eneg = ch === 45; ch = ++i < end ? s.charCodeAt(i) : -1; }
    let ed = 0;
    while (ch >= 48 && ch <= 57) { if (exp < 1e6) exp = exp * 10 + (ch - 48); ed++; ch = ++i < end ? s.charCodeAt(i) : -1; }
    if (ed === 0) return bad(s, i, end);
    if (eneg) exp = -exp;
  }
  if (ch !== -1 && ch !== 44) return bad(s, i, end);
  scanEnd = i;
  const e10 = exp - frac;
  let x: number;
  if (digits <= 15 && e10 >= -22 && e10 <= 22) x = e10 < 0 ? m / POW10[-e10]! : m * POW10[e10]!;
  else {
    x = Number(s.slice(from, i));
    if (!Number.isFinite(x)) return Number.NaN;
    return x;
  }
  return neg ? -x : x;
}

function bad(s: string, i: number, end: number): number {
  while (i < end && s.charCodeAt(i) !== 44) i++;
  scanEnd = i;
  return Number.NaN;
}

/** Parses a whole string as one strict decimal field (see {@link scanDecimal}); NaN when it is not one. */
export function parseDecimal(s: string): number {
  const x = scanDecimal(s, 0, s.length);
  return scanEnd === s.length ? x : Number.NaN;
}

/**
 * Parses the fields of the line `s[start, end)` into `out` (one per column) without splitting it.
 * Throws a `dataQuality` error naming file, line and field on a wrong field count or a field that is
 * not a finite decimal number.
 */
export function parseLine(s: string, start: number, end: number, format: CsvFormat, out: Float64Array, where: { file: string; line: number }): void {
  const cols = format.columns;
  const last = cols.length - 1;
  let i = start;
  for (let c = 0; c <= last; c++) {
    const from = i;
    const x = scanDecimal(s, i, end);
    i = scanEnd;
    const atComma = i < end;
    if (x !== x || (c < last && !atComma) || (c === last && atComma)) {
      const line = s.slice(start, end);
      const fields = line.split(',');
      if (fields.length !== cols.length) {
        throw new AppError('dataQuality', `${where.file}:${where.line}: expected ${cols.length} fields (${cols.join(',')}) but found ${fields.length}: "${clip(line, 120)}". Nothing of this file was imported.`, {
          context: { file: where.file, line: where.line, expectedFields: cols.length, foundFields: fields.length },
        });
      }
      const text = s.slice(from, i);
      throw new AppError('dataQuality', `${where.file}:${where.line}: field ${cols[c]!} is "${clip(text, 40)}", not a finite decimal number. Nothing of this file was imported.`, {
        context: { file: where.file, line: where.line, field: cols[c], value: clip(text, 40) },
      });
    }
    out[c] = x;
    i++;
  }
}

/**
 * The CSV column of a normalised row field named by a row-checks problem: time fields are the first
 * column, a funding rate or an implied-vol close the second, the rest map snake_case.
 */
export function columnOfField(field: string, format: CsvFormat): string | undefined {
  switch (field) {
    case 'openTimeMs': case 'fundingTimeMs': case 'timeMs': return format.columns[0];
    case 'rate': return format.columns[1];
    case 'close': return format.kind === 'impliedVol' ? format.columns[1] : 'close';
    case 'quoteVolume': return 'quote_volume';
    case 'takerBuyBaseVolume': return 'taker_buy_base_volume';
    default: return format.columns.includes(field) ? field : undefined;
  }
}

/** Shortens `s` to at most `max` characters for messages. */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
