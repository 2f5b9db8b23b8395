/**
 * The parameter-store backend on PostgreSQL (production), behind the same {@link ParamBackend} interface as SQLite.
 *
 * Every atomic section is one READ COMMITTED transaction that first takes a transaction-scoped advisory lock keyed by
 * the schema, so writers are serialised across processes and hosts exactly as SQLite's BEGIN IMMEDIATE does; each
 * statement after the lock sees everything committed before it. Ids and publish sequences come from a counter row
 * bumped inside that section, so they are gapless and increase in commit order. The head compare-and-set is an
 * `UPDATE … WHERE version = $expected` (or an insert that must not conflict), correct even without the lock. Commits
 * use `synchronous_commit = on`, so an acknowledged publish is on disk. The schema lives in its own PostgreSQL schema
 * (default `liqcal`), created by idempotent, versioned migrations (the guard rails' log is migration 2); a trigger forbids deletes and any change other
 * than an allowed state transition with its lifecycle fields, so the history is append-only at the database too.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { AppError } from '../core/errors.ts';
import { childLog } from '../core/log.ts';
import type { Head, HistoryQuery, NewRecord, ParamBackend, ParamEvent, ParamReader, ParamTx, RailsChange, SettingsChange, StoredRails, StoreSettings, Transition } from './backend.ts';
import { parseStoredRails } from './rails.ts';
import { parseUpdateRecord, TRANSITIONS, UPDATE_STATES, type UpdateRecord, type UpdateState, type UpdateType } from './record.ts';

/** Options for {@link openPostgresBackend}. */
export interface PostgresBackendOptions {
  /** Connection URL, e.g. `postgres://user@host:5432/db` (ignored when `pool` is given). */
  readonly url?: string;
  /** An existing pool to use (the backend then does not end it on close). */
  readonly pool?: pg.Pool;
  /** PostgreSQL schema holding the tables (`[a-z_][a-z0-9_]*`, default `liqcal`); one store per schema. */
  readonly schema?: string;
  /** Maximum connections of the pool the backend creates (default 10). */
  readonly maxConnections?: number;
}

