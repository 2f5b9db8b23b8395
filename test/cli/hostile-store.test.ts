/**
 * Issue 10, classes 1, 2, 8 and 9 through the real CLI, on real SQLite files and a real hostile loopback venue:
 * implausible times and off-grid bars are refused on every path into the store (CSV, ingest) and a store that holds
 * such rows anyway never crashes a reader; a --db that is no liqcal store exits 9 naming the file; interrupted ingest
 * and import runs never stay `running`.
 */
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { hostileBars, startHostileVenue } from '../helpers/hostile-venue.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
// Many real CLI processes per test: generous deadlines for a loaded 2-core CI machine.
vi.setConfig({ testTimeout: 240_000 });

const HEADER = 'open_time_ms,open,high,low,close,volume';
const T0 = Date.UTC(2024, 0, 1);
const H = 3_600_000;

function csv(name: string, times: readonly (number | string)[]): string {
  const file = tmp.path(name);
  writeFileSync(file, `${HEADER}\n${times.map((t) => `${t},100,101,99,100.5,10`).join('\n')}\n`);
  return file;
}

function barCount(db: string): number {
  const d = new Database(db, { readonly: true });
  try {
    return (d.prepare('SELECT COUNT(*) AS n FROM bars').get() as { n: number }).n;
  } finally {
    d.close();
  }
}

