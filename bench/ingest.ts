/**
 * bench/ingest: the shared Binance spot 1h files (8 symbols, 2022-01 … 2025-10, ~269k bars)
 *   1. CSV import into store A (the library call behind `liqcal import-csv`, all symbols in one process;
 *      plus one symbol through the CLI for the cost of a cold process),
 *   2. served by `liqcal serve-venue replay` over loopback HTTP in its own process,
 *   3. ingested over HTTP into store B (`liqcal ingest --venue binance-spot --base-url …`),
 *   4. checked bar for bar: store B must equal store A.
 * Targets: ≥ 300,000 rows/s CSV import, ≥ 100,000 bars/s end to end over HTTP. Peak RSS per phase.
 * Run: npm run bench:ingest  → bench/results/ingest.json
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { importCsv } from '../src/ingest/csv.ts';
import { openStore } from '../src/store/db.ts';
import { MarketData } from '../src/store/market-data.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const SHARED = join(ROOT, '../shared/data/market/binance-spot__finom-static-klines');
const WORK = join(ROOT, 'bench/.work');
const BIN = join(ROOT, 'src/cli/bin.js');
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT', 'XRPUSDT', 'DOGEUSDT', 'AVAXUSDT', 'LINKUSDT'];

function run(args: string[], opts: { json?: boolean } = {}): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 || !opts.json ? resolve({ out, code }) : reject(new Error(`liqcal ${args[0]} exited ${code}: ${out}`))));
  });
}

function digest(dbPath: string): { bars: number; sha256: string } {
  const s = openStore(dbPath, { readonly: true });
  const h = createHash('sha256');
  let bars = 0;
  for (const r of s.db.prepare('SELECT symbol, interval, open_time_ms, open, high, low, close, volume, quote_volume, trades, taker_buy_base_volume FROM bars ORDER BY symbol, interval, open_time_ms').raw(true).iterate()) {
    h.update(JSON.stringify(r));
    bars++;
  }
  s.close();
  return { bars, sha256: h.digest('hex') };
}

async function main(): Promise<void> {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const dbA = join(WORK, 'a.db');
  const dbB = join(WORK, 'b.db');

  // 1. CSV import of all 8 symbols in this process (the library call behind `liqcal import-csv`), timed
  //    from the first file opened to the last row committed; peak RSS of this process at that point.
  //    Three repetitions into fresh stores; the median is reported, the last store is A.
  const REPS = 3;
  let imports: { symbol: string; rows: number; elapsedMs: number; rowsPerSecond: number }[] = [];
  const repRates: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const path = rep === REPS - 1 ? dbA : join(WORK, `rep${rep}.db`);
    const storeA = openStore(path);
    const md = new MarketData(storeA);
    imports = [];
    for (const symbol of SYMBOLS) {
      const dir = join(SHARED, symbol, '1h');
      const files = readdirSync(dir).filter((f) => f.endsWith('.csv')).sort().map((f) => join(dir, f));
      const r = await importCsv({ md, venue: 'binance-spot', symbol, interval: '1h', files });
      imports.push({ symbol, rows: r.rows, elapsedMs: Math.round(r.elapsedMs), rowsPerSecond: Math.round(r.rows / (r.elapsedMs / 1000)) });
    }
    storeA.close();
    repRates.push(imports.reduce((s, r) => s + r.rows, 0) / (imports.reduce((s, r) => s + r.elapsedMs, 0) / 1000));
  }
  const importPeakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  const importRows = imports.reduce((s, r) => s + r.rows, 0);
  const importMs = imports.reduce((s, r) => s + r.elapsedMs, 0);
  const medianRate = [...repRates].sort((a, b) => a - b)[Math.floor(REPS / 2)]!;
  // The same import through the CLI, one process for one symbol (includes process start-up and JIT warm-up).
  const cliDb = join(WORK, 'cli.db');
  const btcFiles = readdirSync(join(SHARED, 'BTCUSDT', '1h')).sort().map((f) => join(SHARED, 'BTCUSDT', '1h', f));
  const cliT0 = performance.now();
  const cli = JSON.parse((await run(['import-csv', '--db', cliDb, '--venue', 'binance-spot', '--symbol', 'BTCUSDT', '--interval', '1h', '--json', ...btcFiles], { json: true })).out) as { rows: number; elapsedMs: number; rowsPerSecond: number; peakRssMb: number };
  const cliWallMs = performance.now() - cliT0;

  // 2. Replay server in its own process.
  const server = spawn(process.execPath, [BIN, 'serve-venue', 'replay', '--db', dbA, '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    server.stdout.on('data', (d: Buffer) => { buf += d.toString(); const m = /"url":\s*"([^"]+)"/.exec(buf); if (m) resolve(m[1]!); });
    server.on('close', (c) => reject(new Error(`replay server exited ${c}`)));
  });

  // 3. Ingest over HTTP into store B: all 8 symbols in one process.
  const t0 = performance.now();
  const { out } = await run(['ingest', '--db', dbB, '--venue', 'binance-spot', '--base-url', url, '--symbols', SYMBOLS.join(','), '--interval', '1h',
    '--from', '2022-01-01', '--to', '2025-11-01', '--concurrency', '2', '--json', '--quiet'], { json: true });
  const wallMs = performance.now() - t0;
  const ing = JSON.parse(out) as { rows: number; elapsedMs: number; rowsPerSecond: number; peakRssMb: number };
  server.kill('SIGTERM');

  // 4. Bar-for-bar identity.
  const a = digest(dbA);
  const b = digest(dbB);

  const result = {
    benchmark: 'ingest',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGb: Math.round(totalmem() / 2 ** 30), node: process.version },
    data: { symbols: SYMBOLS, interval: '1h', range: '2022-01-01 … 2025-10-31', files: 'binance-spot__finom-static-klines/<SYM>/1h/*.csv' },
    csvImport: {
      rows: importRows, rowsPerSecond: Math.round(medianRate), repetitions: repRates.map(Math.round), lastRepElapsedMs: Math.round(importMs), peakRssMb: importPeakRssMb, target: 300_000, perSymbolLastRep: imports,
      cliOneSymbol: { symbol: 'BTCUSDT', rows: cli.rows, importMs: Math.round(cli.elapsedMs), rowsPerSecond: cli.rowsPerSecond, processWallMs: Math.round(cliWallMs), peakRssMb: cli.peakRssMb },
    },
    httpIngest: { bars: ing.rows, elapsedMs: ing.elapsedMs, barsPerSecond: ing.rowsPerSecond, processWallMs: Math.round(wallMs), peakRssMb: ing.peakRssMb, target: 100_000, server: 'liqcal serve-venue replay (separate process, loopback)', pageSize: 1000 },
    roundTrip: { storeA: a, storeB: b, identical: a.bars === b.bars && a.sha256 === b.sha256 },
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/ingest.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify({ csvImport: result.csvImport.rowsPerSecond, httpIngest: result.httpIngest.barsPerSecond, identical: result.roundTrip.identical, peakRssMb: [result.csvImport.peakRssMb, result.httpIngest.peakRssMb] })}\n`);
  if (existsSync(WORK)) rmSync(WORK, { recursive: true, force: true });
  if (!result.roundTrip.identical) process.exitCode = 1;
}

await main();
