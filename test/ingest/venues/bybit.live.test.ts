import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/core/errors.ts';
import { epochMs } from '../../../src/core/time.ts';
import { rowProblem } from '../../../src/ingest/row-checks.ts';
import type { Bar, FundingRow } from '../../../src/ingest/types.ts';
import { createBybitSource } from '../../../src/ingest/venues/bybit/client.ts';

// Live smoke test against api.bybit.com: skipped unless LIQCAL_LIVE_TESTS is set, so normal runs never touch the network.
const H = 3_600_000;

describe.skipIf(!process.env.LIQCAL_LIVE_TESTS)('bybit live (public v5 endpoints)', () => {
  it('serves 2024-08-05 as 24 sound, ascending, contiguous BTCUSDT 1h bars', async () => {
    const from = Date.UTC(2024, 7, 5);
    const bars: Bar[] = [];
    for await (const page of createBybitSource().fetch('bars', { symbol: 'BTCUSDT', interval: '1h', fromMs: epochMs(from), toMs: epochMs(from + 24 * H) })) bars.push(...page);
    expect(bars.map((b) => b.openTimeMs)).toEqual(Array.from({ length: 24 }, (_, i) => from + i * H));
    for (const b of bars) expect(rowProblem('bars', b)).toBeUndefined();
    expect(Math.min(...bars.map((b) => b.low))).toBeLessThan(50_000);
  });

  it('serves 2024-08-01..04 funding as nine 8-hourly events, ascending', async () => {
    const from = Date.UTC(2024, 7, 1);
    const rows: FundingRow[] = [];
    for await (const page of createBybitSource().fetch('funding', { symbol: 'BTCUSDT', interval: '1h', fromMs: epochMs(from), toMs: epochMs(from + 72 * H) })) rows.push(...page);
    expect(rows.map((f) => f.fundingTimeMs)).toEqual(Array.from({ length: 9 }, (_, i) => from + i * 8 * H));
    for (const f of rows) expect(rowProblem('funding', f)).toBeUndefined();
  });

  it('names an unknown symbol as badSymbol', async () => {
    const err = await (async () => {
      for await (const _ of createBybitSource().fetch('bars', { symbol: 'NOSUCHUSDT', interval: '1h', fromMs: epochMs(Date.UTC(2024, 7, 5)), toMs: epochMs(Date.UTC(2024, 7, 5, 1)) })) void _;
    })().catch((e: unknown) => e);
    expect(isAppError(err, 'badSymbol')).toBe(true);
  });
});
