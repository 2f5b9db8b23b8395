import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/core/errors.ts';
import { createRng } from '../../../src/core/rng.ts';
import { epochMs, fixedClock } from '../../../src/core/time.ts';
import { createReplayProvider, splitSymbol } from '../../../src/ingest/replay/replay.ts';
import { startVenueServer, type VenueServer } from '../../../src/ingest/replay/wire-server.ts';
import type { Bar, DataKind, FundingRow, MarketDataSource, OpenInterestRow, RangeQuery, RowOf } from '../../../src/ingest/types.ts';
import { createBinanceSource } from '../../../src/ingest/venues/binance/client.ts';
import { openStore, type Store } from '../../../src/store/db.ts';
import { MarketData } from '../../../src/store/market-data.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
const N_BARS = 2_345; // three spot pages

async function drain<K extends DataKind>(src: MarketDataSource, kind: K, q: RangeQuery): Promise<RowOf<K>[]> {
  const out: RowOf<K>[] = [];
  for await (const page of src.fetch(kind, q)) out.push(...page);
  return out;
}

/** Bars with Binance-like decimals, plus a few values that eight decimals cannot carry (they must survive too). */
function makeBars(): Bar[] {
  const rng = createRng(11);
  let p = 40_000;
  return Array.from({ length: N_BARS }, (_, i) => {
    const open = p;
    p = Math.round(p * Math.exp(0.01 * rng.normal()) * 100) / 100;
    const high = Math.max(open, p) + Math.round(rng.next() * 5000) / 100;
    const low = Math.min(open, p) - Math.round(rng.next() * 5000) / 100;
    const volume = i === 7 ? 0.1 + 0.2 : Math.round(rng.next() * 1e8) / 1e5;
    return { openTimeMs: T0 + i * H, open, high, low, close: p, volume, quoteVolume: i === 8 ? 1 / 3 : Math.round(volume * p * 1e4) / 1e4, trades: 1 + rng.int(1e5), takerBuyBaseVolume: Math.round(volume * 0.4 * 1e5) / 1e5 };
  });
}
const funding: FundingRow[] = Array.from({ length: 300 }, (_, i) => ({ fundingTimeMs: T0 + i * 8 * H, rate: i % 7 === 0 ? -0.00012345 : 0.0001, markPrice: 40_000 + i / 100 }));
const openInterest: OpenInterestRow[] = Array.from({ length: 700 }, (_, i) => ({ timeMs: T0 + (i + 1) * H, openInterest: 80_000 + i * 0.125, openInterestValue: 3.2e9 + i * 1000.5 }));

