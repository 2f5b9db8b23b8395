/**
 * The embedded parameter-store backend on better-sqlite3 (tables from migrations 2 and 5). better-sqlite3 is synchronous;
 * the async interface is kept cheap: every method runs its statement at once and returns a resolved promise, and
 * atomic sections are serialised by an in-process queue plus SQLite's own write lock (BEGIN IMMEDIATE) across
 * processes. Durability: `synchronous=FULL` by default, so a commit is fsynced to the WAL before `atomic` resolves
 * and an acknowledged publish survives power loss, not only a process crash (NORMAL survives crashes only).
 */
import type Database from 'better-sqlite3';
import { AppError } from '../core/errors.ts';
import { openStore, type Store } from '../store/db.ts';
import type { Head, HistoryQuery, NewRecord, ParamBackend, ParamEvent, ParamTx, RailsChange, SettingsChange, StoredRails, StoreSettings, Transition } from './backend.ts';
import { parseStoredRails } from './rails.ts';
import { parseUpdateRecord, type UpdateRecord, type UpdateState, type UpdateType } from './record.ts';

/** Options for {@link openSqliteBackend}. */
export interface SqliteBackendOptions {
  /** `FULL` (default): fsync on every commit; `NORMAL`: durable across process crashes, not power loss. */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** How long to wait for another process's write lock, in ms (default 10 s). */
  readonly busyTimeoutMs?: number;
  /** Open an existing store without writing (readers: latest, history, watch, serve). */
  readonly readonly?: boolean;
}

interface RecordRow {
  update_id: number; market: string; update_type: string; new_value: string; previous_value: string | null; reference_id: string | null;
  timestamp_ms: number; expires_at_ms: number; additional_data: string; idempotency_key: string; base_version: number; state: string;
  version: number | null; publish_seq: number | null; approved_by: string | null; approved_at_ms: number | null; published_at_ms: number | null;
  rejection: string | null; state_changed_at_ms: number;
}

interface EventRow { event_id: number; update_id: number; from_state: string | null; to_state: string; at_ms: number; actor: string; detail: string | null }
interface SettingsRow { paused: number; allowed_markets: string | null; at_ms: number; actor: string }
interface RailsRow { version: number; rails: string; at_ms: number; actor: string; reason: string }

const DEFAULT_SETTINGS: StoreSettings = { paused: false, allowedMarkets: null, changedAtMs: null, changedBy: null };

function toRecord(r: RecordRow): UpdateRecord {
  return parseUpdateRecord({
    updateId: r.update_id, market: r.market, updateType: r.update_type, newValue: JSON.parse(r.new_value) as unknown,
    previousValue: r.previous_value === null ? null : (JSON.parse(r.previous_value) as unknown), referenceId: r.reference_id,
    timestamp: r.timestamp_ms, expiresAt: r.expires_at_ms, additionalData: JSON.parse(r.additional_data) as unknown, state: r.state,
    idempotencyKey: r.idempotency_key, baseVersion: r.base_version, version: r.version, publishSeq: r.publish_seq, approvedBy: r.approved_by,
    approvedAt: r.approved_at_ms, publishedAt: r.published_at_ms, rejection: r.rejection === null ? null : (JSON.parse(r.rejection) as unknown),
    stateChangedAt: r.state_changed_at_ms,
  }, `stored update record ${r.update_id}`);
}

function toEvent(r: EventRow): ParamEvent {
  return {
    eventId: r.event_id, updateId: r.update_id, fromState: r.from_state as UpdateState | null, toState: r.to_state as UpdateState, atMs: r.at_ms,
    actor: r.actor, detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
  };
}

function toRails(r: RailsRow): StoredRails {
  const where = `stored rails version ${r.version}`;
  let json: unknown;
  try { json = JSON.parse(r.rails) as unknown; } catch (e) {
    throw new AppError('schema', `The ${where} is not valid JSON (${(e as Error).message}). The store may be damaged.`, { context: { version: r.version }, cause: e });
  }
  return { version: r.version, rails: parseStoredRails(json, where), atMs: r.at_ms, actor: r.actor, reason: r.reason };
}

function toSettings(r: SettingsRow | undefined): StoreSettings {
  if (!r) return DEFAULT_SETTINGS;
  return { paused: r.paused === 1, allowedMarkets: r.allowed_markets === null ? null : (JSON.parse(r.allowed_markets) as string[]), changedAtMs: r.at_ms, changedBy: r.actor };
}

