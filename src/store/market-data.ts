import type Database from 'better-sqlite3';
import { AppError } from '../core/errors.ts';
import { safeNameProblem } from '../core/terminal.ts';
import { iso, systemClock, type Clock } from '../core/time.ts';
import { EARLIEST_PLAUSIBLE_MS, FUNDING_STEP_MS, rowProblem, timeRules, type TimeRules } from '../ingest/row-checks.ts';
import type { Bar, DataKind, FundingRow, ImpliedVolRow, OpenInterestRow, RowOf } from '../ingest/types.ts';
import { rowTime } from '../ingest/types.ts';
import type { Store } from './db.ts';

/** Identifies one stored series. For funding, `interval` is ignored (funding events are irregular). */
export interface SeriesKey {
  readonly venue: string;
  readonly symbol: string;
  readonly interval: string;
}

/** Rows bound per multi-row upsert statement (12 columns × 100 stays far below SQLite's 32,766 variables). */
const UPSERT_CHUNK = 100;

/** Interval value stored for funding series, whose events have no bar interval. */
export const FUNDING_INTERVAL = 'event';

/** Bars as columns: each array has one entry per bar, ascending by open time. Missing optional fields are NaN. */
export interface BarColumns {
  readonly openTimeMs: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  readonly quoteVolume: Float64Array;
  readonly trades: Float64Array;
  readonly takerBuyBaseVolume: Float64Array;
}

/** One series as listed by {@link MarketData.listSeries}. */
export interface SeriesSummary extends SeriesKey {
  readonly kind: DataKind;
  readonly rows: number;
  readonly firstMs: number;
  readonly lastMs: number;
}

interface KindSql {
  readonly table: string;
  readonly timeCol: string;
  readonly hasInterval: boolean;
  readonly cols: readonly string[];
  readonly toParams: (r: never) => readonly (number | null)[];
  readonly fromRow: (r: Record<string, number | null>) => unknown;
}

const u = (x: number | null): number | undefined => (x === null ? undefined : x);
const n = (x: number | undefined): number | null => (x === undefined ? null : x);

const KINDS: Readonly<Record<DataKind, KindSql>> = {
  bars: {
    table: 'bars',
    timeCol: 'open_time_ms',
    hasInterval: true,
    cols: ['open', 'high', 'low', 'close', 'volume', 'quote_volume', 'trades', 'taker_buy_base_volume'],
    toParams: (b: Bar) => [b.openTimeMs, b.open, b.high, b.low, b.close, b.volume, n(b.quoteVolume), n(b.trades), n(b.takerBuyBaseVolume)],
    fromRow: (r): Bar => ({
      openTimeMs: r.open_time_ms!, open: r.open!, high: r.high!, low: r.low!, close: r.close!, volume: r.volume!,
      quoteVolume: u(r.quote_volume!), trades: u(r.trades!), takerBuyBaseVolume: u(r.taker_buy_base_volume!),
    }),
  },
  funding: {
    table: 'funding_rates',
    timeCol: 'funding_time_ms',
    hasInterval: false,
    cols: ['rate', 'mark_price'],
    toParams: (f: FundingRow) => [f.fundingTimeMs, f.rate, n(f.markPrice)],
    fromRow: (r): FundingRow => ({ fundingTimeMs: r.funding_time_ms!, rate: r.rate!, markPrice: u(r.mark_price!) }),
  },
  openInterest: {
    table: 'open_interest',
    timeCol: 'time_ms',
    hasInterval: true,
    cols: ['open_interest', 'open_interest_value'],
    toParams: (o: OpenInterestRow) => [o.timeMs, o.openInterest, n(o.openInterestValue)],
    fromRow: (r): OpenInterestRow => ({ timeMs: r.time_ms!, openInterest: r.open_interest!, openInterestValue: u(r.open_interest_value!) }),
  },
  impliedVol: {
    table: 'implied_vol',
    timeCol: 'time_ms',
    hasInterval: true,
    cols: ['open', 'high', 'low', 'close'],
    toParams: (v: ImpliedVolRow) => [v.timeMs, n(v.open), n(v.high), n(v.low), v.close],
    fromRow: (r): ImpliedVolRow => ({ timeMs: r.time_ms!, open: u(r.open!), high: u(r.high!), low: u(r.low!), close: r.close! }),
  },
};

