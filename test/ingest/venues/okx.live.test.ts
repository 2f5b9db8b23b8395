import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/core/errors.ts';
import { rowProblem } from '../../../src/ingest/row-checks.ts';
import { createOkxSource } from '../../../src/ingest/venues/okx/client.ts';
import { collect, failure, q } from '../../helpers/source.ts';

// Live smoke test against www.okx.com: skipped unless LIQCAL_LIVE_TESTS is set, so normal runs never touch the network.
const H = 3_600_000;

describe.skipIf(!process.env.LIQCAL_LIVE_TESTS)('okx live (public v5 endpoints)', () => {
  it('serves 2024-08-05 as 24 sound, ascending, contiguous BTC-USDT-SWAP 1h bars', async () => {
    const from = Date.UTC(2024, 7, 5);
    const { rows: bars } = await collect(createOkxSource().fetch('bars', q('BTC-USDT-SWAP', '1h', from, from + 24 * H)));
    expect(bars.map((b) => b.openTimeMs)).toEqual(Array.from({ length: 24 }, (_, i) => from + i * H));
    for (const b of bars) expect(rowProblem('bars', b)).toBeUndefined();
    expect(Math.min(...bars.map((b) => b.low))).toBeLessThan(50_000);
  });

  it('aligns daily bars to UTC midnight', async () => {
    const from = Date.UTC(2024, 7, 1);
    const { rows: bars } = await collect(createOkxSource().fetch('bars', q('BTC-USDT', '1d', from, from + 3 * 24 * H)));
    expect(bars.map((b) => b.openTimeMs)).toEqual([from, from + 24 * H, from + 48 * H]);
  });

  it('serves the last week of funding, ascending (OKX keeps only about three months)', async () => {
    const to = Math.floor(Date.now() / (8 * H)) * 8 * H;
    const { rows } = await collect(createOkxSource().fetch('funding', q('BTC-USDT-SWAP', '1h', to - 7 * 24 * H, to)));
    expect(rows.length).toBeGreaterThanOrEqual(20);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.fundingTimeMs).toBeGreaterThan(rows[i - 1]!.fundingTimeMs);
    for (const f of rows) expect(rowProblem('funding', f)).toBeUndefined();
  });

  it('names an unknown instrument as badSymbol', async () => {
    const err = await failure(createOkxSource().fetch('bars', q('NOSUCH-USDT-SWAP', '1h', Date.UTC(2024, 7, 5), Date.UTC(2024, 7, 5, 1))));
    expect(isAppError(err, 'badSymbol')).toBe(true);
  });
});
