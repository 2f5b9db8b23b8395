import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useTempStore } from '../helpers/tmp.ts';
import { isAppError } from '../../src/core/errors.ts';
import { median, referencePrice, referencePriceFromStore, type Quote } from '../../src/ingest/aggregate.ts';
import type { Bar } from '../../src/ingest/types.ts';

const NOW = Date.parse('2025-10-10T21:00:00Z');
const q = (source: string, price: number, ageS = 1): Quote => ({ source, price, timeMs: NOW - ageS * 1000 });
const opts = { nowMs: NOW, maxAgeMs: 120_000 };

describe('referencePrice', () => {
  it('takes the median of fresh sources', () => {
    expect(referencePrice([q('binance', 101), q('okx', 100), q('bybit', 102)], opts)).toEqual({
      price: 101, median: 101, used: ['binance', 'okx', 'bybit'], excluded: [], ok: true,
    });
  });

  it('averages the two middle values for an even count, and handles ties', () => {
    expect(referencePrice([q('a', 100), q('b', 101)], opts).price).toBe(100.5);
    const tied = referencePrice([q('a', 100), q('b', 100), q('c', 100), q('d', 130)], opts);
    expect(tied).toMatchObject({ price: 100, median: 100, used: ['a', 'b', 'c'], ok: true });
    expect(tied.excluded.map((x) => [x.source, x.reason])).toEqual([['d', 'outlier']]);
  });

  it('excludes a stale source with its age in the reason', () => {
    const r = referencePrice([q('binance', 100), q('okx', 100.2, 312), q('bybit', 100.1)], opts);
    expect(r).toMatchObject({ price: 100.05, used: ['binance', 'bybit'], ok: true });
    expect(r.excluded).toEqual([{ source: 'okx', reason: 'stale', detail: expect.stringContaining('okx last update 312 s ago > max age 120 s') as unknown as string }]);
  });

  it('treats a quote exactly at the max age as fresh, and one stamped in the future (clock skew) as fresh', () => {
    expect(referencePrice([q('a', 100, 120)], opts).used).toEqual(['a']);
    expect(referencePrice([q('a', 100, 120.001)], opts).used).toEqual([]);
    expect(referencePrice([q('a', 100, -5)], opts).used).toEqual(['a']);
  });

  it('rejects an outlier against the first-pass median, then recomputes the median without it', () => {
    const r = referencePrice([q('binance', 100), q('okx', 100.5), q('bybit', 99.8), q('hyperliquid', 110)], opts);
    expect(r.median).toBe(100.25);
    expect(r).toMatchObject({ price: 100, used: ['binance', 'okx', 'bybit'], ok: true });
    expect(r.excluded).toHaveLength(1);
    expect(r.excluded[0]).toMatchObject({ source: 'hyperliquid', reason: 'outlier' });
    expect(r.excluded[0]!.detail).toMatch(/hyperliquid price 110 is 9\.73 % from the median 100\.25 of 4 fresh sources > max deviation 2\.00 %/);
    // A wider tolerance keeps it.
    expect(referencePrice([q('binance', 100), q('okx', 100.5), q('bybit', 99.8), q('hyperliquid', 110)], { ...opts, maxDeviation: 0.1 }).used).toHaveLength(4);
  });

  it('excludes non-positive and non-finite prices and times, each with its reason', () => {
    const r = referencePrice([q('a', 0), q('b', -3), q('c', Number.NaN), q('d', Number.POSITIVE_INFINITY), { source: 'e', price: 100, timeMs: Number.NaN }, q('f', 100)], opts);
    expect(r).toMatchObject({ price: 100, used: ['f'], ok: true });
    expect(r.excluded.map((x) => [x.source, x.reason])).toEqual([['a', 'nonPositive'], ['b', 'nonPositive'], ['c', 'notFinite'], ['d', 'notFinite'], ['e', 'notFinite']]);
    expect(r.excluded[2]!.detail).toBe('c price NaN is not a finite number');
  });

  it('is not ok when every source is stale, or none is given', () => {
    const r = referencePrice([q('a', 100, 500), q('b', 100, 600)], opts);
    expect(r).toMatchObject({ price: undefined, median: undefined, used: [], ok: false });
    expect(r.excluded.map((x) => x.reason)).toEqual(['stale', 'stale']);
    expect(referencePrice([], opts)).toEqual({ price: undefined, median: undefined, used: [], excluded: [], ok: false });
  });

  it('is not ok when two sources disagree with nothing to break the tie', () => {
    const r = referencePrice([q('a', 100), q('b', 110)], opts);
    expect(r).toMatchObject({ price: undefined, median: 105, used: [], ok: false });
    expect(r.excluded.map((x) => x.reason)).toEqual(['outlier', 'outlier']);
  });

  it('reports a price but ok=false below minSources', () => {
    const r = referencePrice([q('a', 100), q('b', 100.1), q('c', 150)], { ...opts, minSources: 3 });
    expect(r).toMatchObject({ price: 100.05, used: ['a', 'b'], ok: false });
  });

  it('refuses invalid options with a config error', () => {
    for (const bad of [{ maxAgeMs: -1 }, { maxDeviation: 0 }, { maxDeviation: Number.NaN }, { minSources: 0 }, { minSources: 1.5 }, { nowMs: Number.NaN }]) {
      let err: unknown;
      try { referencePrice([q('a', 1)], { ...opts, ...bad }); } catch (e) { err = e; }
      expect(isAppError(err, 'config'), JSON.stringify(bad)).toBe(true);
    }
  });

  it('does not depend on the order of the quotes, and the price lies within the used quotes', () => {
    const quote = fc.record({ source: fc.string({ minLength: 1, maxLength: 4 }), price: fc.double({ min: 90, max: 110, noNaN: true }), ageS: fc.integer({ min: 0, max: 200 }) });
    fc.assert(fc.property(fc.array(quote, { maxLength: 9 }), fc.integer(), (raw, seed) => {
      const quotes = raw.map((x) => q(x.source, x.price, x.ageS));
      const shuffled = [...quotes].sort((a, b) => ((a.price * 1e6 + seed) % 7) - ((b.price * 1e6 + seed) % 7));
      const a = referencePrice(quotes, opts);
      const b = referencePrice(shuffled, opts);
      expect(b.price).toBe(a.price);
      expect(b.used.length).toBe(a.used.length);
      if (a.price !== undefined) {
        const used = quotes.filter((x) => NOW - x.timeMs <= opts.maxAgeMs && Math.abs(x.price - a.median!) / a.median! <= 0.02).map((x) => x.price);
        expect(a.price).toBeGreaterThanOrEqual(Math.min(...used));
        expect(a.price).toBeLessThanOrEqual(Math.max(...used));
      }
    }), { numRuns: 300 });
  });

  it('median sorts numerically', () => {
    expect(median([10, 9, 100])).toBe(10);
    expect(median([3])).toBe(3);
    expect(() => median([])).toThrow();
  });
});

