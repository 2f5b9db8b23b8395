import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
import type { Store } from './db.ts';
import { redact, redactText } from '../core/redact.ts';

/** Status of a ledger entry. */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'abandoned';

/** Status of one stage of a pipeline run. */
export type StageStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'abandoned';

/** One stage of a pipeline run as the ledger keeps it (`runs.stages_json`). Times are epoch ms, UTC. */
export interface RunStage {
  readonly name: string;
  readonly status: StageStatus;
  /** Attempts made (retries included); 0 for a stage that never started. */
  readonly attempts: number;
  readonly startedAtMs: number | null;
  readonly endedAtMs: number | null;
  /** The error that failed or abandoned the stage (its kind decides retries and the exit code). */
  readonly error: { readonly kind: string; readonly message: string } | null;
}

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
  /** Per-stage status, attempts and timings of a pipeline run (null for other runs). */
  readonly stages: RunStage[] | null;
  /** What the run produced: model versions, published updateIds, report paths… (null when nothing was recorded). */
  readonly artifacts: Record<string, unknown> | null;
}

/** Filters of {@link RunLedger.list}. */
export interface RunFilter {
  readonly pipeline?: string;
  readonly kind?: string;
  readonly status?: RunStatus;
}

interface RunRow {
  id: string; kind: string; pipeline: string | null; config_hash: string | null; git_sha: string | null; seed: number | null;
  status: RunStatus; started_at_ms: number; ended_at_ms: number | null; data_watermark_ms: number | null; stats_json: string | null; error: string | null;
  stages_json: string | null; artifacts_json: string | null;
}

/** JSON of a ledger value with secrets redacted (src/core/redact.ts): the ledger is read by anyone with the store. */
const json = (x: unknown): string | null => (x === undefined ? null : JSON.stringify(redact(x)));
/** A ledger error text with URL passwords and `key=value` secrets masked. */
const text = (s: string | undefined): string | null => (s === undefined ? null : redactText(s));

function toRecord(r: RunRow): RunRecord {
  return {
    id: r.id, kind: r.kind, pipeline: r.pipeline, configHash: r.config_hash, gitSha: r.git_sha, seed: r.seed, status: r.status,
    startedAtMs: r.started_at_ms, endedAtMs: r.ended_at_ms, dataWatermarkMs: r.data_watermark_ms,
    stats: r.stats_json === null ? null : (JSON.parse(r.stats_json) as unknown), error: r.error,
    stages: r.stages_json === null ? null : (JSON.parse(r.stages_json) as RunStage[]),
    artifacts: r.artifacts_json === null ? null : (JSON.parse(r.artifacts_json) as Record<string, unknown>),
  };
}

/** The run ledger: every command or pipeline run opens an entry and closes it with its outcome. */
export class RunLedger {
  constructor(private readonly store: Store) {}

  /** Opens a run; returns its id. */
  start(input: { kind: string; pipeline?: string; config?: unknown; configHash?: string; gitSha?: string; seed?: number; nowMs?: number }): string {
    const id = `${new Date(input.nowMs ?? Date.now()).toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomUUID().slice(0, 8)}`;
    const me = thisProcess();
    this.store.db.prepare(`INSERT INTO runs (id, kind, pipeline, config_json, config_hash, git_sha, seed, status, started_at_ms, owner_host, owner_pid, owner_started)
      VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)`).run(
      id, input.kind, input.pipeline ?? null, json(input.config), input.configHash ?? null, input.gitSha ?? null, input.seed ?? null, input.nowMs ?? Date.now(),
      me.host, me.pid, me.started,
    );
    return id;
  }

  /**
   * Closes a run with its outcome, stats and (on failure) the error message. Stages, artifacts and the data watermark
   * are replaced when given and kept as last recorded otherwise.
   */
  finish(id: string, outcome: { status: Exclude<RunStatus, 'running'>; stats?: unknown; error?: string; dataWatermarkMs?: number; stages?: readonly RunStage[]; artifacts?: Record<string, unknown>; nowMs?: number }): void {
    this.store.db.prepare(`UPDATE runs SET status = ?, ended_at_ms = ?, stats_json = ?, error = ?, data_watermark_ms = COALESCE(?, data_watermark_ms),
      stages_json = COALESCE(?, stages_json), artifacts_json = COALESCE(?, artifacts_json) WHERE id = ?`).run(
      outcome.status, outcome.nowMs ?? Date.now(), json(outcome.stats), text(outcome.error), outcome.dataWatermarkMs ?? null, json(outcome.stages), json(outcome.artifacts), id,
    );
  }

