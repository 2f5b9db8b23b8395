/**
 * Test helper: sets a SQLite store's guard rails the audited way, synchronously (for fixtures that write a pipeline
 * and its store before a run). A pipeline's own `params.rails` may only tighten the store's rails, so a test that
 * needs looser rails (e.g. no minimum delay, so runs seconds apart all publish) puts them in the store.
 */
import { parseRailsConfig } from '../../src/params/rails.ts';
import { openStore } from '../../src/store/db.ts';

/**
 * Opens (creating and migrating) the SQLite store at `dbPath` and appends `override` merged over DEFAULT_RAILS as the
 * next version of its rails (table param_rails_log), by `by` for `reason`. Returns the new version.
 */
export function seedStoreRails(dbPath: string, override: unknown, by = 'test', reason = 'test fixture rails'): number {
  const rails = parseRailsConfig(override, 'test rails');
  const store = openStore(dbPath);
  try {
    store.db.prepare('INSERT INTO param_rails_log (version, rails, at_ms, actor, reason) SELECT COALESCE(MAX(version), 0) + 1, ?, ?, ?, ? FROM param_rails_log')
      .run(JSON.stringify(rails), Date.now(), by, reason);
    return (store.db.prepare('SELECT MAX(version) AS v FROM param_rails_log').get() as { v: number }).v;
  } finally {
    store.close();
  }
}
