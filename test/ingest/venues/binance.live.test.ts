import { describe, expect, it } from 'vitest';
import { epochMs } from '../../../src/core/time.ts';
import { createBinanceSource } from '../../../src/ingest/venues/binance/client.ts';
import { collect, failure } from '../../helpers/source.ts';

// Live smoke tests against Binance's public endpoints: skipped unless LIQCAL_LIVE_TESTS is set.
describe.skipIf(!process.env.LIQCAL_LIVE_TESTS)('binance live', () => {
  const range = { interval: '1h' as const, fromMs: epochMs(Date.parse('2024-08-05T00:00:00Z')), toMs: epochMs(Date.parse('2024-08-06T00:00:00Z')) };

  it('spot klines of the 2024-08-05 crash day', async () => {
    const { rows } = await collect(createBinanceSource({ market: 'spot' }).fetch('bars', { symbol: 'BTCUSDT', ...range }));
    expect(rows).toHaveLength(24);
    expect(Math.min(...rows.map((b) => b.low))).toBe(49000);
  });

  it('USDT-M klines and funding', async () => {
    const src = createBinanceSource({ market: 'usdm' });
    expect((await collect(src.fetch('bars', { symbol: 'BTCUSDT', ...range }))).rows).toHaveLength(24);
    expect((await collect(src.fetch('funding', { symbol: 'BTCUSDT', ...range }))).rows).toHaveLength(3);
  });

  it('an unknown symbol is badSymbol', async () => {
    expect((await failure(createBinanceSource({ market: 'spot' }).fetch('bars', { symbol: 'NOPENOPE', ...range }))).kind).toBe('badSymbol');
  });
});
