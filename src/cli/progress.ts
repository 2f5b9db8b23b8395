/**
 * Progress for long commands (backfills, CSV imports, training): bars for a person at a terminal, log lines
 * for everything else.
 *
 * - **bars** (stderr is a TTY, and neither `--quiet` nor `--json`): one cli-progress bar per task, redrawn at
 *   most 10 times a second, with the caller's notes printed above the bars (so they do not tear them).
 * - **log** (stderr is not a TTY — cron, CI, a pipe — or `--quiet` / `--json`): no bar and no terminal codes at
 *   all; each milestone (a task done, a series stored, a model member trained) becomes one pino `info` line on
 *   the given logger, which carries the run id when it is a `runLogger(runId)`. With the default log level
 *   (`warn`) those lines are not written, so a quiet command is silent.
 */
import cliProgress from 'cli-progress';
import type pino from 'pino';
import { log } from '../core/log.ts';

/** How progress is shown: bars on the stream, or pino lines per milestone. */
export type ProgressMode = 'bars' | 'log';

/** The stream bars are drawn on: stderr, or a stand-in in tests (`isTTY` and `columns` as on a tty.WriteStream). */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Where bars go (default `process.stderr`); bars are drawn only if it is a TTY. */
  readonly stream?: ProgressStream;
  /** `--quiet`: never draw bars. */
  readonly quiet?: boolean;
  /** `--json`: never draw bars (stdout carries one JSON document, stderr stays machine-readable). */
  readonly json?: boolean;
  /** Logger of the milestone lines in log mode (default: the process logger; pass `runLogger(runId)`). */
  readonly logger?: pino.Logger;
}

/** One tracked piece of work, e.g. "ingest 24 series" or "train 2 × 60 epochs". */
export interface ProgressTask {
  /**
   * Sets the progress to `value` of the task's total (clamped to [0, total]).
   * @param detail - Short text shown after the bar, e.g. `12/24 series · 120,345 rows`.
   */
  update(value: number, detail?: string): void;
  /** Marks the task complete (the bar jumps to 100 %) and logs it as a milestone with `fields`. */
  done(fields?: Record<string, unknown>): void;
}

/** The progress display of one command. Call {@link Progress.stop} when the command ends, also on failure. */
export interface Progress {
  readonly mode: ProgressMode;
  /** Starts a task of `total` units (any unit: rows, files, epochs, per-mille of a time range). */
  task(label: string, total: number): ProgressTask;
  /** A line for the person watching: above the bars in bar mode; in log mode it is dropped (the caller prints its own lines). */
  note(line: string): void;
  /** A milestone: a pino `info` line in log mode (with the logger's run id); nothing in bar mode, where the bar shows it. */
  milestone(msg: string, fields?: Record<string, unknown>): void;
  /** Draws the final state (bar mode) and releases the terminal. Idempotent. */
  stop(): void;
}

/** The mode a command gets: bars only for a person at a terminal who asked for neither `--quiet` nor `--json`. */
export function progressMode(opts: { stream?: ProgressStream; quiet?: boolean; json?: boolean }): ProgressMode {
  const stream = opts.stream ?? process.stderr;
  return stream.isTTY === true && !opts.quiet && !opts.json ? 'bars' : 'log';
}

const BAR_FORMAT = '{label} [{bar}] {percentage}% | {detail} | ETA {eta_formatted}';

/** Creates the progress display for a command's flags; see the module comment for the two modes. */
export function createProgress(opts: ProgressOptions = {}): Progress {
  const logger = opts.logger ?? log;
  return progressMode(opts) === 'bars' ? barProgress(opts.stream ?? process.stderr, logger) : logProgress(logger);
}

function logProgress(logger: pino.Logger): Progress {
  return {
    mode: 'log',
    task(label, total) {
      let finished = false;
      return {
        update() { /* no bar: only milestones are logged */ },
        done(fields = {}) {
          if (finished) return;
          finished = true;
          logger.info({ task: label, total, ...fields }, `${label} done`);
        },
      };
    },
    note() { /* the caller's own Output prints lines in log mode */ },
    milestone(msg, fields = {}) { logger.info(fields, msg); },
    stop() { /* nothing drawn */ },
  };
}

function barProgress(stream: ProgressStream, logger: pino.Logger): Progress {
  // gracefulExit false: cli-progress would otherwise swallow SIGINT/SIGTERM (a handler suppresses Node's
  // default exit), and Ctrl-C must still stop a backfill. The cursor stays visible for the same reason.
  const multi = new cliProgress.MultiBar({
    stream, format: BAR_FORMAT, hideCursor: false, gracefulExit: false, clearOnComplete: false, barsize: 30, fps: 10,
    etaBuffer: 50, barCompleteChar: '=', barIncompleteChar: '-', autopadding: true,
  });
  let stopped = false;
  return {
    mode: 'bars',
    task(label, total) {
      const t = Math.max(total, 1);
      const bar = multi.create(t, 0, { label, detail: '' });
      let finished = false;
      return {
        update(value, detail) {
          if (finished) return;
          bar.update(Math.min(Math.max(value, 0), t), detail === undefined ? {} : { detail });
        },
        done(fields = {}) {
          if (finished) return;
          finished = true;
          bar.update(t);
          logger.debug({ task: label, total, ...fields }, `${label} done`);
        },
      };
    },
    note(line) {
      if (!stopped) multi.log(`${line}\n`);
    },
    milestone(msg, fields = {}) { logger.debug(fields, msg); },
    stop() {
      if (stopped) return;
      stopped = true;
      // update() flushes the notes logged since the last redraw; stop() draws the final bars.
      multi.update();
      multi.stop();
    },
  };
}
