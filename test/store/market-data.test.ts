import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.ts';
import { MarketData } from '../../src/store/market-data.ts';
import { syntheticBars, tempDir } from '../helpers/tmp.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const key = { venue: 'binance-spot', symbol: 'BTCUSDT', interval: '1h' };

describe('MarketData', () => {
  it('upserts idempotently and moves the watermark with the page', () => {
    const md = new MarketData(openStore(tmp.path('md.db')));
    // 137 rows: two 50-row multi-value statements plus 37 single-row ones.
    const bars = syntheticBars(1_700_000_000_000, 137);
    expect(md.writePage('bars', key, bars)).toBe(137);
    expect(md.writePage('bars', key, bars.slice(10, 30))).toBe(20);
    expect(md.readRows('bars', key)).toEqual(bars);
    expect(md.watermark('bars', key)).toBe(bars[136]!.openTimeMs);
    // The watermark never moves backwards when an older page is rewritten.
    md.writePage('bars', key, bars.slice(0, 5));
    expect(md.watermark('bars', key)).toBe(bars[136]!.openTimeMs);
    expect(md.listSeries()).toEqual([{ kind: 'bars', ...key, rows: 137, firstMs: bars[0]!.openTimeMs, lastMs: bars[136]!.openTimeMs }]);
    md.store.close();
  });

  it('reads the first or the newest `limit` rows of a range, ascending either way', () => {
    const md = new MarketData(openStore(tmp.path('limit.db')));
    const bars = syntheticBars(0, 20);
    md.writePage('bars', key, bars);
    expect(md.readRows('bars', key, { fromMs: 3_600_000, toMs: 15 * 3_600_000, limit: 3 }).map((b) => b.openTimeMs / 3_600_000)).toEqual([1, 2, 3]);
    expect(md.readRows('bars', key, { fromMs: 3_600_000, toMs: 15 * 3_600_000, limit: 3, newest: true }).map((b) => b.openTimeMs / 3_600_000)).toEqual([12, 13, 14]);
    md.store.close();
  });

  it('updates a restated bar in place', () => {
    const md = new MarketData(openStore(tmp.path('restate.db')));
    const bars = syntheticBars(0, 3);
    md.writePage('bars', key, bars);
    const restated = { ...bars[1]!, volume: bars[1]!.volume * 1.003 };
    md.writePage('bars', key, [restated]);
    expect(md.readRows('bars', key)[1]).toEqual(restated);
    md.store.close();
  });

  it('reads columns, with NaN for fields the venue does not report', () => {
    const md = new MarketData(openStore(tmp.path('cols.db')));
    const bars = syntheticBars(0, 4).map((b, i) => (i === 2 ? { ...b, trades: undefined, takerBuyBaseVolume: undefined } : b));
    md.writePage('bars', key, bars);
    const c = md.readBarColumns(key, { fromMs: 3_600_000, toMs: 4 * 3_600_000 });
    expect(Array.from(c.openTimeMs)).toEqual([3_600_000, 7_200_000, 10_800_000]);
    expect(c.close[0]).toBe(bars[1]!.close);
    expect(Number.isNaN(c.trades[1]!)).toBe(true);
    expect(md.readRows('bars', key)[2]!.trades).toBeUndefined();
    md.store.close();
  });

  it('keeps funding, open interest and implied volatility as their own series', () => {
    const md = new MarketData(openStore(tmp.path('kinds.db')));
    md.writePage('funding', { venue: 'binance-usdm', symbol: 'BTCUSDT', interval: 'ignored' }, [{ fundingTimeMs: 1667462400016, rate: 0.0000044 }, { fundingTimeMs: 1667491200005, rate: 0.0000694, markPrice: 20100 }]);
    md.writePage('openInterest', { venue: 'binance-usdm', symbol: 'BTCUSDT', interval: '1h' }, [{ timeMs: 0, openInterest: 12, openInterestValue: 240000 }]);
    md.writePage('impliedVol', { venue: 'deribit', symbol: 'BTC', interval: '1d' }, [{ timeMs: 0, close: 56.76 }]);
    expect(md.readRows('funding', { venue: 'binance-usdm', symbol: 'BTCUSDT', interval: '1h' })).toEqual([
      { fundingTimeMs: 1667462400016, rate: 0.0000044, markPrice: undefined },
      { fundingTimeMs: 1667491200005, rate: 0.0000694, markPrice: 20100 },
    ]);
    expect(md.listSeries().map((s) => `${s.kind}:${s.venue}:${s.symbol}:${s.interval}:${s.rows}`)).toEqual([
      'funding:binance-usdm:BTCUSDT:event:2', 'openInterest:binance-usdm:BTCUSDT:1h:1', 'impliedVol:deribit:BTC:1d:1',
    ]);
    md.store.close();
  });
});
