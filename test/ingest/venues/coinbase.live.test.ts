import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import { epochMs, floorToInterval } from '../../../src/core/time.ts';
import { checkPage } from '../../../src/ingest/row-checks.ts';
import type { Bar } from '../../../src/ingest/types.ts';
import { createCoinbaseSource } from '../../../src/ingest/venues/coinbase/client.ts';

// Live smoke test against api.exchange.coinbase.com: run with LIQCAL_LIVE_TESTS=1. Checks shape, order and soundness, not values.
const HOUR = 3_600_000;

async function all(it: AsyncIterable<readonly Bar[]>): Promise<Bar[]> {
  const rows: Bar[] = [];
  for await (const page of it) rows.push(...page);
  return rows;
}

describe.skipIf(!process.env.LIQCAL_LIVE_TESTS)('coinbase live', () => {
  const toMs = floorToInterval(Date.now(), '1h');
  const range = (symbol: string) => ({ symbol, interval: '1h' as const, fromMs: epochMs(toMs - 6 * HOUR), toMs });

  it('serves sound, ascending BTC-USD bars for the last six hours', async () => {
    const rows = await all(createCoinbaseSource().fetch('bars', range('BTC-USD')));
    expect(rows.length).toBeGreaterThan(0);
    expect(checkPage('bars', rows, { where: 'coinbase live', fromMs: toMs - 6 * HOUR, toMs }).rows).toHaveLength(rows.length);
  });

  it('names an unknown product as badSymbol', async () => {
    const err = await all(createCoinbaseSource().fetch('bars', range('NOPE-USD'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).kind).toBe('badSymbol');
  });
});