/** Versioned DDL; `{s}` is the quoted schema. Append only: never edit a shipped entry. */
const MIGRATIONS: readonly { version: number; sql: string }[] = [{
  version: 1,
  sql: `
    CREATE TABLE {s}.param_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
    INSERT INTO {s}.param_counters (name, value) VALUES ('update_id', 0), ('publish_seq', 0);
    CREATE TABLE {s}.param_records (
      update_id BIGINT PRIMARY KEY,
      market TEXT NOT NULL,
      update_type TEXT NOT NULL,
      new_value TEXT NOT NULL,
      previous_value TEXT,
      reference_id TEXT,
      timestamp_ms BIGINT NOT NULL,
      expires_at_ms BIGINT NOT NULL,
      additional_data TEXT NOT NULL,
      idempotency_key TEXT NOT NULL UNIQUE,
      base_version INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN (${UPDATE_STATES.map((x) => `'${x}'`).join(', ')})),
      version INTEGER,
      publish_seq BIGINT UNIQUE,
      approved_by TEXT,
      approved_at_ms BIGINT,
      published_at_ms BIGINT,
      rejection TEXT,
      state_changed_at_ms BIGINT NOT NULL,
      CHECK (state NOT IN ('published', 'superseded') OR (version IS NOT NULL AND publish_seq IS NOT NULL AND published_at_ms IS NOT NULL))
    );
    CREATE INDEX param_records_market_type ON {s}.param_records (market, update_type, update_id);
    CREATE INDEX param_records_state ON {s}.param_records (state, expires_at_ms);
    CREATE TABLE {s}.param_heads (
      market TEXT NOT NULL,
      update_type TEXT NOT NULL,
      update_id BIGINT NOT NULL REFERENCES {s}.param_records (update_id),
      version INTEGER NOT NULL CHECK (version >= 1),
      PRIMARY KEY (market, update_type)
    );
    CREATE TABLE {s}.param_events (
      event_id BIGSERIAL PRIMARY KEY,
      update_id BIGINT NOT NULL REFERENCES {s}.param_records (update_id),
      from_state TEXT,
      to_state TEXT NOT NULL,
      at_ms BIGINT NOT NULL,
      actor TEXT NOT NULL,
      detail TEXT
    );
    CREATE INDEX param_events_update ON {s}.param_events (update_id, event_id);
    CREATE TABLE {s}.param_settings_log (
      id BIGSERIAL PRIMARY KEY,
      paused BOOLEAN NOT NULL,
      allowed_markets TEXT,
      at_ms BIGINT NOT NULL,
      actor TEXT NOT NULL,
      note TEXT
    );
    CREATE FUNCTION {s}.param_records_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'parameter records are append-only'; END IF;
      IF (NEW.update_id, NEW.market, NEW.update_type, NEW.new_value, NEW.timestamp_ms, NEW.expires_at_ms, NEW.idempotency_key, NEW.base_version)
         IS DISTINCT FROM (OLD.update_id, OLD.market, OLD.update_type, OLD.new_value, OLD.timestamp_ms, OLD.expires_at_ms, OLD.idempotency_key, OLD.base_version)
         OR NEW.previous_value IS DISTINCT FROM OLD.previous_value OR NEW.reference_id IS DISTINCT FROM OLD.reference_id
         OR NEW.additional_data IS DISTINCT FROM OLD.additional_data THEN
        RAISE EXCEPTION 'record % : its content is immutable', OLD.update_id;
      END IF;
      IF NEW.state = OLD.state
         OR (OLD.approved_by IS NOT NULL AND NEW.approved_by IS DISTINCT FROM OLD.approved_by)
         OR (OLD.approved_at_ms IS NOT NULL AND NEW.approved_at_ms IS DISTINCT FROM OLD.approved_at_ms)
         OR (OLD.published_at_ms IS NOT NULL AND NEW.published_at_ms IS DISTINCT FROM OLD.published_at_ms)
         OR (OLD.version IS NOT NULL AND NEW.version IS DISTINCT FROM OLD.version)
         OR (OLD.publish_seq IS NOT NULL AND NEW.publish_seq IS DISTINCT FROM OLD.publish_seq)
         OR (OLD.rejection IS NOT NULL AND NEW.rejection IS DISTINCT FROM OLD.rejection) THEN
        RAISE EXCEPTION 'record % : lifecycle fields change only with the state and are set once', OLD.update_id;
      END IF;
      IF (OLD.state || '>' || NEW.state) <> ALL (ARRAY[${Object.entries(TRANSITIONS).flatMap(([f, tos]) => tos.map((t) => `'${f}>${t}'`)).join(', ')}]) THEN
        RAISE EXCEPTION 'record % : transition % -> % is not allowed', OLD.update_id, OLD.state, NEW.state;
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER param_records_guard BEFORE UPDATE OR DELETE ON {s}.param_records FOR EACH ROW EXECUTE FUNCTION {s}.param_records_guard();
    CREATE FUNCTION {s}.param_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;
    CREATE FUNCTION {s}.param_heads_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'param_heads rows are never deleted'; END IF;
      IF NEW.version <> OLD.version + 1 OR NEW.market <> OLD.market OR NEW.update_type <> OLD.update_type THEN
        RAISE EXCEPTION 'param_heads versions advance by one';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER param_heads_guard BEFORE UPDATE OR DELETE ON {s}.param_heads FOR EACH ROW EXECUTE FUNCTION {s}.param_heads_guard();
    CREATE TRIGGER param_events_append_only BEFORE UPDATE OR DELETE ON {s}.param_events FOR EACH ROW EXECUTE FUNCTION {s}.param_append_only();
    CREATE TRIGGER param_settings_append_only BEFORE UPDATE OR DELETE ON {s}.param_settings_log FOR EACH ROW EXECUTE FUNCTION {s}.param_append_only();
  `,
}, {
  version: 2,
  // The store's guard rails, versioned and append-only (the SQLite store's migration 5): one row per version, the
  // complete rails as JSON with who set them and why; versions advance by one; no update, delete or truncate.
  sql: `
    CREATE TABLE {s}.param_rails_log (
      version INTEGER PRIMARY KEY CHECK (version >= 1),
      rails TEXT NOT NULL,
      at_ms BIGINT NOT NULL,
      actor TEXT NOT NULL CHECK (length(btrim(actor)) > 0),
      reason TEXT NOT NULL CHECK (length(btrim(reason)) > 0)
    );
    CREATE FUNCTION {s}.param_rails_version_step() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.version <> COALESCE((SELECT MAX(version) FROM {s}.param_rails_log), 0) + 1 THEN
        RAISE EXCEPTION 'param_rails_log versions advance by one';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER param_rails_version_step BEFORE INSERT ON {s}.param_rails_log FOR EACH ROW EXECUTE FUNCTION {s}.param_rails_version_step();
    CREATE TRIGGER param_rails_append_only BEFORE UPDATE OR DELETE ON {s}.param_rails_log FOR EACH ROW EXECUTE FUNCTION {s}.param_append_only();
    CREATE TRIGGER param_rails_no_truncate BEFORE TRUNCATE ON {s}.param_rails_log FOR EACH STATEMENT EXECUTE FUNCTION {s}.param_append_only();
  `,
}];

