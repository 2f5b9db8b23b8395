import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/core/errors.ts';
import { rowProblem } from '../../../src/ingest/row-checks.ts';
import { createBybitSource } from '../../../src/ingest/venues/bybit/client.ts';
import { collect, failure, q } from '../../helpers/source.ts';

// Live smoke test against api.bybit.com: skipped unless LIQCAL_LIVE_TESTS is set, so normal runs never touch the network.
const H = 3_600_000;

describe.skipIf(!process.env.LIQCAL_LIVE_TESTS)('bybit live (public v5 endpoints)', () => {
  it('serves 2024-08-05 as 24 sound, ascending, contiguous BTCUSDT 1h bars', async () => {
    const from = Date.UTC(2024, 7, 5);
    const { rows: bars } = await collect(createBybitSource().fetch('bars', q('BTCUSDT', '1h', from, from + 24 * H)));
    expect(bars.map((b) => b.openTimeMs)).toEqual(Array.from({ length: 24 }, (_, i) => from + i * H));
    for (const b of bars) expect(rowProblem('bars', b)).toBeUndefined();
    expect(Math.min(...bars.map((b) => b.low))).toBeLessThan(50_000);
  });

  it('serves 2024-08-01..04 funding as nine 8-hourly events, ascending', async () => {
    const from = Date.UTC(2024, 7, 1);
    const { rows } = await collect(createBybitSource().fetch('funding', q('BTCUSDT', '1h', from, from + 72 * H)));
    expect(rows.map((f) => f.fundingTimeMs)).toEqual(Array.from({ length: 9 }, (_, i) => from + i * 8 * H));
    for (const f of rows) expect(rowProblem('funding', f)).toBeUndefined();
  });

  it('names an unknown symbol as badSymbol', async () => {
    const err = await failure(createBybitSource().fetch('bars', q('NOSUCHUSDT', '1h', Date.UTC(2024, 7, 5), Date.UTC(2024, 7, 5, 1))));
    expect(isAppError(err, 'badSymbol')).toBe(true);
  });
});