/** The stored interval of a series of `kind` (funding has none). */
export function storedInterval(kind: DataKind, interval: string): string {
  return KINDS[kind].hasInterval ? interval : FUNDING_INTERVAL;
}

/** The SQL table, time column and whether the key has an interval, of each kind (for `data check`). */
export function kindTable(kind: DataKind): { readonly table: string; readonly timeCol: string; readonly hasInterval: boolean } {
  const k = KINDS[kind];
  return { table: k.table, timeCol: k.timeCol, hasInterval: k.hasInterval };
}

/**
 * Throws a `config` error when the venue or symbol of a series is not a safe name ({@link SAFE_NAME}: 1–64 ASCII
 * letters, digits and `. _ - / :`), so no control character, space or look-alike ever becomes a key of the store.
 */
export function checkSeriesNames(key: Pick<SeriesKey, 'venue' | 'symbol'>): void {
  for (const [what, v] of [['venue name', key.venue], ['symbol', key.symbol]] as const) {
    const p = safeNameProblem(v, what);
    if (p) throw new AppError('config', `${p}.`, { context: { [what === 'symbol' ? 'symbol' : 'venue']: v.slice(0, 80) } });
  }
}

/** Options of {@link MarketData}. */
export interface MarketDataOptions {
  /** The clock that bounds admitted and read times (a row may lie at most one interval after it); default the wall clock. */
  readonly clock?: Clock;
}

/**
 * Market-data repository over a store: idempotent upserts of validated pages with their watermark
 * in one transaction, and columnar reads for the numeric core.
 *
 * **One admission check on every path into the store.** Every row written — CSV import, venue ingest, a replay, a
 * library caller — passes `rowProblem` with the series' time rules (a plausible epoch-ms time between 2009-01-01 and
 * the clock plus one interval, on the interval grid; positive finite prices, consistent OHLC…) inside the write
 * transaction; one bad row throws a `dataQuality` error and nothing of the call is written.
 *
 * **Readers never crash on what a store holds.** A store written by an older liqcal or by hand may hold rows that
 * break those rules; every read (`readRows`, `readBarColumns`, `readTimes`, `listSeries`…) returns only rows with a
 * plausible, on-grid time, and `liqcal data check` ({@link MarketData.findInvalidRows}) lists the others.
 */
export class MarketData {
  /** The clock admission and reads are judged by. */
  readonly clock: Clock;
  private readonly upserts = new Map<DataKind, Database.Statement>();
  /** The same upserts binding {@link UPSERT_CHUNK} rows per statement: ~1.5× faster than one row per call. */
  private readonly chunkUpserts = new Map<DataKind, Database.Statement>();
  private readonly setWatermark: Database.Statement;
  private readonly getWatermarkStmt: Database.Statement;

  constructor(readonly store: Store, opts: MarketDataOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    const db = store.db;
    for (const kind of Object.keys(KINDS) as DataKind[]) {
      const k = KINDS[kind];
      const keyCols = ['venue', 'symbol', ...(k.hasInterval ? ['interval'] : []), k.timeCol];
      const all = [...keyCols, ...k.cols];
      const sql = `INSERT INTO ${k.table} (${all.join(', ')}) VALUES (${all.map(() => '?').join(', ')})
        ON CONFLICT (${keyCols.join(', ')}) DO UPDATE SET ${k.cols.map((c) => `${c} = excluded.${c}`).join(', ')}`;
      this.upserts.set(kind, db.prepare(sql));
      const tuple = `(${all.map(() => '?').join(', ')})`;
      this.chunkUpserts.set(kind, db.prepare(sql.replace(`VALUES ${tuple}`, `VALUES ${Array.from({ length: UPSERT_CHUNK }, () => tuple).join(', ')}`)));
    }
    this.setWatermark = db.prepare(`INSERT INTO watermarks (kind, venue, symbol, interval, last_time_ms, updated_at_ms, source) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (kind, venue, symbol, interval) DO UPDATE SET last_time_ms = MAX(last_time_ms, excluded.last_time_ms), updated_at_ms = excluded.updated_at_ms, source = excluded.source`);
    this.getWatermarkStmt = db.prepare('SELECT last_time_ms AS t FROM watermarks WHERE kind = ? AND venue = ? AND symbol = ? AND interval = ?');
  }

