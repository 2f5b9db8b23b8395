import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/core/errors.ts';
import { epochMs, fixedClock, type Interval } from '../../../src/core/time.ts';
import { startVenueServer, type VenueServer } from '../../../src/ingest/replay/wire-server.ts';
import { barProblem } from '../../../src/ingest/row-checks.ts';
import { createSimulatorProvider, DEFAULT_GENESIS_MS } from '../../../src/ingest/simulator/provider.ts';
import type { Bar, DataKind, MarketDataSource, RowOf } from '../../../src/ingest/types.ts';
import { createBinanceSource } from '../../../src/ingest/venues/binance/client.ts';

const H = 3_600_000;
const G = DEFAULT_GENESIS_MS;
const NOW = G + 200 * 24 * H + 17 * 60_000; // 200 days and 17 minutes after genesis

async function drain<K extends DataKind>(src: MarketDataSource, kind: K, symbol: string, interval: Interval, fromMs: number, toMs: number): Promise<RowOf<K>[]> {
  const out: RowOf<K>[] = [];
  for await (const page of src.fetch(kind, { symbol, interval, fromMs: epochMs(fromMs), toMs: epochMs(toMs) })) out.push(...page);
  return out;
}
const spot = (s: VenueServer): ReturnType<typeof createBinanceSource> => createBinanceSource({ market: 'spot', baseUrl: s.url, http: { maxRetries: 0 } });
const usdm = (s: VenueServer): ReturnType<typeof createBinanceSource> => createBinanceSource({ market: 'usdm', baseUrl: s.url, http: { maxRetries: 0 } });

describe('simulated venue over loopback HTTP', () => {
  let a: VenueServer;
  let b: VenueServer;
  let c: VenueServer;
  let reference: Bar[];
  beforeAll(async () => {
    a = await startVenueServer({ provider: createSimulatorProvider({ seed: 7, clock: fixedClock(NOW) }) });
    // Same seed, a later clock: the shared history must not change.
    b = await startVenueServer({ provider: createSimulatorProvider({ seed: 7, clock: fixedClock(NOW + 30 * 24 * H) }) });
    c = await startVenueServer({ provider: createSimulatorProvider({ seed: 8, clock: fixedClock(NOW) }) });
    const src = spot(a);
    reference = await drain(src, 'bars', 'BTCUSDT', '1h', G, G + 3000 * H);
    expect(src.http.requests).toBe(3);
  });
  afterAll(async () => { await Promise.all([a.close(), b.close(), c.close()]); });

  it('serves 3000 contiguous, sound 1h bars across pages', () => {
    expect(reference).toHaveLength(3000);
    reference.forEach((bar, i) => {
      expect(bar.openTimeMs).toBe(G + i * H);
      expect(barProblem(bar)).toBeUndefined();
      if (i > 0) expect(bar.open).toBe(reference[i - 1]!.close);
      expect(bar.takerBuyBaseVolume!).toBeLessThanOrEqual(bar.volume);
      expect(bar.trades!).toBeGreaterThan(0);
    });
    expect(reference[0]!.open).toBe(16_500);
  });

  it('gives identical bars on another server with the same seed, queried in another order and at another "now"', async () => {
    const src = usdm(b);
    const late = await drain(src, 'bars', 'BTCUSDT', '1h', G + 2000 * H, G + 3000 * H);
    const eth = await drain(src, 'bars', 'ETHUSDT', '4h', G, G + 600 * 4 * H);
    expect(eth).toHaveLength(600);
    const early = await drain(src, 'bars', 'BTCUSDT', '1h', G, G + 2000 * H);
    expect([...early, ...late]).toEqual(reference);
    // USDT-M pages of 1500.
    expect(await drain(usdm(a), 'bars', 'BTCUSDT', '1h', G, G + 3000 * H)).toEqual(reference);
  });

  it('gives different bars for a different seed', async () => {
    const other = await drain(spot(c), 'bars', 'BTCUSDT', '1h', G, G + 100 * H);
    expect(other[0]!.open).toBe(reference[0]!.open);
    expect(other.map((x) => x.close)).not.toEqual(reference.slice(0, 100).map((x) => x.close));
  });

  it('aggregates consistently: a 1h bar is its twelve 5m bars, a 1d bar its 24 hours', async () => {
    const src = spot(a);
    const m5 = await drain(src, 'bars', 'BTCUSDT', '5m', G + 100 * H, G + 124 * H);
    const h1 = reference.slice(100, 124);
    const d1 = await drain(src, 'bars', 'BTCUSDT', '1d', G + 96 * H, G + 120 * H);
    expect(m5).toHaveLength(24 * 12);
    const combine = (xs: readonly Bar[]): Partial<Bar> => ({
      openTimeMs: xs[0]!.openTimeMs, open: xs[0]!.open, close: xs.at(-1)!.close,
      high: Math.max(...xs.map((x) => x.high)), low: Math.min(...xs.map((x) => x.low)), trades: xs.reduce((s, x) => s + x.trades!, 0),
    });
    h1.forEach((bar, i) => {
      const parts = m5.slice(i * 12, i * 12 + 12);
      expect(bar).toMatchObject(combine(parts));
      expect(bar.volume).toBeCloseTo(parts.reduce((s, x) => s + x.volume, 0), 4);
    });
    expect(d1[0]).toMatchObject(combine(reference.slice(96, 120)));
  });

  it('serves only bars that closed before the clock', async () => {
    const latest = await (await fetch(`${a.url}/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=2`)).json() as unknown[][];
    expect(latest.map((k) => k[0])).toEqual([NOW - 17 * 60_000 - 2 * H, NOW - 17 * 60_000 - H]);
    const m5 = await (await fetch(`${a.url}/api/v3/klines?symbol=BTCUSDT&interval=5m&limit=1`)).json() as unknown[][];
    expect(m5[0]![0]).toBe(NOW - 17 * 60_000 + 10 * 60_000);
    const future = await drain(spot(a), 'bars', 'BTCUSDT', '1d', NOW, NOW + 10 * 24 * H);
    expect(future).toEqual([]);
  });

  it('serves funding every 8 h within the clamps, marked at the bar open', async () => {
    const f = await drain(usdm(a), 'funding', 'BTCUSDT', '1h', G, G + 3000 * H);
    expect(f).toHaveLength(375);
    f.forEach((row, i) => {
      expect(row.fundingTimeMs).toBe(G + i * 8 * H);
      expect(Math.abs(row.rate)).toBeLessThanOrEqual(0.0075);
      expect(row.markPrice).toBe(reference[i * 8]!.open);
    });
    expect(f.filter((x) => x.rate === 0.0001).length).toBeGreaterThan(f.length / 2);
  });

  it('serves open interest at period boundaries, valued at the price then', async () => {
    const oi = await drain(usdm(a), 'openInterest', 'ETHUSDT', '1h', G, G + 1200 * H);
    const eth = await drain(spot(a), 'bars', 'ETHUSDT', '1h', G, G + 1200 * H);
    expect(oi).toHaveLength(1199);
    oi.forEach((row, i) => {
      expect(row.timeMs).toBe(G + (i + 1) * H);
      expect(row.openInterest).toBeGreaterThan(0);
      expect(row.openInterestValue!).toBeCloseTo(row.openInterest * eth[i]!.close, 2);
    });
  });

  it('rejects unknown symbols and intervals below the base with Binance codes', async () => {
    const err = await drain(spot(a), 'bars', 'DOGEUSDT', '1h', G, G + H).catch((e: unknown) => e);
    expect(isAppError(err, 'badSymbol')).toBe(true);
    const res = await fetch(`${a.url}/api/v3/klines?symbol=BTCUSDT&interval=1m`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: -1120, msg: expect.stringContaining('Invalid interval.') });
  });
});