interface RecordRow {
  update_id: string; market: string; update_type: string; new_value: string; previous_value: string | null; reference_id: string | null;
  timestamp_ms: string; expires_at_ms: string; additional_data: string; idempotency_key: string; base_version: number; state: string;
  version: number | null; publish_seq: string | null; approved_by: string | null; approved_at_ms: string | null; published_at_ms: string | null;
  rejection: string | null; state_changed_at_ms: string;
}
interface EventRow { event_id: string; update_id: string; from_state: string | null; to_state: string; at_ms: string; actor: string; detail: string | null }
interface RailsRow { version: number; rails: string; at_ms: string; actor: string; reason: string }

const num = (x: string | number): number => Number(x);
const numOrNull = (x: string | number | null): number | null => (x === null ? null : Number(x));

function toRecord(r: RecordRow): UpdateRecord {
  return parseUpdateRecord({
    updateId: num(r.update_id), market: r.market, updateType: r.update_type, newValue: JSON.parse(r.new_value) as unknown,
    previousValue: r.previous_value === null ? null : (JSON.parse(r.previous_value) as unknown), referenceId: r.reference_id,
    timestamp: num(r.timestamp_ms), expiresAt: num(r.expires_at_ms), additionalData: JSON.parse(r.additional_data) as unknown,
    state: r.state, idempotencyKey: r.idempotency_key, baseVersion: r.base_version, version: r.version, publishSeq: numOrNull(r.publish_seq),
    approvedBy: r.approved_by, approvedAt: numOrNull(r.approved_at_ms), publishedAt: numOrNull(r.published_at_ms),
    rejection: r.rejection === null ? null : (JSON.parse(r.rejection) as unknown), stateChangedAt: num(r.state_changed_at_ms),
  }, `PostgreSQL record ${r.update_id}`);
}

function toEvent(r: EventRow): ParamEvent {
  return {
    eventId: num(r.event_id), updateId: num(r.update_id), fromState: r.from_state as UpdateState | null, toState: r.to_state as UpdateState,
    atMs: num(r.at_ms), actor: r.actor, detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
  };
}

