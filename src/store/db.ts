import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError } from '../core/errors.ts';
import { MIGRATIONS, type Migration } from './migrations/index.ts';
import { abandonOrphanRuns } from './runs.ts';

/** The default store file, relative to the working directory. */
export const DEFAULT_DB_PATH = 'data/liqcal.db';

/** An open liqcal store: one SQLite file in WAL mode, migrated to the latest schema. */
export interface Store {
  readonly path: string;
  readonly db: Database.Database;
  /** Runs `fn` in one IMMEDIATE transaction: all of it is written, or none. */
  tx<T>(fn: () => T): T;
  close(): void;
}

/** Options for {@link openStore}. */
export interface OpenStoreOptions {
  /** Open without writing (no migrations; fails if the file does not exist). */
  readonly readonly?: boolean;
  /** How long to wait for another writer's lock, in ms. */
  readonly busyTimeoutMs?: number;
  /** Migrations to apply (tests may pass a prefix). */
  readonly migrations?: readonly Migration[];
}

/**
 * Opens (creating if needed) the store at `path`, switches it to WAL, and applies pending migrations.
 * WAL lets readers (CLI, updaters) read while one writer writes; `synchronous=NORMAL` keeps every
 * committed transaction after a process crash.
 */
export function openStore(path: string = DEFAULT_DB_PATH, opts: OpenStoreOptions = {}): Store {
  let db: Database.Database;
  try {
    if (!opts.readonly && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (e) {
    throw new AppError('io', `Cannot open the store at ${path}: ${(e as Error).message}. Check the --db path and its permissions.`, { context: { path, code: (e as { code?: string }).code }, cause: e });
  }
  try {
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 10_000}`);
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, opts.migrations ?? MIGRATIONS, path);
      if (hasOwnerColumns(db)) abandonOrphanRuns(db);
    } else {
      const v = schemaVersion(db);
      if (v === 0) throw new AppError('io', `${path} is not a liqcal store (no schema). Create one with \`liqcal ingest\` or \`liqcal import-csv\`.`, { context: { path } });
    }
  } catch (e) {
    db.close();
    throw storeOpenError(path, e);
  }
  const tx = <T>(fn: () => T): T => db.transaction(fn).immediate();
  return { path, db, tx, close: () => db.close() };
}

/**
 * The `io` error for a store that cannot be opened: a file that is not SQLite (SQLITE_NOTADB), a corrupt one, a
 * read-only or locked one. Names the file and the fix; never a stack trace. AppErrors pass through.
 */
function storeOpenError(path: string, e: unknown): AppError {
  if (e instanceof AppError) return e;
  const code = (e as { code?: string }).code ?? '';
  const why = code === 'SQLITE_NOTADB' ? 'it is not a SQLite database (wrong --db path, or a file of another kind)'
    : code === 'SQLITE_CORRUPT' ? 'the database file is corrupt (restore it from a backup, or point --db at another file)'
      : code === 'SQLITE_BUSY' ? 'another process holds its write lock for too long (try again)'
        : code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' ? 'it cannot be opened for writing (check its permissions and those of its folder)'
          : `SQLite says ${code || 'error'}: ${(e as Error).message}`;
  return new AppError('io', `Cannot open the store at ${path}: ${why}.`, { context: { path, code }, cause: e });
}

/** True when the runs table records its owners (migration 4; a test may open a store with fewer migrations). */
function hasOwnerColumns(db: Database.Database): boolean {
  return (db.prepare("SELECT COUNT(*) AS n FROM pragma_table_info('runs') WHERE name = 'owner_pid'").get() as { n: number }).n > 0;
}

function schemaVersion(db: Database.Database): number {
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (!has) return 0;
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

function migrate(db: Database.Database, migrations: readonly Migration[], path: string): void {
  const foreign = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' LIMIT 3").all() as { name: string }[];
  if (foreign.length > 0 && schemaVersion(db) === 0) {
    throw new AppError('io', `${path} is a SQLite database but not a liqcal store (it has tables such as ${foreign.map((t) => JSON.stringify(t.name)).join(', ')} and no liqcal schema); liqcal will not add its tables to it. Point --db at a liqcal store or at a new file.`, { context: { path } });
  }
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)');
  const current = schemaVersion(db);
  const latest = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  if (current > latest) {
    throw new AppError('io', `The store at ${path} has schema version ${current}, newer than this liqcal (${latest}). Upgrade liqcal.`, { context: { path, current, latest } });
  }
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      // Another process may have applied it since we looked: the write lock is ours now, so look again.
      if (schemaVersion(db) >= m.version) return;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    }).immediate();
  }
}