describe('simulator options', () => {
  it('refuses a genesis off the base grid and bad symbol lists', () => {
    expect(() => createSimulatorProvider({ seed: 1, genesisMs: G + 1 })).toThrow(/not on a 5m boundary/);
    expect(() => createSimulatorProvider({ seed: 1, symbols: [] })).toThrow(/non-empty/);
    expect(() => createSimulatorProvider({ seed: 1, symbols: ['BTCUSDT', 'BTCUSDT'] })).toThrow(/distinct/);
    expect(() => createSimulatorProvider({ seed: 1, params: { garchAlpha: 0.5, garchBeta: 0.6 } })).toThrow(/below 1/);
  });

  it('simulates unknown symbols with a generic profile, and adding symbols leaves the others unchanged', () => {
    const clock = fixedClock(G + 10 * 24 * H);
    const one = createSimulatorProvider({ seed: 3, symbols: ['BTCUSDT'], clock });
    const two = createSimulatorProvider({ seed: 3, symbols: ['PEPEUSDT', 'BTCUSDT'], clock });
    expect(two.bars!('BTCUSDT', '1h', G, G + 240 * H, 1000)).toEqual(one.bars!('BTCUSDT', '1h', G, G + 240 * H, 1000));
    const pepe = two.bars!('PEPEUSDT', '1h', G, G + 240 * H, 1000);
    expect(pepe).toHaveLength(240);
    for (const bar of pepe) expect(barProblem(bar)).toBeUndefined();
    expect(two.symbols()[0]).toEqual({ symbol: 'PEPEUSDT', baseAsset: 'PEPE', quoteAsset: 'USDT' });
  });

  it('refuses, with a final 400, a range that would need decades of generation', async () => {
    const server = await startVenueServer({ provider: createSimulatorProvider({ seed: 1, genesisMs: Date.UTC(1980, 0, 1), clock: fixedClock(Date.UTC(2030, 0, 1)) }) });
    try {
      const res = await fetch(`${server.url}/api/v3/klines?symbol=BTCUSDT&interval=1d&limit=1`);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ code: -1000, msg: expect.stringContaining('move genesisMs closer') });
    } finally {
      await server.close();
    }
  });

  it('supports a 15m base, serving 15m and up', () => {
    const p = createSimulatorProvider({ seed: 3, clock: fixedClock(G + 5 * 24 * H), params: { baseInterval: '15m' } });
    expect(p.intervals('BTCUSDT', 'bars')).toEqual(['15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d']);
    expect(p.bars!('BTCUSDT', '1h', G, G + 24 * H, 1000)).toHaveLength(24);
  });
});
