/**
 * Signals for commands that run long: SIGTERM and SIGINT stop them in a recorded way, never leaving a ledger run
 * `running` (a `kill -9` cannot be caught: the next open of the store marks such a run abandoned, see
 * `abandonOrphanRuns` in src/store/runs.ts).
 */
import type { Store } from '../store/db.ts';
import { RunLedger } from '../store/runs.ts';
import type { Output } from './output.ts';

/** Exit code of a run abandoned on SIGTERM (128 + 15, as shells report it). */
export const EXIT_ABANDONED = 143;
/** Exit code of a command stopped by SIGINT (128 + 2). */
export const EXIT_INTERRUPTED = 130;

/** Until a signal arrives, `signal` is live; the first SIGTERM or SIGINT aborts it (a second one kills as usual). */
export function stopOnSignals(out: Output, what: string): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    out.info(`${sig}: stopping ${what} (the current stage finishes within the grace period or is abandoned; nothing is half-published)`);
    ac.abort();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return { signal: ac.signal, dispose: () => { process.off('SIGTERM', onSignal); process.off('SIGINT', onSignal); } };
}

/**
 * Ends the process once stdout and stderr have flushed. After a signal, an abandoned stage's background work (a
 * request still in flight, say) is discarded: it must not keep the process alive, nor fail it later against a
 * store that is already closed.
 */
export function exitWhenFlushed(code: number): Promise<never> {
  return new Promise<never>(() => {
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}

/**
 * For a command whose ledger run is `runId` (ingest, import-csv): on SIGTERM or SIGINT, record the run `abandoned`
 * with the signal's name, close the store and exit 143 (SIGTERM) or 130 (SIGINT). Safe at any point: SQLite writes
 * are synchronous, so a handler runs between whole transactions (pages and their watermarks), never inside one.
 * Returns the function that removes the handlers (call it when the command ends normally).
 */
export function abandonOnSignals(store: Store, runId: string, what: string, out: Output): () => void {
  const onSignal = (sig: NodeJS.Signals): void => {
    try {
      new RunLedger(store).abandon(runId, `Stopped by ${sig} during ${what}; whatever was written is whole (pages with their watermarks). Rerun the same command: it resumes after the stored data.`);
      store.close();
    } finally {
      out.info(`${sig}: ${what} stopped; run ${runId} recorded as abandoned. Rerun the same command to resume.`);
      void exitWhenFlushed(sig === 'SIGINT' ? EXIT_INTERRUPTED : EXIT_ABANDONED);
    }
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return () => { process.off('SIGTERM', onSignal); process.off('SIGINT', onSignal); };
}
