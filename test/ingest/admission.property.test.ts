/**
 * Issue 10's property: over generated CSV rows and venue pages — plausible and implausible times (ms, s, µs, ns, the
 * year 3000, before 2009, off the grid), sound and broken prices — whatever the store accepts never makes `data
 * status`, the run ledger or a pipeline run fail afterwards, and whatever it refuses writes nothing.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/pipeline.ts';
import { isAppError } from '../../src/core/errors.ts';
import { epochMs } from '../../src/core/time.ts';
import { backfill } from '../../src/ingest/backfill.ts';
import { importCsv } from '../../src/ingest/csv.ts';
import { dataStatus } from '../../src/ingest/quality.ts';
import { createBinanceSource } from '../../src/ingest/venues/binance/client.ts';
import { runPipeline } from '../../src/pipeline/runner.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { MarketData } from '../../src/store/market-data.ts';
import { RunLedger } from '../../src/store/runs.ts';
import { writeTickPipeline } from '../pipeline/fixture.ts';
import { startTestServer, type TestServer } from '../helpers/http-server.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const H = 3_600_000;
/** The tick pipeline's BTCUSDT slice ends 2025-10-31T23:00Z; generated bars land around it. */
const END = Date.UTC(2025, 9, 31, 23);

/** A time that is sometimes storable and often not, as hostile files and venues send them. */
const timeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -400, max: 50 }).map((i) => END + i * H) },
  { weight: 1, arbitrary: fc.integer({ min: -400, max: 50 }).map((i) => END + i * H + 30 * 60_000) },
  { weight: 1, arbitrary: fc.integer({ min: -400, max: 50 }).map((i) => (END + i * H) / 1000) },
  { weight: 1, arbitrary: fc.integer({ min: -400, max: 50 }).map((i) => (END + i * H) * 1000) },
  { weight: 1, arbitrary: fc.constantFrom(9007199251200000, Date.UTC(3000, 0, 1), Date.UTC(2005, 0, 1), 0, -H, Number.MAX_SAFE_INTEGER) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 60 }).map((d) => Date.now() + d * 24 * H - ((Date.now() + d * 24 * H) % H)) },
);

/** A bar as CSV fields: prices near the slice's (sometimes zero, negative, inconsistent or not a number). */
const rowArb = fc.record({
  t: timeArb,
  open: fc.double({ min: 50_000, max: 150_000, noNaN: true }),
  up: fc.double({ min: 0, max: 0.05, noNaN: true }),
  down: fc.double({ min: 0, max: 0.05, noNaN: true }),
  closeAt: fc.double({ min: 0, max: 1, noNaN: true }),
  volume: fc.double({ min: 0, max: 1e5, noNaN: true }),
  fault: fc.constantFrom('none', 'none', 'none', 'none', 'zero', 'negative', 'nan', 'high<low', 'close>high', 'text'),
});
type GenRow = typeof rowArb extends fc.Arbitrary<infer T> ? T : never;
/** Half the files or pages are made of sound rows only (so both sides are reached), half of anything. */
const clean = (r: GenRow): GenRow => ({ ...r, t: END + Math.round((r.t - END) / H) * H, fault: 'none' });
const rowsArb = (max: number): fc.Arbitrary<GenRow[]> => fc.oneof(
  fc.array(rowArb, { minLength: 1, maxLength: max }).map((rs) => rs.map((r) => (Math.abs(r.t - END) < 1000 * H ? clean(r) : { ...clean(r), t: END - (rs.indexOf(r) + 1) * H }))),
  fc.array(rowArb, { minLength: 1, maxLength: max }),
);

function fields(r: GenRow): string[] {
  const high = r.open * (1 + r.up);
  const low = r.open * (1 - r.down);
  const close = low + (high - low) * r.closeAt;
  const f = [String(r.t), String(r.open), String(high), String(low), String(close), String(r.volume)];
  switch (r.fault) {
    case 'zero': f[1] = '0'; break;
    case 'negative': f[4] = String(-close); break;
    case 'nan': f[2] = 'NaN'; break;
    case 'high<low': f[2] = String(low * 0.9); break;
    case 'close>high': f[4] = String(high * 1.1); break;
    case 'text': f[5] = '12abc'; break;
  }
  return f;
}

