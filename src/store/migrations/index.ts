/** One schema migration: applied once, in order, inside a transaction. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * The schema, as an append-only list. Never edit a migration that has shipped: add a new one.
 * Times are epoch ms (UTC); prices REAL; optional venue fields NULL when the venue does not report them.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'market data, watermarks, run ledger',
    sql: `
      CREATE TABLE bars (
        venue TEXT NOT NULL,
        symbol TEXT NOT NULL,
        interval TEXT NOT NULL,
        open_time_ms INTEGER NOT NULL,
        open REAL NOT NULL,
        high REAL NOT NULL,
        low REAL NOT NULL,
        close REAL NOT NULL,
        volume REAL NOT NULL,
        quote_volume REAL,
        trades INTEGER,
        taker_buy_base_volume REAL,
        PRIMARY KEY (venue, symbol, interval, open_time_ms)
      ) WITHOUT ROWID;

      CREATE TABLE funding_rates (
        venue TEXT NOT NULL,
        symbol TEXT NOT NULL,
        funding_time_ms INTEGER NOT NULL,
        rate REAL NOT NULL,
        mark_price REAL,
        PRIMARY KEY (venue, symbol, funding_time_ms)
      ) WITHOUT ROWID;

      CREATE TABLE open_interest (
        venue TEXT NOT NULL,
        symbol TEXT NOT NULL,
        interval TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        open_interest REAL NOT NULL,
        open_interest_value REAL,
        PRIMARY KEY (venue, symbol, interval, time_ms)
      ) WITHOUT ROWID;

      CREATE TABLE implied_vol (
        venue TEXT NOT NULL,
        symbol TEXT NOT NULL,
        interval TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        open REAL,
        high REAL,
        low REAL,
        close REAL NOT NULL,
        PRIMARY KEY (venue, symbol, interval, time_ms)
      ) WITHOUT ROWID;

      -- The last time stored for each series and kind: where a resumed backfill starts.
      CREATE TABLE watermarks (
        kind TEXT NOT NULL,
        venue TEXT NOT NULL,
        symbol TEXT NOT NULL,
        interval TEXT NOT NULL,
        last_time_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        source TEXT,
        PRIMARY KEY (kind, venue, symbol, interval)
      ) WITHOUT ROWID;

      -- The run ledger: one row per command or pipeline run.
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        pipeline TEXT,
        config_json TEXT,
        config_hash TEXT,
        git_sha TEXT,
        seed INTEGER,
        status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned')),
        started_at_ms INTEGER NOT NULL,
        ended_at_ms INTEGER,
        data_watermark_ms INTEGER,
        stats_json TEXT,
        error TEXT
      );
      CREATE INDEX runs_started ON runs (started_at_ms);
    `,
  },
  {
    version: 2,
    name: 'parameter store: update records, audit events, heads, settings log',
    sql: `
      -- One row per proposed update. Content columns never change (trigger); lifecycle columns change only
      -- along the allowed transitions (trigger), each change appended to param_events. Nothing is deleted.
      CREATE TABLE param_records (
        update_id INTEGER PRIMARY KEY AUTOINCREMENT,
        market TEXT NOT NULL,
        update_type TEXT NOT NULL,
        new_value TEXT NOT NULL,
        previous_value TEXT,
        reference_id TEXT,
        timestamp_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        additional_data TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        base_version INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('proposed', 'approved', 'published', 'superseded', 'expired', 'rejected', 'disabled')),
        version INTEGER,
        publish_seq INTEGER UNIQUE,
        approved_by TEXT,
        approved_at_ms INTEGER,
        published_at_ms INTEGER,
        rejection TEXT,
        state_changed_at_ms INTEGER NOT NULL,
        CHECK ((state IN ('published', 'superseded') AND version IS NOT NULL AND publish_seq IS NOT NULL AND published_at_ms IS NOT NULL)
               OR state NOT IN ('published', 'superseded'))
      );
      CREATE INDEX param_records_market_type ON param_records (market, update_type, update_id);
      CREATE INDEX param_records_state ON param_records (state, expires_at_ms);

      CREATE TABLE param_events (
        event_id INTEGER PRIMARY KEY AUTOINCREMENT,
        update_id INTEGER NOT NULL REFERENCES param_records (update_id),
        from_state TEXT,
        to_state TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        actor TEXT NOT NULL,
        detail TEXT
      );
      CREATE INDEX param_events_update ON param_events (update_id, event_id);

      -- The last published record of each (market, type) and its version; moved only by compare-and-set.
      CREATE TABLE param_heads (
        market TEXT NOT NULL,
        update_type TEXT NOT NULL,
        update_id INTEGER NOT NULL REFERENCES param_records (update_id),
        version INTEGER NOT NULL CHECK (version >= 1),
        PRIMARY KEY (market, update_type)
      ) WITHOUT ROWID;

      CREATE TABLE param_settings_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        paused INTEGER NOT NULL CHECK (paused IN (0, 1)),
        allowed_markets TEXT,
        at_ms INTEGER NOT NULL,
        actor TEXT NOT NULL,
        note TEXT
      );

      CREATE TRIGGER param_records_no_delete BEFORE DELETE ON param_records
      BEGIN SELECT RAISE(ABORT, 'param_records is append-only'); END;
      CREATE TRIGGER param_records_content_immutable
      BEFORE UPDATE OF update_id, market, update_type, new_value, previous_value, reference_id, timestamp_ms, expires_at_ms,
        additional_data, idempotency_key, base_version ON param_records
      BEGIN SELECT RAISE(ABORT, 'param_records content is immutable'); END;
      CREATE TRIGGER param_records_transition BEFORE UPDATE OF state ON param_records
      WHEN NOT ((OLD.state = 'proposed' AND NEW.state IN ('approved', 'rejected', 'disabled', 'expired'))
             OR (OLD.state = 'approved' AND NEW.state IN ('published', 'rejected', 'disabled', 'expired'))
             OR (OLD.state = 'published' AND NEW.state IN ('superseded', 'expired', 'disabled')))
      BEGIN SELECT RAISE(ABORT, 'illegal param_records state transition'); END;
      CREATE TRIGGER param_records_state_changes BEFORE UPDATE ON param_records
      WHEN NEW.state IS OLD.state
        OR (OLD.approved_by IS NOT NULL AND NEW.approved_by IS NOT OLD.approved_by)
        OR (OLD.approved_at_ms IS NOT NULL AND NEW.approved_at_ms IS NOT OLD.approved_at_ms)
        OR (OLD.published_at_ms IS NOT NULL AND NEW.published_at_ms IS NOT OLD.published_at_ms)
        OR (OLD.version IS NOT NULL AND NEW.version IS NOT OLD.version)
        OR (OLD.publish_seq IS NOT NULL AND NEW.publish_seq IS NOT OLD.publish_seq)
        OR (OLD.rejection IS NOT NULL AND NEW.rejection IS NOT OLD.rejection)
      BEGIN SELECT RAISE(ABORT, 'param_records lifecycle fields change only with the state and are set once'); END;
      CREATE TRIGGER param_events_no_update BEFORE UPDATE ON param_events
      BEGIN SELECT RAISE(ABORT, 'param_events is append-only'); END;
      CREATE TRIGGER param_events_no_delete BEFORE DELETE ON param_events
      BEGIN SELECT RAISE(ABORT, 'param_events is append-only'); END;
      CREATE TRIGGER param_heads_no_delete BEFORE DELETE ON param_heads
      BEGIN SELECT RAISE(ABORT, 'param_heads rows are never deleted'); END;
      CREATE TRIGGER param_heads_version_step BEFORE UPDATE ON param_heads
      WHEN NEW.version <> OLD.version + 1 OR NEW.market <> OLD.market OR NEW.update_type <> OLD.update_type
      BEGIN SELECT RAISE(ABORT, 'param_heads versions advance by one'); END;
      CREATE TRIGGER param_settings_log_no_update BEFORE UPDATE ON param_settings_log
      BEGIN SELECT RAISE(ABORT, 'param_settings_log is append-only'); END;
      CREATE TRIGGER param_settings_log_no_delete BEFORE DELETE ON param_settings_log
      BEGIN SELECT RAISE(ABORT, 'param_settings_log is append-only'); END;
    `,
  },
  {
    version: 3,
    name: 'pipeline runs: stage timings, artifacts, cross-process job locks, report models',
    sql: `
      ALTER TABLE runs ADD COLUMN stages_json TEXT;
      ALTER TABLE runs ADD COLUMN artifacts_json TEXT;
      CREATE INDEX runs_pipeline ON runs (pipeline, started_at_ms);

      -- One row per lock name (e.g. "<pipeline>/<job>"): held by owner until expires_at_ms unless renewed.
      CREATE TABLE job_locks (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        run_id TEXT,
        acquired_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL
      );

      -- The report model of a run (JSON), so a report can be rendered again later.
      CREATE TABLE run_reports (
        run_id TEXT PRIMARY KEY,
        created_at_ms INTEGER NOT NULL,
        model_json TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'run ledger: the process that owns a running run (host, pid, process start), for abandoning orphans',
    sql: `
      -- Who runs a 'running' run: on the next open of the store, a run whose process is gone is marked abandoned.
      ALTER TABLE runs ADD COLUMN owner_host TEXT;
      ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
      -- The owner's start time as the OS reports it (Linux: /proc/<pid>/stat field 22), so a reused pid is not alive.
      ALTER TABLE runs ADD COLUMN owner_started TEXT;
      CREATE INDEX runs_status ON runs (status);
    `,
  },
  {
    version: 5,
    name: 'parameter store: versioned, append-only guard rails (who, when, why)',
    sql: `
      -- One row per version of the store's guard rails (the complete rails as JSON), set only by
      -- \`liqcal params rails set\` with who and why. Versions advance by one; nothing is updated or deleted.
      -- Without a row the defaults (DEFAULT_RAILS) apply.
      CREATE TABLE param_rails_log (
        version INTEGER PRIMARY KEY CHECK (version >= 1),
        rails TEXT NOT NULL CHECK (json_valid(rails)),
        at_ms INTEGER NOT NULL,
        actor TEXT NOT NULL CHECK (length(trim(actor)) > 0),
        reason TEXT NOT NULL CHECK (length(trim(reason)) > 0)
      );
      CREATE TRIGGER param_rails_log_version_step BEFORE INSERT ON param_rails_log
      WHEN NEW.version <> COALESCE((SELECT MAX(version) FROM param_rails_log), 0) + 1
      BEGIN SELECT RAISE(ABORT, 'param_rails_log versions advance by one'); END;
      CREATE TRIGGER param_rails_log_no_update BEFORE UPDATE ON param_rails_log
      BEGIN SELECT RAISE(ABORT, 'param_rails_log is append-only'); END;
      CREATE TRIGGER param_rails_log_no_delete BEFORE DELETE ON param_rails_log
      BEGIN SELECT RAISE(ABORT, 'param_rails_log is append-only'); END;
    `,
  },
];
