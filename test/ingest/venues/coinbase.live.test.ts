import { describe, expect, it } from 'vitest';
import { epochMs, floorToInterval } from '../../../src/core/time.ts';
import { checkPage } from '../../../src/ingest/row-checks.ts';
import { createCoinbaseSource } from '../../../src/ingest/venues/coinbase/client.ts';
import { collect, failure } from '../../helpers/source.ts';

// Live smoke test against api.exchange.coinbase.com: run with LIQCAL_LIVE_TESTS=1. Checks shape, order and soundness, not values.
const HOUR = 3_600_000;

describe.skipIf(!process.env.LIQCAL_LIVE_TESTS)('coinbase live', () => {
  const toMs = floorToInterval(Date.now(), '1h');
  const range = (symbol: string) => ({ symbol, interval: '1h' as const, fromMs: epochMs(toMs - 6 * HOUR), toMs });

  it('serves sound, ascending BTC-USD bars for the last six hours', async () => {
    const { rows } = await collect(createCoinbaseSource().fetch('bars', range('BTC-USD')));
    expect(rows.length).toBeGreaterThan(0);
    expect(checkPage('bars', rows, { where: 'coinbase live', fromMs: toMs - 6 * HOUR, toMs }).rows).toHaveLength(rows.length);
  });

  it('names an unknown product as badSymbol', async () => {
    const err = await failure(createCoinbaseSource().fetch('bars', range('NOPE-USD')));
    expect(err.kind).toBe('badSymbol');
  });
});
