import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.ts';
import { AbortedError, backoffMs, withRetries } from '../../src/pipeline/retry.ts';

const settings = { maxAttempts: 4, baseDelayMs: 0, maxDelayMs: 0 };

describe('backoffMs', () => {
  it('doubles from the base, is capped, and honours a longer Retry-After', () => {
    const s = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 350 };
    expect([1, 2, 3, 4].map((a) => backoffMs(s, a))).toEqual([100, 200, 350, 350]);
    expect(backoffMs(s, 1, 5_000)).toBe(5_000);
    fc.assert(fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 20 }), (base, extra, attempt) => {
      const st = { maxAttempts: 10, baseDelayMs: base, maxDelayMs: base + extra };
      const d = backoffMs(st, attempt);
      expect(d).toBeGreaterThanOrEqual(Math.min(base, st.maxDelayMs));
      expect(d).toBeLessThanOrEqual(st.maxDelayMs);
      expect(backoffMs(st, attempt + 1)).toBeGreaterThanOrEqual(d);
    }));
  });
});

describe('withRetries', () => {
  it('retries the retryable kinds until success and counts the attempts', async () => {
    const kinds = ['network', 'rateLimited', 'unavailable'] as const;
    let n = 0;
    const out = await withRetries(settings, async () => {
      if (n < 3) throw new AppError(kinds[n++]!, 'transient');
      return 'ok';
    });
    expect(out).toEqual({ value: 'ok', attempts: 4 });
  });

  it('fails at once on a final error, and after maxAttempts on a retryable one, with the attempts in the context', async () => {
    let calls = 0;
    const final = await withRetries(settings, async () => { calls++; throw new AppError('dataQuality', 'bad data'); }).catch((e: unknown) => e as AppError);
    expect(calls).toBe(1);
    expect(final).toMatchObject({ kind: 'dataQuality', message: 'bad data', context: { attempts: 1 } });
    calls = 0;
    const transient = await withRetries(settings, async () => { calls++; throw new AppError('network', 'down'); }).catch((e: unknown) => e as AppError);
    expect(calls).toBe(4);
    expect(transient).toMatchObject({ kind: 'network', context: { attempts: 4 } });
    const plain = await withRetries(settings, async () => { throw new TypeError('bug'); }).catch((e: unknown) => e as AppError);
    expect(plain).toMatchObject({ kind: 'internal', context: { attempts: 1 } });
  });

  it('stops waiting when aborted during the backoff', async () => {
    const ac = new AbortController();
    const p = withRetries({ maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 }, async () => { throw new AppError('network', 'down'); }, { signal: ac.signal, onRetry: () => setImmediate(() => ac.abort()) });
    await expect(p).rejects.toBeInstanceOf(AbortedError);
  });
});