function toRails(r: RailsRow): StoredRails {
  const where = `PostgreSQL rails version ${r.version}`;
  let json: unknown;
  try { json = JSON.parse(r.rails) as unknown; } catch (e) {
    throw new AppError('schema', `The ${where} is not valid JSON (${(e as Error).message}). The store may be damaged.`, { context: { version: r.version }, cause: e });
  }
  return { version: r.version, rails: parseStoredRails(json, where), atMs: num(r.at_ms), actor: r.actor, reason: r.reason };
}

/** Anything that runs a parameterised query: the pool (outside atomic) or the transaction's client. */
type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** Reads shared by the backend (pool) and transactions (client). */
class PgReader implements ParamReader {
  constructor(protected readonly q: Queryable, protected readonly s: string) {}

  protected async rows<R extends pg.QueryResultRow>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    try {
      return (await this.q.query<R>(sql.replaceAll('{s}', this.s), [...params])).rows;
    } catch (e) {
      throw wrapPgError(e);
    }
  }

  async get(updateId: number): Promise<UpdateRecord | null> {
    const [r] = await this.rows<RecordRow>('SELECT * FROM {s}.param_records WHERE update_id = $1', [updateId]);
    return r ? toRecord(r) : null;
  }

  async getByIdempotencyKey(key: string): Promise<UpdateRecord | null> {
    const [r] = await this.rows<RecordRow>('SELECT * FROM {s}.param_records WHERE idempotency_key = $1', [key]);
    return r ? toRecord(r) : null;
  }

  async head(market: string, updateType: UpdateType): Promise<Head | null> {
    const [r] = await this.rows<{ update_id: string; version: number }>('SELECT update_id, version FROM {s}.param_heads WHERE market = $1 AND update_type = $2', [market, updateType]);
    return r ? { market, updateType, updateId: num(r.update_id), version: r.version } : null;
  }

  async headRecords(market: string): Promise<UpdateRecord[]> {
    const rows = await this.rows<RecordRow>('SELECT r.* FROM {s}.param_heads h JOIN {s}.param_records r ON r.update_id = h.update_id WHERE h.market = $1 ORDER BY h.update_type COLLATE "C"', [market]);
    return rows.map(toRecord);
  }

  async history(q: HistoryQuery): Promise<UpdateRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown): void => { params.push(value); where.push(clause.replace('?', `$${params.length}`)); };
    if (q.market !== undefined) add('market = ?', q.market);
    if (q.updateType !== undefined) add('update_type = ?', q.updateType);
    if (q.states !== undefined) add('state = ANY(?)', [...q.states]);
    if (q.fromId !== undefined) add('update_id >= ?', q.fromId);
    params.push(q.limit ?? 1000);
    const rows = await this.rows<RecordRow>(`SELECT * FROM {s}.param_records ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY update_id LIMIT $${params.length}`, params);
    return rows.map(toRecord);
  }

  async publishedAfter(afterSeq: number, limit: number): Promise<UpdateRecord[]> {
    const rows = await this.rows<RecordRow>('SELECT * FROM {s}.param_records WHERE publish_seq > $1 ORDER BY publish_seq LIMIT $2', [afterSeq, limit]);
    return rows.map(toRecord);
  }

  async maxPublishSeq(): Promise<number> {
    const [r] = await this.rows<{ m: string | null }>('SELECT MAX(publish_seq) AS m FROM {s}.param_records');
    return r?.m == null ? 0 : num(r.m);
  }

  async events(updateId?: number): Promise<ParamEvent[]> {
    const rows = updateId === undefined
      ? await this.rows<EventRow>('SELECT * FROM {s}.param_events ORDER BY event_id')
      : await this.rows<EventRow>('SELECT * FROM {s}.param_events WHERE update_id = $1 ORDER BY event_id', [updateId]);
    return rows.map(toEvent);
  }

  async settings(): Promise<StoreSettings> {
    const [r] = await this.rows<{ paused: boolean; allowed_markets: string | null; at_ms: string; actor: string }>('SELECT paused, allowed_markets, at_ms, actor FROM {s}.param_settings_log ORDER BY id DESC LIMIT 1');
    if (!r) return { paused: false, allowedMarkets: null, changedAtMs: null, changedBy: null };
    return { paused: r.paused, allowedMarkets: r.allowed_markets === null ? null : (JSON.parse(r.allowed_markets) as string[]), changedAtMs: num(r.at_ms), changedBy: r.actor };
  }

  async rails(): Promise<StoredRails | null> {
    const [r] = await this.rows<RailsRow>('SELECT * FROM {s}.param_rails_log ORDER BY version DESC LIMIT 1');
    return r ? toRails(r) : null;
  }

  async railsHistory(): Promise<StoredRails[]> {
    return (await this.rows<RailsRow>('SELECT * FROM {s}.param_rails_log ORDER BY version')).map(toRails);
  }
}