/** Opens (creating and migrating if needed) a SQLite parameter store at `path`. */
export function openSqliteBackend(path: string, opts: SqliteBackendOptions = {}): SqliteParamBackend {
  const store = openStore(path, { ...(opts.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: opts.busyTimeoutMs }), readonly: opts.readonly ?? false });
  try {
    return new SqliteParamBackend(store, { ...opts, ownsStore: true });
  } catch (e) {
    store.close();
    if (opts.readonly && /no such table/.test((e as Error).message)) {
      throw new AppError('io', `${path} has no parameter tables yet (an older liqcal store). Open it once for writing, e.g. with \`liqcal params propose\`.`, { context: { path }, cause: e });
    }
    throw e;
  }
}

/** The SQLite backend over an open {@link Store} (migrated to version ≥ 2). */
export class SqliteParamBackend implements ParamBackend {
  readonly name: string;
  private readonly db: Database.Database;
  private readonly ownsStore: boolean;
  private readonly stmts;
  private readonly dynamic = new Map<string, Database.Statement>();
  /** Statements on param_rails_log, prepared on first use; null when a read-only store predates that table (defaults apply). */
  private railsStmts: { latest: Database.Statement; all: Database.Statement; insert: Database.Statement } | null | undefined;
  private queue: Promise<void> = Promise.resolve();
  private inTx = false;
  private readonly txApi: ParamTx;

  constructor(private readonly store: Store, opts: SqliteBackendOptions & { ownsStore?: boolean } = {}) {
    this.name = `sqlite:${store.path}`;
    this.db = store.db;
    this.ownsStore = opts.ownsStore ?? false;
    if (!this.db.readonly) this.db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    const db = this.db;
    this.stmts = {
      get: db.prepare('SELECT * FROM param_records WHERE update_id = ?'),
      byKey: db.prepare('SELECT * FROM param_records WHERE idempotency_key = ?'),
      head: db.prepare('SELECT market, update_type, update_id, version FROM param_heads WHERE market = ? AND update_type = ?'),
      headRecords: db.prepare('SELECT r.* FROM param_heads h JOIN param_records r ON r.update_id = h.update_id WHERE h.market = ? ORDER BY h.update_type'),
      publishedAfter: db.prepare('SELECT * FROM param_records WHERE publish_seq > ? ORDER BY publish_seq LIMIT ?'),
      maxSeq: db.prepare('SELECT COALESCE(MAX(publish_seq), 0) AS s FROM param_records'),
      eventsOf: db.prepare('SELECT * FROM param_events WHERE update_id = ? ORDER BY event_id'),
      eventsAll: db.prepare('SELECT * FROM param_events ORDER BY event_id'),
      settings: db.prepare('SELECT paused, allowed_markets, at_ms, actor FROM param_settings_log ORDER BY seq DESC LIMIT 1'),
      insert: db.prepare(`INSERT INTO param_records (market, update_type, new_value, previous_value, reference_id, timestamp_ms, expires_at_ms, additional_data,
        idempotency_key, base_version, state, rejection, state_changed_at_ms) VALUES (@market, @updateType, @newValue, @previousValue, @referenceId, @timestamp,
        @expiresAt, @additionalData, @idempotencyKey, @baseVersion, @state, @rejection, @timestamp)`),
      event: db.prepare('INSERT INTO param_events (update_id, from_state, to_state, at_ms, actor, detail) VALUES (?, ?, ?, ?, ?, ?)'),
      transition: db.prepare(`UPDATE param_records SET state = @to, state_changed_at_ms = @atMs, approved_by = COALESCE(@approvedBy, approved_by),
        approved_at_ms = COALESCE(@approvedAt, approved_at_ms), published_at_ms = COALESCE(@publishedAt, published_at_ms), version = COALESCE(@version, version),
        publish_seq = COALESCE(@publishSeq, publish_seq), rejection = COALESCE(@rejection, rejection) WHERE update_id = @updateId AND state = @from`),
      headInsert: db.prepare('INSERT OR IGNORE INTO param_heads (market, update_type, update_id, version) VALUES (?, ?, ?, 1)'),
      headUpdate: db.prepare('UPDATE param_heads SET update_id = ?, version = version + 1 WHERE market = ? AND update_type = ? AND version = ?'),
      settingsInsert: db.prepare('INSERT INTO param_settings_log (paused, allowed_markets, at_ms, actor, note) VALUES (?, ?, ?, ?, ?)'),
    };
    this.txApi = this.makeTxApi();
  }

  /** The underlying store (for callers that share the file with other modules). */
  get sqliteStore(): Store {
    return this.store;
  }

  async atomic<T>(fn: (tx: ParamTx) => Promise<T>): Promise<T> {
    const prev = this.queue;
    let release!: () => void;
    this.queue = new Promise<void>((r) => { release = r; });
    await prev;
    this.inTx = true;
    try {
      this.begin();
      try {
        const out = await fn(this.txApi);
        this.db.exec('COMMIT');
        return out;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    } finally {
      this.inTx = false;
      release();
    }
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.ownsStore) this.store.close();
  }