describe('referencePriceFromStore', () => {
  const ctx = useTempStore('liqcal-ref-');

  const H = 3_600_000;
  const T = Date.parse('2025-10-10T20:00:00Z');
  const bar = (openTimeMs: number, close: number): Bar => ({ openTimeMs, open: close, high: close, low: close, close, volume: 1 });

  it('uses the close of the latest completed bar per source, rejecting stale and outlying ones', () => {
    ctx.md.upsertRows('bars', { venue: 'binance', symbol: 'BTCUSDT', interval: '1h' }, [bar(T - 2 * H, 100), bar(T - H, 110), bar(T, 999)]);
    ctx.md.upsertRows('bars', { venue: 'okx', symbol: 'BTC-USDT', interval: '1h' }, [bar(T - H, 110.5)]);
    ctx.md.upsertRows('bars', { venue: 'bybit', symbol: 'BTCUSDT', interval: '1h' }, [bar(T - H, 130)]);
    ctx.md.upsertRows('bars', { venue: 'coinbase', symbol: 'BTC-USD', interval: '1h' }, [bar(T - 5 * H, 109)]);
    ctx.md.upsertRows('bars', { venue: 'kraken', symbol: 'XBTUSD', interval: '1h' }, [bar(T - H, 109.8)]);
    const sources = [
      { venue: 'binance', symbol: 'BTCUSDT', interval: '1h' },
      { venue: 'okx', symbol: 'BTC-USDT', interval: '1h' },
      { venue: 'bybit', symbol: 'BTCUSDT', interval: '1h' },
      { venue: 'coinbase', symbol: 'BTC-USD', interval: '1h' },
      { venue: 'kraken', symbol: 'XBTUSD', interval: '1h' },
      { venue: 'nobody', symbol: 'BTC', interval: '1h' },
    ];
    // At T + 30 min the T bar is still open: its close (999) must not be used.
    const r = referencePriceFromStore(ctx.md, { sources, atMs: T + 30 * 60_000, maxAgeMs: 2 * H });
    expect(r.quotes.find((x) => x.source === 'binance:BTCUSDT:1h')).toEqual({ source: 'binance:BTCUSDT:1h', price: 110, timeMs: T, openTimeMs: T - H });
    expect(r).toMatchObject({ price: 110, used: ['binance:BTCUSDT:1h', 'okx:BTC-USDT:1h', 'kraken:XBTUSD:1h'], ok: true, atMs: T + 30 * 60_000 });
    expect(r.excluded.map((x) => [x.source, x.reason])).toEqual([
      ['coinbase:BTC-USD:1h', 'stale'],
      ['nobody:BTC:1h', 'stale'],
      ['bybit:BTCUSDT:1h', 'outlier'],
    ]);
    expect(r.excluded[0]!.detail).toMatch(/coinbase:BTC-USD:1h has no bar that closed between 2025-10-10T18:30:00.000Z and 2025-10-10T20:30:00.000Z \(max age 7200 s\)/);
    // Once the T bar has closed it is used.
    expect(referencePriceFromStore(ctx.md, { sources: sources.slice(0, 1), atMs: T + H, maxAgeMs: 2 * H }).price).toBe(999);
  });

  it('counts age from the bar close: a bar that closed exactly maxAge ago is still fresh', () => {
    ctx.md.upsertRows('bars', { venue: 'binance', symbol: 'BTCUSDT', interval: '1h' }, [bar(T, 100)]);
    const src = [{ venue: 'binance', symbol: 'BTCUSDT', interval: '1h' }];
    expect(referencePriceFromStore(ctx.md, { sources: src, atMs: T + H + 600_000, maxAgeMs: 600_000 }).ok).toBe(true);
    expect(referencePriceFromStore(ctx.md, { sources: src, atMs: T + H + 600_001, maxAgeMs: 600_000 }).ok).toBe(false);
  });

  it('refuses an unknown interval', () => {
    expect(() => referencePriceFromStore(ctx.md, { sources: [{ venue: 'a', symbol: 'b', interval: '7h' }], atMs: T, maxAgeMs: H })).toThrow(/not a bar interval/);
  });
});