/** Writes, available only inside {@link PostgresBackend.atomic} (the client holds the store's advisory lock). */
class PgTx extends PgReader implements ParamTx {
  private async bump(counter: 'update_id' | 'publish_seq'): Promise<number> {
    const [r] = await this.rows<{ value: string }>('UPDATE {s}.param_counters SET value = value + 1 WHERE name = $1 RETURNING value', [counter]);
    return num(r!.value);
  }

  async insert(record: NewRecord, actor: string): Promise<UpdateRecord> {
    if (record.state !== 'proposed' && record.state !== 'rejected') throw new AppError('internal', `A new update record must start as proposed or rejected, not ${record.state}.`);
    // One round trip: bump the id counter only if the key is new, insert the row and its insert event. A duplicate
    // key inserts nothing (no unique violation, which would abort the whole PostgreSQL transaction: callers may catch
    // this error and go on, as they can on SQLite) and consumes no id. The lock makes the check race-free.
    const [row] = await this.rows<RecordRow>(`WITH c AS (
        UPDATE {s}.param_counters SET value = value + 1
        WHERE name = 'update_id' AND NOT EXISTS (SELECT 1 FROM {s}.param_records WHERE idempotency_key = $9) RETURNING value
      ), r AS (
        INSERT INTO {s}.param_records (update_id, market, update_type, new_value, previous_value, reference_id, timestamp_ms, expires_at_ms,
          additional_data, idempotency_key, base_version, state, rejection, state_changed_at_ms)
        SELECT c.value, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $6 FROM c RETURNING *
      ), e AS (
        INSERT INTO {s}.param_events (update_id, from_state, to_state, at_ms, actor, detail) SELECT r.update_id, NULL, r.state, $6, $13, $14 FROM r
      ) SELECT * FROM r`, [
      record.market, record.updateType, JSON.stringify(record.newValue), record.previousValue === null ? null : JSON.stringify(record.previousValue), record.referenceId,
      record.timestamp, record.expiresAt, JSON.stringify(record.additionalData), record.idempotencyKey, record.baseVersion, record.state,
      record.rejection === null ? null : JSON.stringify(record.rejection), actor, record.rejection === null ? null : JSON.stringify({ rejection: record.rejection }),
    ]);
    if (!row) throw new AppError('badRequest', `The idempotency key "${record.idempotencyKey}" is already used by another update. Use a new key or fetch the existing record.`, { context: { idempotencyKey: record.idempotencyKey } });
    return toRecord(row);
  }

