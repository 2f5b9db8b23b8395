import { describe, expect, it } from 'vitest';
import { epochMs, floorToInterval } from '../../../src/core/time.ts';
import { checkPage } from '../../../src/ingest/row-checks.ts';
import { createHyperliquidSource } from '../../../src/ingest/venues/hyperliquid/client.ts';
import { collect, failure } from '../../helpers/source.ts';

// Live smoke test against api.hyperliquid.xyz: run with LIQCAL_LIVE_TESTS=1. The client-side limit
// (~0.19 requests/s) makes this take ~15 s. Checks shape, order and soundness, not values.
const HOUR = 3_600_000;

describe.skipIf(!process.env.LIQCAL_LIVE_TESTS)('hyperliquid live', () => {
  const toMs = floorToInterval(Date.now(), '1h');
  const range = (symbol: string) => ({ symbol, interval: '1h' as const, fromMs: epochMs(toMs - 6 * HOUR), toMs });

  it('serves sound, ascending BTC bars and funding for the last six hours, and refuses an unknown coin', async () => {
    const src = createHyperliquidSource();
    for (const kind of ['bars', 'funding'] as const) {
      const { rows } = await collect(src.fetch(kind, range('BTC')));
      expect(rows.length, kind).toBeGreaterThan(0);
      expect(checkPage(kind, rows, { where: `hyperliquid live ${kind}`, fromMs: toMs - 6 * HOUR, toMs }).rows).toHaveLength(rows.length);
    }
    const err = await failure(src.fetch('bars', range('NOPE-NOT-A-COIN')));
    expect(err.kind).toBe('badSymbol');
  });
});
