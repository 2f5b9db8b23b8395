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
];