  async transition(updateId: number, t: Transition): Promise<UpdateRecord | null> {
    if (!TRANSITIONS[t.from].includes(t.to)) {
      throw new AppError('internal', `The transition ${t.from} → ${t.to} of record ${updateId} is not in the lifecycle; allowed from ${t.from}: ${TRANSITIONS[t.from].join(', ') || 'none'}.`, { context: { updateId, from: t.from, to: t.to } });
    }
    const p = t.patch ?? {};
    // The guarded update and its audit event in one statement (one round trip, and never one without the other).
    const [row] = await this.rows<RecordRow>(`WITH u AS (
        UPDATE {s}.param_records SET state = $3, state_changed_at_ms = $4,
          approved_by = COALESCE($5, approved_by), approved_at_ms = COALESCE($6, approved_at_ms), published_at_ms = COALESCE($7, published_at_ms),
          version = COALESCE($8, version), publish_seq = COALESCE($9, publish_seq), rejection = COALESCE($10, rejection)
        WHERE update_id = $1 AND state = $2 RETURNING *
      ), e AS (
        INSERT INTO {s}.param_events (update_id, from_state, to_state, at_ms, actor, detail) SELECT u.update_id, $2, $3, $4, $11, $12 FROM u
      ) SELECT * FROM u`, [
      updateId, t.from, t.to, t.atMs, p.approvedBy ?? null, p.approvedAt ?? null, p.publishedAt ?? null, p.version ?? null, p.publishSeq ?? null,
      p.rejection === undefined ? null : JSON.stringify(p.rejection), t.actor,
      t.detail === undefined && p.rejection === undefined ? null : JSON.stringify({ ...t.detail, ...(p.rejection ? { rejection: p.rejection } : {}) }),
    ]);
    return row ? toRecord(row) : null;
  }

  async casHead(market: string, updateType: UpdateType, expectedVersion: number, updateId: number): Promise<number | null> {
    const rows = expectedVersion === 0
      ? await this.rows<{ version: number }>('INSERT INTO {s}.param_heads (market, update_type, update_id, version) VALUES ($1, $2, $3, 1) ON CONFLICT (market, update_type) DO NOTHING RETURNING version', [market, updateType, updateId])
      : await this.rows<{ version: number }>('UPDATE {s}.param_heads SET update_id = $3, version = version + 1 WHERE market = $1 AND update_type = $2 AND version = $4 RETURNING version', [market, updateType, updateId, expectedVersion]);
    return rows[0]?.version ?? null;
  }

  nextPublishSeq(): Promise<number> {
    return this.bump('publish_seq');
  }

  async changeSettings(change: SettingsChange): Promise<StoreSettings> {
    const cur = await this.settings();
    const paused = change.paused ?? cur.paused;
    const allowed = change.allowedMarkets === undefined ? cur.allowedMarkets : change.allowedMarkets;
    await this.rows('INSERT INTO {s}.param_settings_log (paused, allowed_markets, at_ms, actor, note) VALUES ($1, $2, $3, $4, $5)',
      [paused, allowed === null ? null : JSON.stringify(allowed), change.atMs, change.actor, change.note ?? null]);
    return { paused, allowedMarkets: allowed, changedAtMs: change.atMs, changedBy: change.actor };
  }

  async setRails(change: RailsChange): Promise<StoredRails> {
    // The next version under the store's lock (so gapless); the trigger re-checks that it advances by one.
    const [r] = await this.rows<RailsRow>(`INSERT INTO {s}.param_rails_log (version, rails, at_ms, actor, reason)
      SELECT COALESCE(MAX(version), 0) + 1, $1, $2, $3, $4 FROM {s}.param_rails_log RETURNING *`, [JSON.stringify(change.rails), change.atMs, change.actor, change.reason]);
    return toRails(r!);
  }
}

/** Maps driver and server errors to AppErrors: connection trouble is retryable (`unavailable`), the rest `io`. */
function wrapPgError(e: unknown): unknown {
  if (e instanceof AppError) return e;
  const err = e as Error & { code?: string };
  const connection = err.code !== undefined && (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EPIPE)$/.test(err.code) || err.code.startsWith('08') || err.code === '57P01');
  if (connection) return new AppError('unavailable', `PostgreSQL is unreachable (${err.code}: ${err.message}); check the URL and that the server is up, then retry.`, { cause: e, context: { code: err.code } });
  return new AppError('io', `PostgreSQL refused a parameter-store statement (${err.code ?? 'no code'}: ${err.message}).`, { cause: e, context: { code: err.code } });
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** First key of the two-int advisory lock: ours ("lqcl"); the second is hashtext(schema). */
const LOCK_CLASS = 0x6c71636c;

