import { describe, expect, it } from 'vitest';
import { epochMs, floorToInterval } from '../../../src/core/time.ts';
import { checkPage } from '../../../src/ingest/row-checks.ts';
import { createDeribitSource } from '../../../src/ingest/venues/deribit/client.ts';
import { collect, failure } from '../../helpers/source.ts';

// Live smoke test against www.deribit.com: run with LIQCAL_LIVE_TESTS=1. Checks shape, order and soundness, not values.
const HOUR = 3_600_000;

describe.skipIf(!process.env.LIQCAL_LIVE_TESTS)('deribit live', () => {
  const toMs = floorToInterval(Date.now(), '1h');
  const range = (symbol: string) => ({ symbol, interval: '1h' as const, fromMs: epochMs(toMs - 6 * HOUR), toMs });

  it('serves sound, ascending bars, funding and DVOL for the last six hours', async () => {
    const src = createDeribitSource();
    for (const [kind, symbol] of [['bars', 'BTC-PERPETUAL'], ['funding', 'BTC-PERPETUAL'], ['impliedVol', 'BTC']] as const) {
      const { rows } = await collect(src.fetch(kind, range(symbol)));
      expect(rows.length, kind).toBeGreaterThan(0);
      expect(checkPage(kind, rows, { where: `deribit live ${kind}`, fromMs: toMs - 6 * HOUR, toMs }).rows).toHaveLength(rows.length);
    }
  });

  it('names an unknown instrument as badSymbol', async () => {
    const err = await failure(createDeribitSource().fetch('bars', range('NOPE-PERPETUAL')));
    expect(err.kind).toBe('badSymbol');
  });
});
