import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.ts';
import { MarketData } from '../../src/store/market-data.ts';
import { syntheticBars, tempDir } from '../helpers/tmp.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const key = { venue: 'binance-spot', symbol: 'BTCUSDT', interval: '1h' };
/** 2024-01-01T00:00:00Z: test bars start here (the store refuses times before 2009 and off the grid). */
const T0 = Date.UTC(2024, 0, 1);
const H = 3_600_000;

describe('MarketData', () => {
  it('upserts idempotently and moves the watermark with the page', () => {
    const md = new MarketData(openStore(tmp.path('md.db')));
    // 137 rows: two 50-row multi-value statements plus 37 single-row ones.
    const bars = syntheticBars(T0, 137);
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
    const bars = syntheticBars(T0, 20);
    md.writePage('bars', key, bars);
    expect(md.readRows('bars', key, { fromMs: T0 + H, toMs: T0 + 15 * H, limit: 3 }).map((b) => (b.openTimeMs - T0) / H)).toEqual([1, 2, 3]);
    expect(md.readRows('bars', key, { fromMs: T0 + H, toMs: T0 + 15 * H, limit: 3, newest: true }).map((b) => (b.openTimeMs - T0) / H)).toEqual([12, 13, 14]);
    md.store.close();
  });

  it('updates a restated bar in place', () => {
    const md = new MarketData(openStore(tmp.path('restate.db')));
    const bars = syntheticBars(T0, 3);
    md.writePage('bars', key, bars);
    const restated = { ...bars[1]!, volume: bars[1]!.volume * 1.003 };
    md.writePage('bars', key, [restated]);
    expect(md.readRows('bars', key)[1]).toEqual(restated);
    md.store.close();
  });

  it('reads columns, with NaN for fields the venue does not report', () => {
    const md = new MarketData(openStore(tmp.path('cols.db')));
    const bars = syntheticBars(T0, 4).map((b, i) => (i === 2 ? { ...b, trades: undefined, takerBuyBaseVolume: undefined } : b));
    md.writePage('bars', key, bars);
    const c = md.readBarColumns(key, { fromMs: T0 + H, toMs: T0 + 4 * H });
    expect(Array.from(c.openTimeMs)).toEqual([T0 + H, T0 + 2 * H, T0 + 3 * H]);
    expect(c.close[0]).toBe(bars[1]!.close);
    expect(Number.isNaN(c.trades[1]!)).toBe(true);
    expect(md.readRows('bars', key)[2]!.trades).toBeUndefined();
    md.store.close();
  });

  it('keeps funding, open interest and implied volatility as their own series', () => {
    const md = new MarketData(openStore(tmp.path('kinds.db')));
    md.writePage('funding', { venue: 'binance-usdm', symbol: 'BTCUSDT', interval: 'ignored' }, [{ fundingTimeMs: 1667462400016, rate: 0.0000044 }, { fundingTimeMs: 1667491200005, rate: 0.0000694, markPrice: 20100 }]);
    md.writePage('openInterest', { venue: 'binance-usdm', symbol: 'BTCUSDT', interval: '1h' }, [{ timeMs: T0, openInterest: 12, openInterestValue: 240000 }]);
    md.writePage('impliedVol', { venue: 'deribit', symbol: 'BTC', interval: '1d' }, [{ timeMs: T0, close: 56.76 }]);
    expect(md.readRows('funding', { venue: 'binance-usdm', symbol: 'BTCUSDT', interval: '1h' })).toEqual([
      { fundingTimeMs: 1667462400016, rate: 0.0000044, markPrice: undefined },
      { fundingTimeMs: 1667491200005, rate: 0.0000694, markPrice: 20100 },
    ]);
    expect(md.listSeries().map((s) => `${s.kind}:${s.venue}:${s.symbol}:${s.interval}:${s.rows}`)).toEqual([
      'funding:binance-usdm:BTCUSDT:event:2', 'openInterest:binance-usdm:BTCUSDT:1h:1', 'impliedVol:deribit:BTC:1d:1',
    ]);
    md.store.close();
  });

  describe('admits only storable rows, on every write (the one check all paths share)', () => {
    const now = T0 + 1000 * H;
    const clock = { now: () => now as never };
    const cases: [string, number, RegExp][] = [
      ['beyond any Date', 9007199251200000, /beyond any date/],
      ['microseconds', 1704067200000000, /looks like microseconds \(2024-01-01T00:00:00\.000Z/],
      ['nanoseconds', 1704067200000000000, /not an integer|looks like nanoseconds/],
      ['seconds', 1704067200, /looks like seconds \(2024-01-01T00:00:00\.000Z/],
      ['the year 3000', Date.UTC(3000, 0, 1), /after the clock plus one interval/],
      ['two intervals ahead of the clock', now + 2 * H, /after the clock plus one interval/],
      ['before 2009', Date.UTC(2008, 11, 31, 23), /before 2009-01-01/],
      ['off the grid (HH:30)', T0 + 30 * 60_000, /not on the 60-minute interval grid/],
      ['a fraction of a ms', T0 + 0.5, /not an integer/],
    ];
    for (const [what, t, message] of cases) {
      it(`refuses a bar at ${what}, writing nothing of the call`, () => {
        const md = new MarketData(openStore(tmp.path(`admit-${what.replace(/\W+/g, '-')}.db`)), { clock });
        const good = syntheticBars(T0 + 10 * H, 3);
        const bad = { ...good[1]!, openTimeMs: t };
        expect(() => md.writePage('bars', key, [good[0]!, bad, good[2]!])).toThrow(message);
        expect(() => md.upsertRows('bars', key, [bad])).toThrow(message);
        expect(md.store.db.prepare('SELECT COUNT(*) AS n FROM bars').get()).toEqual({ n: 0 });
        expect(md.watermark('bars', key)).toBeUndefined();
        md.store.close();
      });
    }

    it('accepts a bar one interval ahead of the clock, and funding off the hour grid', () => {
      const md = new MarketData(openStore(tmp.path('admit-edge.db')), { clock });
      expect(md.writePage('bars', key, syntheticBars(now + H, 1))).toBe(1);
      expect(md.writePage('funding', key, [{ fundingTimeMs: T0 + 7, rate: 0.0001 }])).toBe(1);
      md.store.close();
    });

    it('refuses rows under an interval it does not know', () => {
      const md = new MarketData(openStore(tmp.path('admit-iv.db')), { clock });
      expect(() => md.writePage('bars', { ...key, interval: '7h' }, syntheticBars(T0, 1))).toThrow(/not a bar interval liqcal knows/);
      md.store.close();
    });
  });

  it('reads never return, and data check reports, rows that an older writer stored around the check', () => {
    const md = new MarketData(openStore(tmp.path('poisoned.db')));
    const bars = syntheticBars(T0, 5);
    md.writePage('bars', key, bars);
    const raw = md.store.db.prepare("INSERT INTO bars (venue, symbol, interval, open_time_ms, open, high, low, close, volume) VALUES (?, ?, ?, ?, 1, 2, 0.5, 1.5, 10)");
    raw.run(key.venue, key.symbol, key.interval, 9007199251200000);
    raw.run(key.venue, key.symbol, key.interval, 1704067200000000);
    raw.run(key.venue, key.symbol, key.interval, T0 + 30 * 60_000);
    raw.run(key.venue, key.symbol, 'weird', T0);
    md.store.db.prepare("INSERT INTO bars (venue, symbol, interval, open_time_ms, open, high, low, close, volume) VALUES (?, ?, ?, ?, 1, 0.5, 2, 1.5, 10)").run(key.venue, key.symbol, key.interval, T0 + 10 * H);
    expect(md.readRows('bars', key).map((b) => b.openTimeMs)).toEqual([...bars.map((b) => b.openTimeMs), T0 + 10 * H]);
    expect(Array.from(md.readTimes('bars', key))).toEqual([...bars.map((b) => b.openTimeMs), T0 + 10 * H]);
    expect(md.readBarColumns(key).openTimeMs.length).toBe(6);
    expect(md.listSeries()).toEqual([{ kind: 'bars', ...key, rows: 6, firstMs: T0, lastMs: T0 + 10 * H }]);
    expect(md.countInvalidTimes()).toEqual([{ kind: 'bars', ...key, rows: 3 }, { kind: 'bars', ...key, interval: 'weird', rows: 1 }]);
    const found = md.findInvalidRows();
    expect(found.map((s) => [s.interval, s.invalid])).toEqual([['1h', 4], ['weird', 1]]);
    expect(found[0]!.examples.map((e) => e.field)).toEqual(['openTimeMs', 'high', 'openTimeMs', 'openTimeMs']);
    md.deleteInvalidRows();
    expect(md.findInvalidRows()).toEqual([]);
    expect(md.readRows('bars', key)).toEqual(bars);
    md.store.close();
  });
});