describe('replay of a liqcal store through the Binance wire format', () => {
  let dir: string;
  let store: Store;
  let server: VenueServer;
  const bars = makeBars();
  const clock = fixedClock(T0 + 10_000 * H);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'liqcal-replay-'));
    const writer = openStore(join(dir, 'a.db'));
    const md = new MarketData(writer);
    const key = { venue: 'binance-usdm', symbol: 'BTCUSDT', interval: '1h' };
    md.writePage('bars', key, bars);
    md.writePage('bars', { ...key, interval: '4h' }, bars.filter((b) => b.openTimeMs % (4 * H) === 0).slice(0, 10));
    md.writePage('funding', key, funding);
    md.writePage('openInterest', key, openInterest);
    md.writePage('bars', { ...key, symbol: 'ETHUSDT' }, bars.slice(0, 5).map((b) => ({ ...b, open: b.open / 20, high: b.high / 20, low: b.low / 20, close: b.close / 20 })));
    writer.close();
    // Served from a read-only handle, as `liqcal serve-venue replay` opens it.
    store = openStore(join(dir, 'a.db'), { readonly: true });
    server = await startVenueServer({ provider: createReplayProvider(store, { clock }) });
  });
  afterAll(async () => {
    await server.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the stored symbols and intervals', async () => {
    const info = await (await fetch(`${server.url}/api/v3/exchangeInfo`)).json() as { symbols: { symbol: string; baseAsset: string; quoteAsset: string }[] };
    expect(info.symbols.map((s) => [s.symbol, s.baseAsset, s.quoteAsset])).toEqual([['BTCUSDT', 'BTC', 'USDT'], ['ETHUSDT', 'ETH', 'USDT']]);
    const res = await fetch(`${server.url}/api/v3/klines?symbol=BTCUSDT&interval=15m`);
    expect(await res.json()).toEqual({ code: -1120, msg: 'Invalid interval. This offline venue serves BTCUSDT klines in 1h, 4h.' });
  });

  it('gives back identical bars over several pages (spot and USDT-M paths)', async () => {
    for (const market of ['spot', 'usdm'] as const) {
      const src = createBinanceSource({ market, baseUrl: server.url });
      const got = await drain(src, 'bars', { symbol: 'BTCUSDT', interval: '1h', fromMs: epochMs(T0), toMs: epochMs(T0 + 5_000 * H) });
      expect(got).toEqual(bars);
      expect(src.http.requests).toBe(market === 'spot' ? 3 : 2);
    }
    const four = await drain(createBinanceSource({ market: 'spot', baseUrl: server.url }), 'bars', { symbol: 'BTCUSDT', interval: '4h', fromMs: epochMs(T0), toMs: epochMs(T0 + 5_000 * H) });
    expect(four).toHaveLength(10);
  });

  it('gives back identical funding and open interest', async () => {
    const src = createBinanceSource({ market: 'usdm', baseUrl: server.url });
    expect(await drain(src, 'funding', { symbol: 'BTCUSDT', interval: '1h', fromMs: epochMs(T0), toMs: epochMs(T0 + 5_000 * H) })).toEqual(funding);
    expect(await drain(src, 'openInterest', { symbol: 'BTCUSDT', interval: '1h', fromMs: epochMs(T0), toMs: epochMs(T0 + 5_000 * H) })).toEqual(openInterest);
    expect(await drain(src, 'funding', { symbol: 'ETHUSDT', interval: '1h', fromMs: epochMs(T0), toMs: epochMs(T0 + 5_000 * H) })).toEqual([]);
  });

  it('answers "latest" queries (no startTime) with the newest stored rows', async () => {
    const k = await (await fetch(`${server.url}/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=3`)).json() as unknown[][];
    expect(k.map((x) => x[0])).toEqual(bars.slice(-3).map((b) => b.openTimeMs));
    const upTo = await (await fetch(`${server.url}/api/v3/klines?symbol=BTCUSDT&interval=1h&endTime=${T0 + 1_500 * H}&limit=1000`)).json() as unknown[][];
    expect(upTo).toHaveLength(1000);
    expect(upTo[999]![0]).toBe(T0 + 1_500 * H);
    const f = await (await fetch(`${server.url}/fapi/v1/fundingRate?symbol=BTCUSDT&limit=2`)).json() as { fundingTime: number }[];
    expect(f.map((x) => x.fundingTime)).toEqual(funding.slice(-2).map((x) => x.fundingTimeMs));
    const oi = await (await fetch(`${server.url}/futures/data/openInterestHist?symbol=BTCUSDT&period=1h`)).json() as unknown[];
    expect(oi).toHaveLength(30);
  });

  it('refuses an ambiguous store and names the venues to choose from', () => {
    const path = join(dir, 'b.db');
    const s = openStore(path);
    const md = new MarketData(s);
    md.writePage('bars', { venue: 'binance-spot', symbol: 'BTCUSDT', interval: '1h' }, bars.slice(0, 3));
    md.writePage('bars', { venue: 'binance-usdm', symbol: 'BTCUSDT', interval: '1h' }, bars.slice(0, 5));
    md.writePage('bars', { venue: 'okx', symbol: 'BTC-USDT-SWAP', interval: '1h' }, bars.slice(0, 2));
    try {
      let err: unknown;
      try { createReplayProvider(s); } catch (e) { err = e; }
      expect(isAppError(err, 'config')).toBe(true);
      expect((err as Error).message).toContain('BTCUSDT from several venues (binance-spot, binance-usdm)');
      const p = createReplayProvider(s, { venue: 'binance-spot', clock });
      expect(p.symbols().map((x) => x.symbol)).toEqual(['BTCUSDT']);
      expect(p.bars!('BTCUSDT', '1h', 0, Number.MAX_SAFE_INTEGER, 1000)).toHaveLength(3);
      expect(() => createReplayProvider(s, { venue: 'bybit' })).toThrow(/holds binance-spot, binance-usdm, okx/);
    } finally {
      s.close();
    }
  });

  it('splits symbols of several venues into base and quote', () => {
    expect(splitSymbol('BTCUSDT')).toEqual({ symbol: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT' });
    expect(splitSymbol('BTC-USDT-SWAP')).toEqual({ symbol: 'BTC-USDT-SWAP', baseAsset: 'BTC', quoteAsset: 'USDT' });
    expect(splitSymbol('ETHBTC')).toEqual({ symbol: 'ETHBTC', baseAsset: 'ETH', quoteAsset: 'BTC' });
    expect(splitSymbol('BTC-PERPETUAL')).toEqual({ symbol: 'BTC-PERPETUAL', baseAsset: 'BTC', quoteAsset: 'USD' });
  });
});