  /** Records a running run's progress: its stages, artifacts so far and data watermark (each only when given). */
  progress(id: string, p: { stages?: readonly RunStage[]; artifacts?: Record<string, unknown>; dataWatermarkMs?: number | null }): void {
    this.store.db.prepare('UPDATE runs SET stages_json = COALESCE(?, stages_json), artifacts_json = COALESCE(?, artifacts_json), data_watermark_ms = COALESCE(?, data_watermark_ms) WHERE id = ?')
      .run(json(p.stages), json(p.artifacts), p.dataWatermarkMs ?? null, id);
  }

  /**
   * Marks a run that is still `running` as abandoned (its process died or lost its lock), with the reason; returns
   * false when the run had already ended.
   */
  abandon(id: string, reason: string, nowMs: number = Date.now()): boolean {
    return this.store.db.prepare("UPDATE runs SET status = 'abandoned', ended_at_ms = ?, error = ? WHERE id = ? AND status = 'running'").run(nowMs, redactText(reason), id).changes > 0;
  }

  /** One run by id, or null. */
  get(id: string): RunRecord | null {
    const row = this.store.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    return row ? toRecord(row) : null;
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

  /** Runs, newest first, optionally only those of a pipeline, kind or status. */
  list(limit = 50, filter: RunFilter = {}): RunRecord[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.pipeline !== undefined) { where.push('pipeline = ?'); args.push(filter.pipeline); }
    if (filter.kind !== undefined) { where.push('kind = ?'); args.push(filter.kind); }
    if (filter.status !== undefined) { where.push('status = ?'); args.push(filter.status); }
    const rows = this.store.db.prepare(`SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at_ms DESC, id DESC LIMIT ?`).all(...args, limit) as RunRow[];
    return rows.map(toRecord);
  }
}

/** The identity of a process that owns runs: host name, pid, and its start time as the OS reports it (or null). */
export interface ProcessIdentity {
  readonly host: string;
  readonly pid: number;
  readonly started: string | null;
}

/** The start time of process `pid` (Linux: field 22 of /proc/<pid>/stat, clock ticks since boot), or null elsewhere. */
function processStarted(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: fields after it start past the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

let self: ProcessIdentity | undefined;
/** This process's identity (recorded with every run it starts). */
export function thisProcess(): ProcessIdentity {
  self ??= { host: hostname(), pid: process.pid, started: processStarted(process.pid) };
  return self;
}

/**
 * Whether the process that started a run on this host is gone: its pid does not exist (ESRCH), or it exists but
 * started at another time than recorded (the pid was reused). A pid we may not signal (EPERM) still exists.
 */
function ownerGone(pid: number, started: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
  if (started === null) return false;
  const now = processStarted(pid);
  return now !== null && now !== started;
}

/**
 * Marks as `abandoned` every `running` run that was started on this host by a process that no longer exists
 * (`kill -9`, a crash, a power cut), with the reason; returns their ids. Runs of other hosts, and runs recorded
 * without an owner (older liqcal), are left to their job lock's lease. Called by `openStore` on every writable open.
 */
export function abandonOrphanRuns(db: Database.Database, nowMs: number = Date.now()): string[] {
  const rows = db.prepare("SELECT id, owner_pid AS pid, owner_started AS started FROM runs WHERE status = 'running' AND owner_host = ? AND owner_pid IS NOT NULL")
    .all(hostname()) as { id: string; pid: number; started: string | null }[];
  const gone = rows.filter((r) => r.pid !== process.pid && ownerGone(r.pid, r.started));
  const mark = db.prepare("UPDATE runs SET status = 'abandoned', ended_at_ms = ?, error = ? WHERE id = ? AND status = 'running'");
  for (const r of gone) {
    mark.run(nowMs, `The process that ran it (pid ${r.pid} on ${hostname()}) ended without recording an outcome (killed, crashed or lost power); found by the next open of the store. Rerun the same command: it resumes after the stored data.`, r.id);
  }
  return gone.map((r) => r.id);
}