async function runsOf(db: string): Promise<{ kind: string; status: string; error: string | null }[]> {
  const r = await runCli(['runs', '--db', db, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { runs: { kind: string; status: string; error: string | null }[] }).runs;
}

describe('implausible times are refused by import-csv, naming the unit they look like', () => {
  const cases: [string, number | string, RegExp][] = [
    ['beyond the range of a Date', 9007199251200000, /not a plausible epoch-ms time \(beyond any date/],
    ['microseconds', 1704067200000000, /looks like microseconds \(2024-01-01T00:00:00\.000Z/],
    ['seconds', 1704067200, /looks like seconds \(2024-01-01T00:00:00\.000Z/],
    ['nanoseconds', '1704067200000000000', /not an integer of epoch milliseconds|looks like nanoseconds/],
    ['the year 3000', Date.UTC(3000, 0, 1), /after the clock plus one interval/],
    ['before 2009', Date.UTC(2005, 0, 1), /before 2009-01-01/],
    ['half past the hour', T0 + 30 * 60_000, /not on the 60-minute interval grid/],
  ];
  it('each: exit 6, file, line and field named, no stack trace, nothing written; every reader still works', async () => {
    const db = tmp.path('csv-times.db');
    expect((await runCli(['import-csv', '--db', db, '--venue', 'x', '--symbol', 'BTCUSDT', csv('good.csv', [T0, T0 + H])])).code).toBe(0);
    for (const [i, [what, t, message]] of cases.entries()) {
      const bad = csv(`bad-${i}.csv`, [T0 + 2 * H, t]);
      const r = await runCli(['import-csv', '--db', db, '--venue', 'x', '--symbol', 'BTCUSDT', '--json', bad]);
      expect(r.code, what).toBe(6);
      expect(r.stderr, what).toContain(`${bad}:3: field open_time_ms`);
      expect(r.stderr, what).toMatch(message);
      expect(r.stderr, what).not.toMatch(/\n\s+at /);
      expect(barCount(db), what).toBe(2);
    }
    const status = await runCli(['data', 'status', '--db', db, '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { series: { bars: number }[] }).series[0]!.bars).toBe(2);
    expect((await runsOf(db)).map((x) => x.status)).toEqual([...cases.map(() => 'failed'), 'succeeded']);
  });
});

describe('a store that already holds implausible rows (written around the checks)', () => {
  it('data status, runs and run keep working; data check reports the rows, exit 6, and --delete removes them', async () => {
    const db = tmp.path('poisoned.db');
    const times = Array.from({ length: 72 }, (_, i) => T0 + i * H);
    expect((await runCli(['import-csv', '--db', db, '--venue', 'binance-spot', '--symbol', 'BTCUSDT', csv('poison-good.csv', times)])).code).toBe(0);
    const d = new Database(db);
    const raw = d.prepare("INSERT INTO bars (venue, symbol, interval, open_time_ms, open, high, low, close, volume) VALUES ('binance-spot', 'BTCUSDT', ?, ?, 100, 101, 99, 100, 1)");
    raw.run('1h', 9007199251200000);
    raw.run('1h', 1704067200000000);
    raw.run('1h', Date.UTC(3000, 0, 1));
    raw.run('1h', T0 + 30 * 60_000);
    raw.run('2h30', T0);
    d.prepare("UPDATE watermarks SET last_time_ms = 9007199251200000").run();
    d.close();

    const status = await runCli(['data', 'status', '--db', db]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/5 stored row\(s\) in 2 series have an implausible or off-grid time/);
    const statusJson = JSON.parse((await runCli(['data', 'status', '--db', db, '--json'])).stdout) as { series: { bars: number; last: string }[]; invalidTimes: { rows: number }[] };
    expect(statusJson.series).toHaveLength(1);
    expect(statusJson.series[0]).toMatchObject({ bars: 72, last: '2024-01-03T23:00:00.000Z' });
    expect(statusJson.invalidTimes.map((x) => x.rows)).toEqual([4, 1]);
    expect((await runsOf(db)).length).toBe(1);

    // A pipeline run on that store: the csv source re-imports the good file; nothing crashes on the stored rows.
    const pipeline = tmp.path('poisoned-pipeline.json');
    writeFileSync(pipeline, JSON.stringify({
      name: 'poisoned', markets: ['BTCUSDT'], interval: '1h',
      venue: { kind: 'csv', venue: 'binance-spot', interval: '1h', files: { BTCUSDT: [tmp.path('poison-good.csv')] } },
      store: { db }, jobs: [{ name: 'load', cron: '0 0 * * * *', stages: ['ingest'] }],
    }));
    const run = await runCli(['run', '--pipeline', pipeline, '--job', 'load', '--db', db, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'succeeded' });

    const check = await runCli(['data', 'check', '--db', db, '--json']);
    expect(check.code).toBe(6);
    const found = JSON.parse(check.stdout) as { ok: boolean; invalidRows: number; series: { interval: string; invalid: number; examples: { field: string; problem: string }[] }[] };
    expect(found).toMatchObject({ ok: false, invalidRows: 5 });
    expect(found.series.map((s) => [s.interval, s.invalid])).toEqual([['1h', 4], ['2h30', 1]]);
    expect(found.series[0]!.examples.map((e) => e.problem).join('\n')).toMatch(/looks like microseconds/);

    const del = await runCli(['data', 'check', '--db', db, '--delete', '--json']);
    expect(del.code, del.stderr).toBe(0);
    expect(JSON.parse(del.stdout)).toMatchObject({ ok: true, deleted: 5 });
    expect((await runCli(['data', 'check', '--db', db])).code).toBe(0);
    expect(barCount(db)).toBe(72);
    const after = JSON.parse((await runCli(['data', 'status', '--db', db, '--json'])).stdout) as { series: { watermarkMs: number }[]; invalidTimes: unknown[] };
    expect(after.invalidTimes).toEqual([]);
    expect(after.series[0]!.watermarkMs).toBe(T0 + 71 * H);
  });
});

describe('ingest refuses bars off the interval grid like import-csv does', () => {
  it('a venue serving "1h" bars at HH:30 stores nothing of them; the correct bars then go in, with no extra bars', async () => {
    const bars = hostileBars(T0, 24);
    const venue = await startHostileVenue({ bars, modes: { kind: 'misaligned' } });
    const db = tmp.path('misaligned.db');
    const args = ['ingest', '--db', db, '--venue', 'binance-usdm', '--base-url', venue.url, '--symbols', 'BTCUSDT', '--interval', '1h', '--from', '2024-01-01', '--to', '2024-01-02', '--json'];
    try {
      const bad = await runCli(args);
      expect(bad.code).toBe(6);
      const out = JSON.parse(bad.stdout) as { failures: { error: { kind: string; message: string } }[] };
      expect(out.failures[0]!.error).toMatchObject({ kind: 'dataQuality' });
      expect(out.failures[0]!.error.message).toMatch(/2024-01-01T00:30:00\.000Z.*not on the 60-minute interval grid.*Nothing of this page was stored/);
      expect(barCount(db)).toBe(0);
      venue.setModes({ kind: 'healthy' });
      const good = await runCli(args);
      expect(good.code, good.stderr).toBe(0);
      const status = JSON.parse((await runCli(['data', 'status', '--db', db, '--json'])).stdout) as { series: { bars: number; gaps: number; duplicates: number }[]; invalidTimes: unknown[] };
      expect(status.series[0]).toMatchObject({ bars: 24, gaps: 0, duplicates: 0 });
      expect(status.invalidTimes).toEqual([]);
    } finally {
      await venue.close();
    }
  });
});

describe('a --db that is not a liqcal store', () => {
  const junk = tmp.path('junk.db');
  writeFileSync(junk, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
  const text = tmp.path('notes.db');
  writeFileSync(text, 'these are my notes\n');
  const foreign = tmp.path('foreign.db');
  const f = new Database(foreign);
  f.exec('CREATE TABLE users (id INTEGER)');
  f.close();
  const commands: string[][] = [
    ['data', 'status'], ['data', 'check'], ['runs'], ['params', 'history', '--market', 'BTCUSDT'],
    ['recommend', '--symbols', 'BTCUSDT'], ['import-csv', '--venue', 'x', '--symbol', 'BTCUSDT', '/dev/null'],
    ['report', '--run', 'latest', '--out', tmp.path('r')],
  ];
  it('every command, on random bytes or a text file, exits 9 naming the file, without a stack trace', async () => {
    for (const [i, cmd] of commands.entries()) {
      const file = i % 2 === 0 ? junk : text;
      const r = await runCli([...cmd, '--db', file]);
      expect(r.code, cmd.join(' ')).toBe(9);
      expect(r.stderr, cmd.join(' ')).toContain(`Cannot open the store at ${file}: it is not a SQLite database`);
      expect(r.stderr, cmd.join(' ')).not.toMatch(/SqliteError|\n\s+at /);
    }
  });
  it('a SQLite file of another application is left untouched (exit 9)', async () => {
    const r = await runCli(['runs', '--db', foreign]);
    expect(r.code).toBe(9);
    expect(r.stderr).toMatch(/is a SQLite database but not a liqcal store/);
    const d = new Database(foreign, { readonly: true });
    expect((d.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name)).toEqual(['users']);
    d.close();
  });
});

/** Waits until the store at `db` records a running run of `kind` (the command is then past its start-up). */
async function waitForRun(db: string, kind: string, diagnostics: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`no running ${kind} run in ${db} after 90 s: ${diagnostics()}`);
    try {
      const d = new Database(db, { readonly: true, fileMustExist: true });
      try {
        if (d.prepare("SELECT 1 FROM runs WHERE kind = ? AND status = 'running'").get(kind)) return;
      } finally {
        d.close();
      }
    } catch {
      // not created yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('interrupted ingest and import runs never stay running', () => {
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`ingest stopped by ${sig} while waiting on a slow venue: exit ${sig === 'SIGTERM' ? 143 : 130}, run abandoned`, async () => {
      const venue = await startHostileVenue({ bars: hostileBars(T0, 24), modes: { kind: 'slow', delayMs: 60_000 } });
      const db = tmp.path(`ingest-${sig}.db`);
      try {
        const child = spawnCli(['ingest', '--db', db, '--venue', 'binance-usdm', '--base-url', venue.url, '--symbols', 'BTCUSDT', '--from', '2024-01-01', '--to', '2024-01-02']);
        await waitForRun(db, 'ingest');
        while (venue.requests.length === 0) await new Promise((r) => setTimeout(r, 20));
        const closed = new Promise<number | null>((r) => child.on('close', r));
        child.kill(sig);
        expect(await closed).toBe(sig === 'SIGTERM' ? 143 : 130);
        const runs = await runsOf(db);
        expect(runs[0]).toMatchObject({ kind: 'ingest', status: 'abandoned' });
        expect(runs[0]!.error).toMatch(new RegExp(`Stopped by ${sig}`));
      } finally {
        await venue.close();
      }
    });
  }

  it('ingest killed with SIGKILL: the next open of the store marks its run abandoned', async () => {
    const venue = await startHostileVenue({ bars: hostileBars(T0, 24), modes: { kind: 'slow', delayMs: 60_000 } });
    const db = tmp.path('ingest-kill9.db');
    try {
      const child = spawnCli(['ingest', '--db', db, '--venue', 'binance-usdm', '--base-url', venue.url, '--symbols', 'BTCUSDT', '--from', '2024-01-01', '--to', '2024-01-02']);
      while (venue.requests.length === 0) await new Promise((r) => setTimeout(r, 20));
      const closed = new Promise<number | null>((r) => child.on('close', r));
      child.kill('SIGKILL');
      await closed;
      const runs = await runsOf(db);
      expect(runs[0]).toMatchObject({ kind: 'ingest', status: 'abandoned' });
      expect(runs[0]!.error).toMatch(/ended without recording an outcome/);
    } finally {
      await venue.close();
    }
  });
});