/** The PostgreSQL backend; create it with {@link openPostgresBackend}. */
export class PostgresBackend extends PgReader implements ParamBackend {
  readonly name: string;
  private readonly inside = new AsyncLocalStorage<true>();
  private closed = false;

  /** Use {@link openPostgresBackend}, which also migrates. */
  constructor(private readonly pool: pg.Pool, private readonly schema: string, private readonly ownsPool: boolean, dbName: string) {
    super(pool, `"${schema}"`);
    this.name = `postgres:${dbName}/${schema}`;
  }

  /** Applies pending migrations under the store's lock (concurrent openers wait, then find nothing to do). */
  async migrate(): Promise<void> {
    await this.withLockedClient(async (c) => {
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.s}`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${this.s}.param_schema_migrations (version INTEGER PRIMARY KEY, applied_at_ms BIGINT NOT NULL)`);
      const done = new Set((await c.query<{ version: number }>(`SELECT version FROM ${this.s}.param_schema_migrations`)).rows.map((r) => r.version));
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        await c.query(m.sql.replaceAll('{s}', this.s));
        await c.query(`INSERT INTO ${this.s}.param_schema_migrations (version, applied_at_ms) VALUES ($1, $2)`, [m.version, Date.now()]);
      }
    });
  }

  async atomic<T>(fn: (tx: ParamTx) => Promise<T>): Promise<T> {
    if (this.inside.getStore()) throw new AppError('internal', `Nested atomic sections are not allowed on ${this.name}; pass the open transaction down instead.`);
    return this.withLockedClient((c) => this.inside.run(true, () => fn(new PgTx(c, this.s))));
  }

  /** Ends the pool if the backend created it; calling it again does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }

  /** BEGIN, take the advisory lock, run `fn`, COMMIT (ROLLBACK and rethrow on any error). */
  private async withLockedClient<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try { client = await this.pool.connect(); } catch (e) { throw wrapPgError(e); }
    let broken = false;
    try {
      // One round trip (simple protocol; the schema name was checked against SCHEMA_NAME, so it is safe to inline).
      await client.query(`BEGIN; SET LOCAL synchronous_commit TO on; SELECT pg_advisory_xact_lock(${LOCK_CLASS}, hashtext('${this.schema}'))`);
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      try { await client.query('ROLLBACK'); } catch { broken = true; }
      throw wrapPgError(e);
    } finally {
      client.release(broken);
    }
  }
}

/** Opens (and migrates) a PostgreSQL parameter store. Throws `config` for a bad schema name, `unavailable` if unreachable. */
export async function openPostgresBackend(opts: PostgresBackendOptions): Promise<PostgresBackend> {
  const schema = opts.schema ?? 'liqcal';
  if (!SCHEMA_NAME.test(schema)) throw new AppError('config', `The PostgreSQL schema name "${schema}" is not allowed; use lower-case letters, digits and underscores, starting with a letter or underscore.`, { context: { schema } });
  if (!opts.pool && !opts.url) throw new AppError('config', 'No PostgreSQL connection given; pass a url such as postgres://user@host:5432/db or a pool.');
  const pool = opts.pool ?? new pg.Pool({ connectionString: opts.url, max: opts.maxConnections ?? 10 });
  if (!opts.pool) pool.on('error', (e) => childLog({ component: 'postgres' }).warn({ err: e.message }, 'idle PostgreSQL connection failed'));
  const dbName = opts.url ? (new URL(opts.url).pathname.slice(1) || 'postgres') : 'pool';
  const backend = new PostgresBackend(pool, schema, !opts.pool, dbName);
  try {
    await backend.migrate();
  } catch (e) {
    if (!opts.pool) await pool.end().catch(() => undefined);
    throw e;
  }
  return backend;
}