  /** Upserts rows without touching the watermark; call inside {@link Store.tx} to group batches. Returns rows written. */
  upsertRows<K extends DataKind>(kind: K, key: SeriesKey, rows: readonly RowOf<K>[]): number {
    this.admit(kind, key, rows);
    const one = this.upserts.get(kind)!;
    const chunk = this.chunkUpserts.get(kind)!;
    const k = KINDS[kind];
    const prefix: (string | number | null)[] = k.hasInterval ? [key.venue, key.symbol, key.interval] : [key.venue, key.symbol];
    let i = 0;
    if (rows.length >= UPSERT_CHUNK) {
      // One preallocated parameter array, refilled in place: this loop is the import and ingest hot path.
      const width = prefix.length + k.cols.length + 1;
      const params: (string | number | null)[] = new Array(UPSERT_CHUNK * width);
      for (; i + UPSERT_CHUNK <= rows.length; i += UPSERT_CHUNK) {
        for (let j = 0; j < UPSERT_CHUNK; j++) {
          const at = j * width;
          for (let p = 0; p < prefix.length; p++) params[at + p] = prefix[p]!;
          const vals = k.toParams(rows[i + j] as never);
          for (let p = 0; p < vals.length; p++) params[at + prefix.length + p] = vals[p]!;
        }
        chunk.run(params);
      }
    }
    for (; i < rows.length; i++) one.run(...prefix, ...k.toParams(rows[i] as never));
    return rows.length;
  }

  /**
   * The admission check: throws a `dataQuality` error naming the series, the row and the field when any row is not
   * storable (see the class comment); nothing is written then.
   */
  private admit<K extends DataKind>(kind: K, key: SeriesKey, rows: readonly RowOf<K>[]): void {
    checkSeriesNames(key);
    const rules = timeRules(kind, key.interval, this.clock.now());
    for (let i = 0; i < rows.length; i++) {
      const p = rowProblem(kind, rows[i]!, rules);
      if (p) {
        const t = rowTime(kind, rows[i]!);
        throw new AppError('dataQuality', `${key.venue} ${key.symbol} ${kind === 'funding' ? '' : `${key.interval} `}${kind}: row ${i} (${iso(t)}) was refused by the store: ${p.message}. Nothing of this write was stored.`, {
          context: { venue: key.venue, symbol: key.symbol, interval: key.interval, kind, index: i, time: t, field: p.field, problem: p.message },
        });
      }
    }
  }

  /** Every stored (venue, symbol, interval) of `kind`, whatever its rows (funding: interval `event`), ordered. */
  private seriesOf(kind: DataKind): { venue: string; symbol: string; interval: string }[] {
    const k = KINDS[kind];
    return this.store.db.prepare(`SELECT DISTINCT venue, symbol, ${k.hasInterval ? 'interval' : `'${FUNDING_INTERVAL}'`} AS interval FROM ${k.table} ORDER BY venue, symbol, interval`).all() as { venue: string; symbol: string; interval: string }[];
  }

  /** The rules stored rows of a series must obey now, or undefined when its interval is unknown (nothing readable). */
  private readRules(kind: DataKind, interval: string): TimeRules | undefined {
    try {
      return timeRules(kind, interval, this.clock.now());
    } catch {
      return undefined;
    }
  }

  /**
   * SQL condition (and its parameters) keeping only rows whose time is plausible and on the grid, for reads. Rows
   * outside it are reported by {@link findInvalidRows}, never returned.
   */
  private validTime(kind: DataKind, interval: string): { sql: string; params: number[] } {
    const k = KINDS[kind];
    const rules = this.readRules(kind, interval);
    if (!rules) return { sql: '0', params: [] };
    const latest = rules.nowMs + (rules.stepMs > 0 ? rules.stepMs : FUNDING_STEP_MS);
    return rules.stepMs > 0
      ? { sql: `${k.timeCol} >= ? AND ${k.timeCol} <= ? AND ${k.timeCol} % ? = 0`, params: [EARLIEST_PLAUSIBLE_MS, latest, rules.stepMs] }
      : { sql: `${k.timeCol} >= ? AND ${k.timeCol} <= ?`, params: [EARLIEST_PLAUSIBLE_MS, latest] };
  }

