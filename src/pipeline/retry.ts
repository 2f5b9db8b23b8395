/**
 * Stage retries. Only the retryable AppError kinds (network, rateLimited, unavailable: a venue or database that may
 * come back) are retried, with exponential backoff baseDelayMs · 2^(attempt−1) capped at maxDelayMs, or the
 * server's Retry-After when longer — but never longer than maxRetryAfterMs (default 2 min): a venue asking for an hour,
 * or for years (which would overflow Node's timers and retry after 1 ms), gets the cap. Every other error fails the
 * stage at once: a configuration, schema, data-quality or guard-rail error gives the same answer on every attempt,
 * and retrying it would only delay the alert.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { timerSafeMs } from '../core/delay.ts';
import { AppError, isAppError } from '../core/errors.ts';
import type { RetrySettings } from '../config/pipeline.ts';

/** Why an attempt is retried: the error and the wait before the next attempt (ms). */
export interface RetryInfo {
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: AppError;
}

/** The longest wait a Retry-After imposes between stage attempts when the settings name none, ms (2 min). */
export const DEFAULT_STAGE_MAX_RETRY_AFTER_MS = 120_000;

/**
 * The wait before attempt `attempt + 1` after `attempt` failed, ms (deterministic: no jitter, one process per job):
 * the backoff, or the server's Retry-After when longer, capped at `maxRetryAfterMs`; never above what a timer honours.
 */
export function backoffMs(settings: RetrySettings, attempt: number, retryAfterMs?: number): number {
  const exp = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 1));
  const asked = retryAfterMs !== undefined && retryAfterMs > 0 ? Math.min(retryAfterMs, settings.maxRetryAfterMs ?? DEFAULT_STAGE_MAX_RETRY_AFTER_MS) : 0;
  return timerSafeMs(Math.max(exp, asked));
}

/** Wraps anything thrown as an AppError (non-AppErrors become `internal`, which is never retried). */
export function asAppError(e: unknown): AppError {
  return isAppError(e) ? e : new AppError('internal', `Unexpected error: ${(e as Error)?.stack ?? String(e)}`, { cause: e });
}

/** Thrown when the signal aborts a backoff wait: the stage is abandoned, not failed. */
export class AbortedError extends Error {
  constructor() {
    super('aborted');
    this.name = 'AbortedError';
  }
}

/**
 * Runs `work(attempt)` until it succeeds, fails with a non-retryable error, or `maxAttempts` attempts failed; returns
 * the result and the number of attempts. The last error is rethrown with `attempts` in its context. An abort during a
 * backoff wait throws {@link AbortedError}.
 */
export async function withRetries<T>(settings: RetrySettings, work: (attempt: number) => Promise<T>, opts: { signal?: AbortSignal; onRetry?: (info: RetryInfo) => void } = {}): Promise<{ value: T; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await work(attempt), attempts: attempt };
    } catch (e) {
      if (e instanceof AbortedError) throw e;
      const err = asAppError(e);
      if (!err.retryable || attempt >= settings.maxAttempts) {
        throw new AppError(err.kind, err.message, { context: { ...err.context, attempts: attempt }, cause: err, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) });
      }
      const delayMs = backoffMs(settings, attempt, err.retryAfterMs);
      opts.onRetry?.({ attempt, delayMs, error: err });
      if (opts.signal?.aborted) throw new AbortedError();
      try {
        await sleep(delayMs, undefined, opts.signal ? { signal: opts.signal } : {});
      } catch {
        throw new AbortedError();
      }
    }
  }
}
