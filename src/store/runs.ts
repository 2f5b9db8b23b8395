import { randomUUID } from 'node:crypto';
import type { Store } from './db.ts';

/** Status of a ledger entry. */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'abandoned';

/** One run in the ledger. */
export interface RunRecord {
  readonly id: string;
  readonly kind: string;
  readonly pipeline: string | null;
  readonly configHash: string | null;
  readonly gitSha: string | null;
  readonly seed: number | null;
  readonly status: RunStatus;
  readonly startedAtMs: number;
  readonly endedAtMs: number | null;
  readonly dataWatermarkMs: number | null;
  readonly stats: unknown;
  readonly error: string | null;
}

interface RunRow {
  id: string; kind: string; pipeline: string | null; config_hash: string | null; git_sha: string | null; seed: number | null;
  status: RunStatus; started_at_ms: number; ended_at_ms: number | null; data_watermark_ms: number | null; stats_json: string | null; error: string | null;
}

/** The run ledger: every command or pipeline run opens an entry and closes it with its outcome. */
export class RunLedger {
  constructor(private readonly store: Store) {}

  /** Opens a run; returns its id. */
  start(input: { kind: string; pipeline?: string; config?: unknown; configHash?: string; gitSha?: string; seed?: number; nowMs?: number }): string {
    const id = `${new Date(input.nowMs ?? Date.now()).toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomUUID().slice(0, 8)}`;
    this.store.db.prepare(`INSERT INTO runs (id, kind, pipeline, config_json, config_hash, git_sha, seed, status, started_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?)`).run(
      id, input.kind, input.pipeline ?? null, input.config === undefined ? null : JSON.stringify(input.config), input.configHash ?? null, input.gitSha ?? null, input.seed ?? null, input.nowMs ?? Date.now(),
    );
    return id;
  }

  /** Closes a run with its outcome, stats and (on failure) the error message. */
  finish(id: string, outcome: { status: Exclude<RunStatus, 'running'>; stats?: unknown; error?: string; dataWatermarkMs?: number; nowMs?: number }): void {
    this.store.db.prepare('UPDATE runs SET status = ?, ended_at_ms = ?, stats_json = ?, error = ?, data_watermark_ms = ? WHERE id = ?').run(
      outcome.status, outcome.nowMs ?? Date.now(), outcome.stats === undefined ? null : JSON.stringify(outcome.stats), outcome.error ?? null, outcome.dataWatermarkMs ?? null, id,
    );
  }

  /**
   * Runs `work` as one ledger entry: opened before, closed as succeeded with `stats(result)` or as failed with the
   * error message (and the error rethrown).
   */
  async track<T>(input: Parameters<RunLedger['start']>[0], work: (runId: string) => Promise<T>, stats: (result: T) => unknown = () => undefined): Promise<T> {
    const id = this.start(input);
    try {
      const result = await work(id);
      this.finish(id, { status: 'succeeded', stats: stats(result) });
      return result;
    } catch (e) {
      this.finish(id, { status: 'failed', error: (e as Error).message });
      throw e;
    }
  }

  /** Runs, newest first. */
  list(limit = 50): RunRecord[] {
    const rows = this.store.db.prepare('SELECT * FROM runs ORDER BY started_at_ms DESC, id DESC LIMIT ?').all(limit) as RunRow[];
    return rows.map((r) => ({
      id: r.id, kind: r.kind, pipeline: r.pipeline, configHash: r.config_hash, gitSha: r.git_sha, seed: r.seed, status: r.status,
      startedAtMs: r.started_at_ms, endedAtMs: r.ended_at_ms, dataWatermarkMs: r.data_watermark_ms,
      stats: r.stats_json === null ? null : (JSON.parse(r.stats_json) as unknown), error: r.error,
    }));
  }
}