  async get(updateId: number): Promise<UpdateRecord | null> { await this.idle(); return this.getSync(updateId); }
  async getByIdempotencyKey(key: string): Promise<UpdateRecord | null> { await this.idle(); return this.byKeySync(key); }
  async head(market: string, updateType: UpdateType): Promise<Head | null> { await this.idle(); return this.headSync(market, updateType); }
  async headRecords(market: string): Promise<UpdateRecord[]> { await this.idle(); return this.headRecordsSync(market); }
  async history(q: HistoryQuery): Promise<UpdateRecord[]> { await this.idle(); return this.historySync(q); }
  async publishedAfter(afterSeq: number, limit: number): Promise<UpdateRecord[]> { await this.idle(); return this.publishedAfterSync(afterSeq, limit); }
  async maxPublishSeq(): Promise<number> { await this.idle(); return this.maxSeqSync(); }
  async events(updateId?: number): Promise<ParamEvent[]> { await this.idle(); return this.eventsSync(updateId); }
  async settings(): Promise<StoreSettings> { await this.idle(); return toSettings(this.stmts.settings.get() as SettingsRow | undefined); }
  async rails(): Promise<StoredRails | null> { await this.idle(); return this.railsSync(); }
  async railsHistory(): Promise<StoredRails[]> { await this.idle(); return this.railsHistorySync(); }

  /** Outside reads wait while this process has a transaction open on the shared connection (they must not see its uncommitted writes). */
  private async idle(): Promise<void> {
    while (this.inTx) await this.queue;
  }

