/**
 * Report models in the store: table `run_reports(run_id, created_at_ms, model_json)` (migration v3), one model per
 * run, so `liqcal report` can render a run's report again later.
 */
import { AppError, formatIssues } from '../core/errors.ts';
import { systemClock, type Clock } from '../core/time.ts';
import type { Store } from '../store/db.ts';
import { REPORT_MODEL_VERSION, ReportModelSchema, type ReportModel } from './model.ts';

/** Saves (or replaces) the model of `model.run.id`, stamped with the clock's time (epoch ms). */
export function saveReportModel(store: Store, model: ReportModel, clock: Clock = systemClock): void {
  const parsed = ReportModelSchema.safeParse(model);
  if (!parsed.success) throw new AppError('schema', `The report model of run ${model.run?.id ?? '(unknown)'} is malformed: ${formatIssues(parsed.error.issues)}. Build it with buildReportModel.`, { context: { run: model.run?.id } });
  store.db.prepare('INSERT INTO run_reports (run_id, created_at_ms, model_json) VALUES (?, ?, ?) ON CONFLICT(run_id) DO UPDATE SET created_at_ms = excluded.created_at_ms, model_json = excluded.model_json')
    .run(model.run.id, clock.now(), JSON.stringify(parsed.data));
}

/**
 * Loads the model of run `run`, or with `'latest'` the most recently saved one; throws a `badRequest` AppError naming
 * the run when there is none, and a `schema` AppError when the stored JSON is not a valid model of this version.
 */
export function loadReportModel(store: Store, run: string): ReportModel {
  const row = (run === 'latest'
    ? store.db.prepare('SELECT run_id, model_json FROM run_reports ORDER BY created_at_ms DESC, run_id DESC LIMIT 1').get()
    : store.db.prepare('SELECT run_id, model_json FROM run_reports WHERE run_id = ?').get(run)) as { run_id: string; model_json: string } | undefined;
  if (!row) {
    const what = run === 'latest' ? 'No run in this store has a report yet' : `Run ${run} has no report in this store`;
    throw new AppError('badRequest', `${what} (${store.path}). List runs with \`liqcal runs --db ${store.path}\` and pick one whose pipeline has a report stage.`, { context: { run, db: store.path } });
  }
  let json: unknown;
  try {
    json = JSON.parse(row.model_json);
  } catch (e) {
    throw new AppError('schema', `The stored report of run ${row.run_id} is not valid JSON: ${(e as Error).message}. Re-run the pipeline to rebuild it.`, { context: { run: row.run_id }, cause: e });
  }
  const v = (json as { version?: unknown } | null)?.version;
  if (v !== REPORT_MODEL_VERSION) {
    throw new AppError('schema', `The stored report of run ${row.run_id} has model version ${String(v)}, but this liqcal reads version ${REPORT_MODEL_VERSION}. Re-run the pipeline with this liqcal to rebuild it.`, { context: { run: row.run_id, version: v } });
  }
  const parsed = ReportModelSchema.safeParse(json);
  if (!parsed.success) throw new AppError('schema', `The stored report of run ${row.run_id} is malformed: ${formatIssues(parsed.error.issues)}. Re-run the pipeline to rebuild it.`, { context: { run: row.run_id } });
  return parsed.data;
}