  /**
   * Writes one page and advances the watermark to its last time, in a single transaction: after a
   * crash either the whole page and its watermark are there, or neither is.
   */
  writePage<K extends DataKind>(kind: K, key: SeriesKey, rows: readonly RowOf<K>[], opts: { source?: string; nowMs?: number } = {}): number {
    if (rows.length === 0) return 0;
    return this.store.tx(() => {
      const written = this.upsertRows(kind, key, rows);
      const last = rowTime(kind, rows[rows.length - 1]!);
      this.setWatermark.run(kind, key.venue, key.symbol, storedInterval(kind, key.interval), last, opts.nowMs ?? Date.now(), opts.source ?? null);
      return written;
    });
  }

  /** The last stored time of a series (its watermark), or undefined when nothing is stored. */
  watermark(kind: DataKind, key: SeriesKey): number | undefined {
    const r = this.getWatermarkStmt.get(kind, key.venue, key.symbol, storedInterval(kind, key.interval)) as { t: number } | undefined;
    return r?.t;
  }

  private readonly readStmts = new Map<string, Database.Statement>();

  /**
   * Reads rows of a series in `[fromMs, toMs)`, ascending, at most `limit` of them: the first `limit`,
   * or with `newest` the last `limit` (still returned ascending). Only rows with a plausible, on-grid time.
   */
  readRows<K extends DataKind>(kind: K, key: SeriesKey, range: { fromMs?: number; toMs?: number; limit?: number; newest?: boolean } = {}): RowOf<K>[] {
    const k = KINDS[kind];
    const valid = this.validTime(kind, key.interval);
    const stmtKey = `${kind}|${range.newest ? 'desc' : 'asc'}|${valid.sql}`;
    let stmt = this.readStmts.get(stmtKey);
    if (!stmt) {
      const where = ['venue = ?', 'symbol = ?', ...(k.hasInterval ? ['interval = ?'] : []), `${k.timeCol} >= ?`, `${k.timeCol} < ?`, valid.sql];
      stmt = this.store.db.prepare(`SELECT ${k.timeCol}, ${k.cols.join(', ')} FROM ${k.table} WHERE ${where.join(' AND ')} ORDER BY ${k.timeCol} ${range.newest ? 'DESC' : 'ASC'} LIMIT ?`);
      this.readStmts.set(stmtKey, stmt);
    }
    const limit = range.limit !== undefined ? Math.max(0, Math.floor(range.limit)) : -1;
    const rows = stmt.all(key.venue, key.symbol, ...(k.hasInterval ? [key.interval] : []), range.fromMs ?? 0, range.toMs ?? Number.MAX_SAFE_INTEGER, ...valid.params, limit) as Record<string, number | null>[];
    if (range.newest) rows.reverse();
    return rows.map((r) => k.fromRow(r) as RowOf<K>);
  }

  /** Reads bars of a series in `[fromMs, toMs)` as Float64Array columns (missing optional fields are NaN); only plausible, on-grid bars. */
  readBarColumns(key: SeriesKey, range: { fromMs?: number; toMs?: number } = {}): BarColumns {
    const valid = this.validTime('bars', key.interval);
    const stmt = this.store.db.prepare(`SELECT open_time_ms, open, high, low, close, volume, quote_volume, trades, taker_buy_base_volume FROM bars
      WHERE venue = ? AND symbol = ? AND interval = ? AND open_time_ms >= ? AND open_time_ms < ? AND ${valid.sql} ORDER BY open_time_ms`).raw(true);
    const rows = stmt.all(key.venue, key.symbol, key.interval, range.fromMs ?? 0, range.toMs ?? Number.MAX_SAFE_INTEGER, ...valid.params) as (number | null)[][];
    const len = rows.length;
    const cols = Array.from({ length: 9 }, () => new Float64Array(len));
    for (let i = 0; i < len; i++) {
      const r = rows[i]!;
      for (let c = 0; c < 9; c++) cols[c]![i] = r[c] ?? Number.NaN;
    }
    const [openTimeMs, open, high, low, close, volume, quoteVolume, trades, takerBuyBaseVolume] = cols as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
    return { openTimeMs, open, high, low, close, volume, quoteVolume, trades, takerBuyBaseVolume };
  }