  private begin(): void {
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_BUSY')) throw new AppError('unavailable', `The parameter store ${this.store.path} is locked by another writer and stayed locked past the busy timeout. Retry, or find the process holding it.`, { context: { path: this.store.path }, cause: e });
      throw e;
    }
  }

  private railsStatements(): { latest: Database.Statement; all: Database.Statement; insert: Database.Statement } | null {
    if (this.railsStmts !== undefined) return this.railsStmts;
    const has = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'param_rails_log'").get() !== undefined;
    this.railsStmts = has ? {
      latest: this.db.prepare('SELECT * FROM param_rails_log ORDER BY version DESC LIMIT 1'),
      all: this.db.prepare('SELECT * FROM param_rails_log ORDER BY version'),
      insert: this.db.prepare('INSERT INTO param_rails_log (version, rails, at_ms, actor, reason) SELECT COALESCE(MAX(version), 0) + 1, ?, ?, ?, ? FROM param_rails_log'),
    } : null;
    return this.railsStmts;
  }
  private railsSync(): StoredRails | null {
    const r = this.railsStatements()?.latest.get() as RailsRow | undefined;
    return r ? toRails(r) : null;
  }
  private railsHistorySync(): StoredRails[] {
    return ((this.railsStatements()?.all.all() ?? []) as RailsRow[]).map(toRails);
  }

  private getSync(id: number): UpdateRecord | null {
    const r = this.stmts.get.get(id) as RecordRow | undefined;
    return r ? toRecord(r) : null;
  }
  private byKeySync(key: string): UpdateRecord | null {
    const r = this.stmts.byKey.get(key) as RecordRow | undefined;
    return r ? toRecord(r) : null;
  }
  private headSync(market: string, updateType: UpdateType): Head | null {
    const r = this.stmts.head.get(market, updateType) as { market: string; update_type: UpdateType; update_id: number; version: number } | undefined;
    return r ? { market: r.market, updateType: r.update_type, updateId: r.update_id, version: r.version } : null;
  }
  private headRecordsSync(market: string): UpdateRecord[] {
    return (this.stmts.headRecords.all(market) as RecordRow[]).map(toRecord);
  }
  private publishedAfterSync(afterSeq: number, limit: number): UpdateRecord[] {
    return (this.stmts.publishedAfter.all(afterSeq, limit) as RecordRow[]).map(toRecord);
  }
  private maxSeqSync(): number {
    return (this.stmts.maxSeq.get() as { s: number }).s;
  }
  private eventsSync(updateId?: number): ParamEvent[] {
    const rows = (updateId === undefined ? this.stmts.eventsAll.all() : this.stmts.eventsOf.all(updateId)) as EventRow[];
    return rows.map(toEvent);
  }
  private historySync(q: HistoryQuery): UpdateRecord[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.market !== undefined) { where.push('market = ?'); args.push(q.market); }
    if (q.updateType !== undefined) { where.push('update_type = ?'); args.push(q.updateType); }
    if (q.fromId !== undefined) { where.push('update_id >= ?'); args.push(q.fromId); }
    if (q.states !== undefined) {
      if (q.states.length === 0) return [];
      where.push(`state IN (${q.states.map(() => '?').join(', ')})`);
      args.push(...q.states);
    }
    const sql = `SELECT * FROM param_records${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY update_id LIMIT ?`;
    let st = this.dynamic.get(sql);
    if (!st) { st = this.db.prepare(sql); this.dynamic.set(sql, st); }
    return (st.all(...args, q.limit ?? 1000) as RecordRow[]).map(toRecord);
  }

  private makeTxApi(): ParamTx {
    const s = this.stmts;
    const self = this;
    return {
      get: async (id) => self.getSync(id),
      getByIdempotencyKey: async (key) => self.byKeySync(key),
      head: async (m, t) => self.headSync(m, t),
      headRecords: async (m) => self.headRecordsSync(m),
      history: async (q) => self.historySync(q),
      publishedAfter: async (a, l) => self.publishedAfterSync(a, l),
      maxPublishSeq: async () => self.maxSeqSync(),
      events: async (id) => self.eventsSync(id),
      settings: async () => toSettings(s.settings.get() as SettingsRow | undefined),
      rails: async () => self.railsSync(),
      railsHistory: async () => self.railsHistorySync(),
      async setRails(c: RailsChange): Promise<StoredRails> {
        const st = self.railsStatements();
        if (!st) throw new AppError('io', `The store ${self.store.path} has no rails table (param_rails_log); open it for writing once so that its migrations run.`, { context: { path: self.store.path } });
        st.insert.run(JSON.stringify(c.rails), c.atMs, c.actor, c.reason);
        return self.railsSync()!;
      },
      async insert(rec: NewRecord, actor: string): Promise<UpdateRecord> {
        if (rec.state !== 'proposed' && rec.state !== 'rejected') throw new AppError('internal', `A new update record must start as proposed or rejected, not ${rec.state}.`);
        let id: number;
        try {
          id = Number(s.insert.run({
            market: rec.market, updateType: rec.updateType, newValue: JSON.stringify(rec.newValue),
            previousValue: rec.previousValue === null ? null : JSON.stringify(rec.previousValue), referenceId: rec.referenceId, timestamp: rec.timestamp,
            expiresAt: rec.expiresAt, additionalData: JSON.stringify(rec.additionalData), idempotencyKey: rec.idempotencyKey, baseVersion: rec.baseVersion,
            state: rec.state, rejection: rec.rejection === null ? null : JSON.stringify(rec.rejection),
          }).lastInsertRowid);
        } catch (e) {
          if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
            throw new AppError('badRequest', `The idempotency key "${rec.idempotencyKey}" is already used by another update. Use a new key or fetch the existing record.`, { context: { idempotencyKey: rec.idempotencyKey }, cause: e });
          }
          throw e;
        }
        s.event.run(id, null, rec.state, rec.timestamp, actor, rec.rejection === null ? null : JSON.stringify({ rejection: rec.rejection }));
        return self.getSync(id)!;
      },
      async transition(updateId: number, t: Transition): Promise<UpdateRecord | null> {
        const p = t.patch ?? {};
        const changed = s.transition.run({
          updateId, from: t.from, to: t.to, atMs: t.atMs, approvedBy: p.approvedBy ?? null, approvedAt: p.approvedAt ?? null, publishedAt: p.publishedAt ?? null,
          version: p.version ?? null, publishSeq: p.publishSeq ?? null, rejection: p.rejection === undefined ? null : JSON.stringify(p.rejection),
        }).changes;
        if (changed === 0) return null;
        s.event.run(updateId, t.from, t.to, t.atMs, t.actor, t.detail === undefined && p.rejection === undefined ? null : JSON.stringify({ ...t.detail, ...(p.rejection ? { rejection: p.rejection } : {}) }));
        return self.getSync(updateId);
      },
      async casHead(market: string, updateType: UpdateType, expectedVersion: number, updateId: number): Promise<number | null> {
        if (expectedVersion === 0) return s.headInsert.run(market, updateType, updateId).changes === 1 ? 1 : null;
        return s.headUpdate.run(updateId, market, updateType, expectedVersion).changes === 1 ? expectedVersion + 1 : null;
      },
      nextPublishSeq: async () => self.maxSeqSync() + 1,
      async changeSettings(c: SettingsChange): Promise<StoreSettings> {
        const cur = toSettings(s.settings.get() as SettingsRow | undefined);
        const paused = c.paused ?? cur.paused;
        const allowed = c.allowedMarkets === undefined ? cur.allowedMarkets : c.allowedMarkets;
        s.settingsInsert.run(paused ? 1 : 0, allowed === null ? null : JSON.stringify(allowed), c.atMs, c.actor, c.note ?? null);
        return toSettings(s.settings.get() as SettingsRow | undefined);
      },
    };
  }
}
