import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = tempDir('liqcal-cli-params-');
afterAll(() => tmp.cleanup());

function spawnParams(args: readonly string[]): ChildProcess {
  return spawnCli(['params', ...args]);
}

function params(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(['params', ...args]);
}

/** Runs a command that must succeed and parses its JSON output. */
async function ok(args: readonly string[]): Promise<any> {
  const r = await params(args);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('liqcal params', () => {
  const db = tmp.path('params.db');
  const file = tmp.path('drafts.json');
  const rails = tmp.path('rails.json');
  writeFileSync(file, JSON.stringify([
    { market: 'BTC-PERP', updateType: 'maintenanceMarginRatio', newValue: 0.05, referenceId: 'run-1' },
    { market: 'BTC-PERP', updateType: 'initialMarginRatio', newValue: 0.1, referenceId: 'run-1' },
    { market: 'BTC-PERP', updateType: 'closeFactor', newValue: 3, referenceId: 'run-1' },
  ]));
  writeFileSync(rails, JSON.stringify({ types: { maintenanceMarginRatio: { minDelayMs: 0 } } }));

  it('proposes from a file (idempotently), approves, publishes, and reads back latest and history', async () => {
    // One of the three is refused: exit code 10, and the output still lists all three (the others stay proposed).
    const first = await params(['propose', '--db', db, '--file', file, '--json']);
    expect(first.code, first.stderr).toBe(10);
    expect(first.stderr).toMatch(/1 of 3 proposal\(s\) were refused by the guard rails \(bounds/);
    const proposed = JSON.parse(first.stdout);
    expect(proposed.map((r: { state: string }) => r.state)).toEqual(['proposed', 'proposed', 'rejected']);
    expect(proposed[2].rejection).toMatchObject({ rule: 'bounds', values: { value: 3 } });
    const replay = await params(['propose', '--db', db, '--file', file, '--json']);
    expect(replay.code).toBe(10);
    const again = JSON.parse(replay.stdout);
    expect(again.map((r: { updateId: number }) => r.updateId)).toEqual(proposed.map((r: { updateId: number }) => r.updateId));
    const [mm, im] = proposed as { updateId: number }[];

    const unapproved = await params(['publish', '--db', db, String(mm!.updateId), '--json']);
    expect(unapproved.code).toBe(10);
    expect(JSON.parse(unapproved.stdout)).toMatchObject({ error: { kind: 'guardRail', context: { rule: 'state' } } });
    expect(await ok(['approve', '--db', db, String(mm!.updateId), '--by', 'alice', '--json'])).toMatchObject({ state: 'approved', approvedBy: 'alice' });
    expect(await ok(['publish', '--db', db, String(mm!.updateId), '--json'])).toMatchObject({ state: 'published', version: 1 });

    const latest = await ok(['latest', '--db', db, '--market', 'BTC-PERP', '--type', 'maintenanceMarginRatio', '--json']);
    expect(latest).toMatchObject({ updateId: mm!.updateId, newValue: 0.05, state: 'published', usable: true, expired: false });
    const none = await params(['latest', '--db', db, '--market', 'BTC-PERP', '--type', 'initialMarginRatio', '--json']);
    expect(none.code).toBe(11);
    expect(none.stderr).toMatch(/Nothing has been published for BTC-PERP initialMarginRatio/);
    const history = await ok(['history', '--db', db, '--market', 'BTC-PERP', '--json']);
    expect(history.map((r: { updateId: number }) => r.updateId)).toEqual([mm!.updateId, im!.updateId, proposed[2].updateId]);
    const human = await params(['history', '--db', db, '--market', 'BTC-PERP']);
    expect(human.stdout).toMatch(/maintenanceMarginRatio\s+0\.05\s+null\s+published/);
  });

  it('refuses while paused, holds a second publish for the debounce unless the store\'s rails allow it, and disables', async () => {
    const d2 = tmp.path('d2.json');
    writeFileSync(d2, JSON.stringify([{ market: 'BTC-PERP', updateType: 'maintenanceMarginRatio', newValue: 0.055, referenceId: 'run-2' }]));
    const [p] = await ok(['propose', '--db', db, '--file', d2, '--json']);
    expect(p).toMatchObject({ previousValue: 0.05, baseVersion: 1 });
    await ok(['approve', '--db', db, String(p.updateId), '--by', 'bob', '--json']);
    const early = await params(['publish', '--db', db, String(p.updateId), '--json']);
    expect(early.code).toBe(10);
    expect(JSON.parse(early.stdout).error.context.rule).toBe('minDelay');
    expect(await ok(['pause', '--db', db, '--by', 'ops', '--json'])).toMatchObject({ paused: true, changedBy: 'ops' });
    const paused = await params(['publish', '--db', db, String(p.updateId), '--json']);
    expect(JSON.parse(paused.stdout).error.context.rule).toBe('pause');
    await ok(['resume', '--db', db, '--json']);
    // A --rails file may only tighten the store's rails: lifting the debounce is refused, naming the field…
    const loosened = await params(['publish', '--db', db, String(p.updateId), '--rails', rails, '--json']);
    expect(loosened.code).toBe(10);
    expect(JSON.parse(loosened.stdout).error.context).toMatchObject({ rule: 'railsOverride', fields: ['types.maintenanceMarginRatio.minDelayMs'] });
    // …and is done, audited, on the store's rails instead.
    expect(await ok(['rails', 'set', '--db', db, '--file', rails, '--by', 'ops', '--reason', 'recalibrate back to back', '--json'])).toMatchObject({ version: 1, setBy: 'ops' });
    expect(await ok(['publish', '--db', db, String(p.updateId), '--json'])).toMatchObject({ version: 2 });
    const im = (await ok(['history', '--db', db, '--type', 'initialMarginRatio', '--json']))[0];
    expect(await ok(['disable', '--db', db, String(im.updateId), '--json'])).toMatchObject({ state: 'disabled' });
    const bad = await params(['propose', '--db', db, '--file', tmp.path('missing.json'), '--json']);
    expect(bad.code).toBe(9);
  });

  it('streams newly published records as NDJSON until SIGTERM', async () => {
    const wdb = tmp.path('watch.db');
    const f = tmp.path('w.json');
    writeFileSync(f, JSON.stringify([{ market: 'ETH-PERP', updateType: 'closeFactor', newValue: 0.5 }, { market: 'ETH-PERP', updateType: 'maxLeverage', newValue: 20 }]));
    const [a, b] = await ok(['propose', '--db', wdb, '--file', f, '--json']);
    // --after-seq 0 streams from the first publication, so the test does not depend on when the watcher starts.
    const watcher = spawnParams(['watch', '--db', wdb, '--json', '--poll-ms', '20', '--after-seq', '0']);
    const lines: { updateId: number }[] = [];
    const got = new Promise<void>((resolve) => createInterface({ input: watcher.stdout! }).on('line', (l) => { lines.push(JSON.parse(l)); if (lines.length === 2) resolve(); }));
    const exited = new Promise<number | null>((resolve) => watcher.on('close', (code) => resolve(code)));
    for (const r of [a, b]) {
      await ok(['approve', '--db', wdb, String(r.updateId), '--by', 'carol', '--json']);
      await ok(['publish', '--db', wdb, String(r.updateId), '--json']);
    }
    await got;
    watcher.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(lines.map((l) => l.updateId)).toEqual([a.updateId, b.updateId]);
  });

  it('prints the JSON Schema of the record and of the proposal file', async () => {
    const s = await ok(['schema']);
    expect(s.title).toMatch(/update record/);
    expect(s.oneOf).toHaveLength(8);
    const p = await ok(['schema', '--proposal']);
    expect(p.type).toBe('array');
  });
});
