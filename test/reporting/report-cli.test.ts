import { existsSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerReport } from '../../src/cli/commands/report.ts';
import { isAppError } from '../../src/core/errors.ts';
import { fixedClock } from '../../src/core/time.ts';
import { buildReportModel, saveReportModel } from '../../src/reporting/index.ts';
import { PNG_SIGNATURE } from '../../src/reporting/png.ts';
import { openStore } from '../../src/store/db.ts';
import { tempDir } from '../helpers/tmp.ts';
import { backtest, rec, report, row, RUN } from './synthetic.ts';

/** Runs `liqcal report ARGS` in process (the command as registered on a program) and returns what it printed. */
async function liqcalReport(args: string[]): Promise<string> {
  const program = new Command('liqcal').exitOverride();
  registerReport(program);
  let printed = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => { printed += String(chunk); return true; }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'liqcal', 'report', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return printed;
}

describe('liqcal report', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => { tmp = tempDir('liqcal-report-cli-'); });
  afterEach(() => tmp.cleanup());

  it('re-renders the stored model of a run (by id or latest) and prints the paths', async () => {
    const db = tmp.path('x.db');
    const store = openStore(db);
    const rows = [row('static', 'pooled', 0.08, 0.012, 5000, 0), row('har', 'pooled', 0.06, 0.011, 2000, 1.2)];
    const first = buildReportModel({ run: RUN, recommend: report([rec('BTCUSDT', 200)]), previous: {}, backtest: backtest(rows) });
    const second = buildReportModel({ run: { ...RUN, id: 'r2' }, recommend: report([rec('ETHUSDT', 200)]), previous: {} });
    saveReportModel(store, first, fixedClock(1));
    saveReportModel(store, second, fixedClock(2));
    store.close();

    const out = JSON.parse(await liqcalReport(['--db', db, '--run', 'r1', '--out', tmp.path('r1'), '--png', '--json'])) as { run: string; markdown: string; html: string; json: string; png: string[] };
    expect(out.run).toBe('r1');
    expect(JSON.parse(readFileSync(out.json, 'utf8'))).toEqual(first);
    expect(readFileSync(out.html, 'utf8').match(/<svg/g)!.length).toBe(4);
    expect(out.png.length).toBe(4);
    for (const p of out.png) expect(readFileSync(p).subarray(0, 8)).toEqual(Buffer.from(PNG_SIGNATURE));

    const text = await liqcalReport(['--db', db, '--out', tmp.path('latest')]);
    expect(text).toContain('Report of run r2');
    expect(text).toContain(`markdown  ${tmp.path('latest')}/report.md`);
    expect(existsSync(tmp.path('latest/report.html'))).toBe(true);
    expect(readFileSync(tmp.path('latest/report.md'), 'utf8')).toContain('ETHUSDT');
  });

  it('fails with an error naming the run when it has no report', async () => {
    const db = tmp.path('y.db');
    openStore(db).close();
    const e = await liqcalReport(['--db', db, '--run', 'nope']).catch((x: unknown) => x);
    expect(isAppError(e, 'badRequest')).toBe(true);
    expect((e as Error).message).toMatch(/^Run nope has no report in this store/);
  });
});