  /** Open times of a series' stored rows, ascending (for gap and staleness checks); only plausible, on-grid times. */
  readTimes(kind: DataKind, key: SeriesKey): Float64Array {
    const k = KINDS[kind];
    const valid = this.validTime(kind, key.interval);
    const where = ['venue = ?', 'symbol = ?', ...(k.hasInterval ? ['interval = ?'] : []), valid.sql];
    const params = [key.venue, key.symbol, ...(k.hasInterval ? [key.interval] : []), ...valid.params];
    const rows = this.store.db.prepare(`SELECT ${k.timeCol} FROM ${k.table} WHERE ${where.join(' AND ')} ORDER BY ${k.timeCol}`).raw(true).all(...params) as number[][];
    const out = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = rows[i]![0]!;
    return out;
  }

  /** First and last stored (plausible, on-grid) time of a series within `[fromMs, toMs)`. */
  readTimesInRange(kind: DataKind, key: SeriesKey, fromMs: number, toMs: number): { first: number | undefined; last: number | undefined } {
    const k = KINDS[kind];
    const valid = this.validTime(kind, key.interval);
    const where = ['venue = ?', 'symbol = ?', ...(k.hasInterval ? ['interval = ?'] : []), `${k.timeCol} >= ?`, `${k.timeCol} < ?`, valid.sql];
    const params = [key.venue, key.symbol, ...(k.hasInterval ? [key.interval] : []), fromMs, toMs, ...valid.params];
    const r = this.store.db.prepare(`SELECT MIN(${k.timeCol}) AS first, MAX(${k.timeCol}) AS last FROM ${k.table} WHERE ${where.join(' AND ')}`).get(...params) as { first: number | null; last: number | null };
    return { first: r.first ?? undefined, last: r.last ?? undefined };
  }

  /**
   * Per series, how many stored rows have a time that reads skip (implausible, off the grid, or an unknown interval),
   * counted in SQL (cheap enough for `data status`). Series with none are left out.
   */
  countInvalidTimes(): { kind: DataKind; venue: string; symbol: string; interval: string; rows: number }[] {
    const out: { kind: DataKind; venue: string; symbol: string; interval: string; rows: number }[] = [];
    for (const kind of Object.keys(KINDS) as DataKind[]) {
      const k = KINDS[kind];
      const groups = this.seriesOf(kind);
      for (const g of groups) {
        const valid = this.validTime(kind, g.interval);
        const r = this.store.db.prepare(`SELECT COUNT(*) AS n FROM ${k.table} WHERE venue = ? AND symbol = ?${k.hasInterval ? ' AND interval = ?' : ''} AND NOT (${valid.sql})`)
          .get(g.venue, g.symbol, ...(k.hasInterval ? [g.interval] : []), ...valid.params) as { n: number };
        if (r.n > 0) out.push({ kind, ...g, rows: r.n });
      }
    }
    return out;
  }

  /**
   * Stored rows that break the store's rules (an implausible or off-grid time, an unknown interval, non-finite or
   * non-positive prices, inconsistent OHLC…), per series, with up to `examples` of them each — what
   * `liqcal data check` reports. Scans every row; nothing is changed.
   */
  findInvalidRows(opts: { examples?: number } = {}): InvalidSeries[] {
    const max = opts.examples ?? 5;
    const out: InvalidSeries[] = [];
    const now = this.clock.now();
    for (const kind of Object.keys(KINDS) as DataKind[]) {
      const k = KINDS[kind];
      const groups = this.seriesOf(kind);
      for (const g of groups) {
        let rules: TimeRules | undefined;
        let intervalProblem: string | undefined;
        try {
          rules = timeRules(kind, g.interval, now);
        } catch (e) {
          intervalProblem = (e as Error).message;
        }
        const where = ['venue = ?', 'symbol = ?', ...(k.hasInterval ? ['interval = ?'] : [])];
        const stmt = this.store.db.prepare(`SELECT ${k.timeCol}, ${k.cols.join(', ')} FROM ${k.table} WHERE ${where.join(' AND ')} ORDER BY ${k.timeCol}`);
        let invalid = 0;
        const examples: InvalidRow[] = [];
        for (const r of stmt.iterate(g.venue, g.symbol, ...(k.hasInterval ? [g.interval] : [])) as IterableIterator<Record<string, number | null>>) {
          const row = k.fromRow(r) as RowOf<DataKind>;
          const t = r[k.timeCol] as number;
          const p = rules ? rowProblem(kind, row, rules) : { field: 'interval', message: intervalProblem! };
          if (!p) continue;
          invalid++;
          if (examples.length < max) examples.push({ timeMs: t, time: iso(t), field: p.field, problem: p.message });
        }
        if (invalid > 0) out.push({ kind, venue: g.venue, symbol: g.symbol, interval: g.interval, invalid, examples });
      }
    }
    return out;
  }