/** Every row of every market-data table and the watermarks, hashed: equal before and after means nothing was written. */
function fingerprint(store: Store): string {
  const h = createHash('sha256');
  for (const t of ['bars', 'funding_rates', 'open_interest', 'implied_vol', 'watermarks']) h.update(JSON.stringify(store.db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3, 4`).raw(true).all()));
  return h.digest('hex');
}

/** What a reader does: data status, the ledger, and every stored row's check. None may throw. */
function readEverything(md: MarketData, store: Store): void {
  const status = dataStatus(md, Date.now());
  expect(status.series.length).toBeGreaterThan(0);
  JSON.stringify(status);
  new RunLedger(store).list(50);
  expect(md.findInvalidRows()).toEqual([]);
}

describe('CSV rows: accepted never breaks a reader or a run; refused writes nothing', () => {
  let dir: string;
  let pipelineFile: string;
  beforeAll(async () => {
    dir = tmp.path('csv-prop');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    pipelineFile = writeTickPipeline(dir, { jobs: [{ name: 'tick', cron: '0 0 * * * *', stages: ['ingest', 'recommend'] }] });
  });

  it('holds over generated files (status and ledger after each; a pipeline run after every accepted file)', { timeout: 300_000 }, async () => {
    const db = join(dir, 'tick.db');
    const pipeline = loadPipeline(pipelineFile);
    // The store starts with the slice, as the pipeline's own ingest stores it.
    const first = await runPipeline({ pipeline, db, job: 'tick' });
    expect(first.status, first.error?.message).toBe('succeeded');
    let accepted = 0;
    let refused = 0;
    let runs = 0;
    await fc.assert(fc.asyncProperty(rowsArb(12), async (rows) => {
      const file = join(dir, 'gen.csv');
      // Ascending, distinct times: the order rules are tested elsewhere; here the values and times are at stake.
      const sorted = [...new Map(rows.map((r) => [r.t, r])).values()].sort((a, b) => a.t - b.t);
      writeFileSync(file, `open_time_ms,open,high,low,close,volume\n${sorted.map((r) => fields(r).join(',')).join('\n')}\n`);
      const store = openStore(db);
      const md = new MarketData(store);
      const before = fingerprint(store);
      let ok = true;
      try {
        await importCsv({ md, venue: 'binance-spot', symbol: 'BTCUSDT', interval: '1h', files: [file] });
        accepted++;
      } catch (e) {
        ok = false;
        refused++;
        expect(isAppError(e), String(e)).toBe(true);
        expect(['dataQuality', 'config']).toContain((e as { kind: string }).kind);
        expect(fingerprint(store)).toBe(before);
      }
      readEverything(md, store);
      store.close();
      if (ok && runs < 6) {
        runs++;
        const r = await runPipeline({ pipeline, db, job: 'tick' });
        expect(r.status, r.error?.message).toBe('succeeded');
      }
    }), { numRuns: 40, seed: 1010 });
    // The generator reaches both sides.
    expect(accepted).toBeGreaterThan(3);
    expect(refused).toBeGreaterThan(10);
    expect(runs).toBeGreaterThan(2);
  });
});

describe('venue pages: accepted never breaks a reader; a refused page writes nothing', () => {
  let server: TestServer;
  let page: unknown[][] = [];
  beforeAll(async () => { server = await startTestServer(() => ({ body: JSON.stringify(page) })); });
  afterAll(async () => { await server.close(); });

  it('holds over generated kline pages served on loopback', { timeout: 300_000 }, async () => {
    const store = openStore(tmp.path('pages.db'));
    const md = new MarketData(store);
    const source = createBinanceSource({ market: 'spot', baseUrl: server.url, http: { requestsPerSecond: 0, maxRetries: 0 } });
    // Something valid first, so status always has a series to judge.
    page = [[END - 500 * H, '1', '1', '1', '1', '1', END - 499 * H - 1, '1', 1, '0', '0', '0']];
    await backfill(source, md, { kind: 'bars', symbol: 'BTCUSDT', interval: '1h', fromMs: epochMs(END - 500 * H), toMs: epochMs(END - 499 * H) });
    let accepted = 0;
    let refused = 0;
    let n = 0;
    await fc.assert(fc.asyncProperty(rowsArb(10), fc.boolean(), async (rows, stringTimes) => {
      // A fresh series each time, so nothing stored earlier moves the resume point.
      const symbol = `GEN${n++}USDT`;
      const sorted = [...new Map(rows.map((r) => [r.t, r])).values()].sort((a, b) => a.t - b.t);
      // Binance's wire format: open time as a number, decimals as strings, close time, quote volume, trades…
      page = sorted.map((r) => {
        const f = fields(r);
        return [stringTimes && r.fault !== 'none' ? f[0] : Number(f[0]), f[1], f[2], f[3], f[4], f[5], Number(f[0]) + H - 1, '0', 1, '0', '0', '0'];
      });
      const before = fingerprint(store);
      const from = Math.min(...sorted.map((r) => r.t).filter(Number.isFinite), END - 400 * H);
      try {
        await backfill(source, md, { kind: 'bars', symbol, interval: '1h', fromMs: epochMs(Math.max(from, Date.UTC(2009, 0, 1))), toMs: epochMs(Date.now()) }, { nowMs: Date.now() });
        accepted++;
      } catch (e) {
        refused++;
        expect(isAppError(e), String(e)).toBe(true);
        expect(fingerprint(store)).toBe(before);
      }
      readEverything(md, store);
    }), { numRuns: 60, seed: 2020 });
    expect(accepted).toBeGreaterThan(3);
    expect(refused).toBeGreaterThan(10);
    store.close();
  });
});