  /**
   * Deletes the rows {@link findInvalidRows} reports, and moves each touched series' watermark back to its last valid
   * row, in one transaction. Returns the rows deleted per series.
   */
  deleteInvalidRows(): InvalidSeries[] {
    return this.store.tx(() => {
      const found = this.findInvalidRows({ examples: Number.MAX_SAFE_INTEGER });
      for (const s of found) {
        const k = KINDS[s.kind];
        const series = `venue = ? AND symbol = ?${k.hasInterval ? ' AND interval = ?' : ''}`;
        const keyParams = [s.venue, s.symbol, ...(k.hasInterval ? [s.interval] : [])];
        // Times outside the window or off the grid by the same condition reads use (exact even for unsafe integers)…
        const valid = this.validTime(s.kind, s.interval);
        this.store.db.prepare(`DELETE FROM ${k.table} WHERE ${series} AND NOT (${valid.sql})`).run(...keyParams, ...valid.params);
        // …and rows whose values are bad, by their (then plausible, exact) time.
        const del = this.store.db.prepare(`DELETE FROM ${k.table} WHERE ${series} AND ${k.timeCol} = ?`);
        for (const ex of s.examples) if (Number.isSafeInteger(ex.timeMs)) del.run(...keyParams, ex.timeMs);
        const key: SeriesKey = { venue: s.venue, symbol: s.symbol, interval: s.interval };
        const last = this.readTimesInRange(s.kind, key, 0, Number.MAX_SAFE_INTEGER).last;
        const iv = storedInterval(s.kind, s.interval);
        if (last === undefined) this.store.db.prepare('DELETE FROM watermarks WHERE kind = ? AND venue = ? AND symbol = ? AND interval = ?').run(s.kind, s.venue, s.symbol, iv);
        else this.store.db.prepare('UPDATE watermarks SET last_time_ms = ? WHERE kind = ? AND venue = ? AND symbol = ? AND interval = ?').run(last, s.kind, s.venue, s.symbol, iv);
      }
      return found.map((s) => ({ ...s, examples: s.examples.slice(0, 5) }));
    });
  }

  /** Every stored series with its row count and time range (plausible, on-grid rows only), ordered by kind, venue, symbol, interval. */
  listSeries(): SeriesSummary[] {
    const out: SeriesSummary[] = [];
    for (const kind of Object.keys(KINDS) as DataKind[]) {
      const k = KINDS[kind];
      const groups = this.seriesOf(kind);
      for (const g of groups) {
        const valid = this.validTime(kind, g.interval);
        const r = this.store.db.prepare(`SELECT COUNT(*) AS n, MIN(${k.timeCol}) AS first, MAX(${k.timeCol}) AS last FROM ${k.table}
          WHERE venue = ? AND symbol = ?${k.hasInterval ? ' AND interval = ?' : ''} AND ${valid.sql}`).get(g.venue, g.symbol, ...(k.hasInterval ? [g.interval] : []), ...valid.params) as { n: number; first: number | null; last: number | null };
        if (r.n === 0 || r.first === null || r.last === null) continue;
        out.push({ kind, venue: g.venue, symbol: g.symbol, interval: g.interval, rows: r.n, firstMs: r.first, lastMs: r.last });
      }
    }
    return out;
  }
}

/** A stored row that breaks the store's rules: its time (epoch ms and ISO), the field at fault and why. */
export interface InvalidRow {
  readonly timeMs: number;
  readonly time: string;
  readonly field: string;
  readonly problem: string;
}

/** The invalid rows of one stored series: how many, and the first few. */
export interface InvalidSeries extends SeriesKey {
  readonly kind: DataKind;
  readonly invalid: number;
  readonly examples: InvalidRow[];
}
