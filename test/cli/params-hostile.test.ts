/**
 * Hostile input to `liqcal params …` through the real CLI against real SQLite files: absurd or out-of-rail expiries,
 * loose numeric ids and limits, exit codes that must not hide refusals or unusable values, and rails files that try
 * to loosen the store's guard rails.
 */
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = tempDir('liqcal-cli-params-hostile-');
afterAll(() => tmp.cleanup());
const H = 3_600_000;
/** Every test spawns many real CLI processes; on a loaded machine each takes seconds. */
const SLOW = 300_000;
let files = 0;

function params(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(['params', ...args]);
}

/** Runs a command that must exit with `code` and parses its JSON stdout. */
async function expectCode(args: readonly string[], code: number): Promise<any> {
  const r = await params([...args, '--json']);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
  return JSON.parse(r.stdout);
}

/** Writes a JSON file in the temp dir and returns its path. */
function json(x: unknown): string {
  const f = tmp.path(`f${files++}.json`);
  writeFileSync(f, JSON.stringify(x));
  return f;
}

const cf = (market: string, newValue: number, extra: Record<string, unknown> = {}) => ({ market, updateType: 'closeFactor', newValue, ...extra });

describe('liqcal params: a record cannot be made to live for ever', () => {
  const db = tmp.path('expiry.db');

  it('refuses an expiresAt that is no date (9007199254740991) as malformed: exit 3, nothing stored', async () => {
    await expectCode(['propose', '--db', db, '--file', json([cf('SEED', 0.5)])], 0);
    const r = await params(['propose', '--db', db, '--file', json([cf('BTC-PERP', 0.5, { expiresAt: Number.MAX_SAFE_INTEGER })]), '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error.message).toMatch(/0\.expiresAt: must be an instant in epoch ms no later than 253402300799999/);
    expect(await expectCode(['history', '--db', db, '--market', 'BTC-PERP'], 0)).toEqual([]);
  }, SLOW);

  it('refuses an expiresAt in the past or beyond timestamp + 6 h as a rail (exit 10, stored rejected), and nothing is published', async () => {
    const now = Date.now();
    const out = await expectCode(['propose', '--db', db, '--file', json([
      cf('BTC-PERP', 0.5, { expiresAt: now - 1000 }),
      cf('ETH-PERP', 0.5, { expiresAt: now + 6 * H + 60_000 }),
      cf('SOL-PERP', 0.5, { expiresAt: 253_402_300_799_999 }),
    ])], 10);
    expect(out.map((r: any) => [r.state, r.rejection?.rule])).toEqual([['rejected', 'expiry'], ['rejected', 'maxTtl'], ['rejected', 'maxTtl']]);
    expect(out[1].rejection.message).toMatch(/longer than the 6 h \(21600000 ms\) that closeFactor updates may live/);
    for (const r of out) {
      const a = await params(['approve', '--db', db, String(r.updateId), '--by', 'mallory', '--json']);
      expect(a.code).toBe(10);
    }
    for (const m of ['BTC-PERP', 'ETH-PERP', 'SOL-PERP']) {
      const l = await params(['latest', '--db', db, '--market', m, '--type', 'closeFactor', '--json']);
      expect(l.code).toBe(11);
      expect(l.stderr).toMatch(/Nothing has been published/);
    }
  }, SLOW);

  it('a head past its expiry: latest still prints the record with expired/usable, and exits 11', async () => {
    // A lifetime of 20 s (the CLI calls before the expiry take a few seconds each on a loaded machine).
    const [p] = await expectCode(['propose', '--db', db, '--file', json([cf('ADA-PERP', 0.5, { expiresAt: Date.now() + 20_000 })])], 0);
    expect(p.state).toBe('proposed');
    await expectCode(['approve', '--db', db, String(p.updateId), '--by', 'alice'], 0);
    await expectCode(['publish', '--db', db, String(p.updateId)], 0);
    const fresh = await params(['latest', '--db', db, '--market', 'ADA-PERP', '--type', 'closeFactor', '--json']);
    if (Date.now() < p.expiresAt - 1000) {
      expect(fresh.code).toBe(0);
      expect(JSON.parse(fresh.stdout)).toMatchObject({ updateId: p.updateId, usable: true, expired: false, paused: false });
    }
    await sleep(Math.max(0, p.expiresAt - Date.now()) + 100);
    const stale = await params(['latest', '--db', db, '--market', 'ADA-PERP', '--type', 'closeFactor', '--json']);
    expect(stale.code).toBe(11);
    expect(JSON.parse(stale.stdout)).toMatchObject({ updateId: p.updateId, state: 'published', usable: false, expired: true });
    expect(stale.stderr).toMatch(/is not usable: it expired.*Do not apply it/);
    const human = await params(['latest', '--db', db, '--market', 'ADA-PERP', '--type', 'closeFactor']);
    expect(human.code).toBe(11);
    expect(human.stdout).toMatch(/EXPIRED: do not apply/);
  }, SLOW);

  it('a head whose lifetime exceeds the store\'s (tightened) maxTtlMs counts as expired: exit 11', async () => {
    const own = tmp.path('ttl-cap.db');
    const [p] = await expectCode(['propose', '--db', own, '--file', json([cf('ADA-PERP', 0.5)])], 0);
    await expectCode(['approve', '--db', own, String(p.updateId), '--by', 'alice'], 0);
    await expectCode(['publish', '--db', own, String(p.updateId)], 0);
    await expectCode(['rails', 'set', '--db', own, '--file', json({ types: { closeFactor: { maxTtlMs: 1000 } } }), '--by', 'ops', '--reason', 'incident: trust nothing older than 1 s'], 0);
    await sleep(1100);
    expect(await expectCode(['latest', '--db', own, '--market', 'ADA-PERP', '--type', 'closeFactor'], 11)).toMatchObject({ updateId: p.updateId, expiresAt: p.timestamp + 6 * H, expired: true, usable: false });
  }, SLOW);

  it('a paused store or a disabled head: latest exits 11 with the record', async () => {
    const [p] = await expectCode(['propose', '--db', db, '--file', json([cf('XRP-PERP', 0.5)])], 0);
    await expectCode(['approve', '--db', db, String(p.updateId), '--by', 'alice'], 0);
    await expectCode(['publish', '--db', db, String(p.updateId)], 0);
    await expectCode(['pause', '--db', db, '--by', 'ops'], 0);
    expect(await expectCode(['latest', '--db', db, '--market', 'XRP-PERP', '--type', 'closeFactor'], 11)).toMatchObject({ paused: true, usable: false, expired: false });
    await expectCode(['resume', '--db', db, '--by', 'ops'], 0);
    await expectCode(['latest', '--db', db, '--market', 'XRP-PERP', '--type', 'closeFactor'], 0);
    await expectCode(['disable', '--db', db, String(p.updateId), '--by', 'ops'], 0);
    expect(await expectCode(['latest', '--db', db, '--market', 'XRP-PERP', '--type', 'closeFactor'], 11)).toMatchObject({ state: 'disabled', usable: false });
  }, SLOW);
});

describe('liqcal params: ids and limits are positive decimal integers', () => {
  const db = tmp.path('ids.db');

  it('refuses 0x7, 1e0, -1, empty, 07 and 0 as ids, and 0, empty, 1e0 as limits: exit 2 naming the option, nothing changed', async () => {
    const proposed = await expectCode(['propose', '--db', db, '--file', json(Array.from({ length: 7 }, (_, i) => cf(`M${i + 1}`, 0.5)))], 0);
    expect(proposed.map((r: any) => r.updateId)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const spellings = ['0x7', '1e0', '-1', '', '07', '0', '7.0', ' 7', '+7', '99999999999999999999'];
    for (const id of spellings) {
      for (const cmd of [['approve', '--by', 'mallory'], ...(id === '0x7' || id === '1e0' ? [['publish'], ['disable', '--by', 'mallory']] : [])]) {
        const r = await params([cmd[0]!, '--db', db, id, ...cmd.slice(1), '--json']);
        expect(r.code, `${cmd[0]} ${JSON.stringify(id)}: ${r.stderr}`).toBe(2);
        if (!id.startsWith('-')) expect(JSON.parse(r.stdout).error).toMatchObject({ kind: 'usage', context: { option: 'The update id', value: id } });
      }
    }
    for (const [opt, value] of [['--limit', '0'], ['--limit', ''], ['--limit', '1e0'], ['--limit', '0x10'], ['--from-id', '07'], ['--from-id', '0'], ['--limit', '-5']] as const) {
      const r = await params(['history', '--db', db, `${opt}=${value}`, '--json']);
      expect(r.code, `${opt}=${value}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`${opt} must be a positive whole number`);
    }
    for (const args of [['--poll-ms', '0'], ['--after-seq', '-1'], ['--after-seq', '0x1'], ['--poll-ms', '1e3']]) {
      const r = await params(['watch', '--db', db, ...args, '--json']);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
    }
    // Nothing changed: every proposal is still proposed, and the good spellings still work.
    expect((await expectCode(['history', '--db', db], 0)).map((r: any) => r.state)).toEqual(Array(7).fill('proposed'));
    expect(await expectCode(['history', '--db', db, '--limit', '2', '--from-id', '6'], 0)).toHaveLength(2);
    expect(await expectCode(['approve', '--db', db, '7', '--by', 'alice'], 0)).toMatchObject({ updateId: 7, state: 'approved' });
  }, SLOW);

  it('liqcal serve refuses a loose --port or --poll-ms before opening anything (exit 2)', async () => {
    for (const args of [['--port', '0x50'], ['--port', '1e3'], ['--port', '70000'], ['--poll-ms', '0']]) {
      const r = await runCli(['serve', '--db', db, '--token-file', tmp.path('no-token'), ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(args[0]!);
    }
  }, SLOW);
});

describe('liqcal params propose: exit code 10 when any proposal is refused', () => {
  const db = tmp.path('refused.db');

  it('all refused → 10; partly refused → 10 with the accepted ones stored as proposed and every one listed', async () => {
    const all = await expectCode(['propose', '--db', db, '--file', json([cf('BTC-PERP', 3), cf('ETH-PERP', 0)])], 10);
    expect(all.map((r: any) => r.state)).toEqual(['rejected', 'rejected']);
    const some = await params(['propose', '--db', db, '--file', json([cf('BTC-PERP', 0.5), cf('ETH-PERP', 7), cf('SOL-PERP', 0.6)]), '--json']);
    expect(some.code).toBe(10);
    expect(some.stderr).toMatch(/1 of 3 proposal\(s\) were refused by the guard rails \(bounds: update 4\).*2 stored as proposed/);
    expect(JSON.parse(some.stdout).map((r: any) => [r.market, r.state])).toEqual([['BTC-PERP', 'proposed'], ['ETH-PERP', 'rejected'], ['SOL-PERP', 'proposed']]);
    expect(await expectCode(['propose', '--db', db, '--file', json([cf('BNB-PERP', 0.5)])], 0)).toHaveLength(1);
  }, SLOW);
});

describe('liqcal params rails: the rails belong to the store', () => {
  const db = tmp.path('rails.db');

  it('sets rails as audited versions, shows them and their history; --by and --reason are required', async () => {
    const defaults = await expectCode(['propose', '--db', db, '--file', json([cf('SEED', 0.5)])], 0);
    expect(defaults[0].expiresAt - defaults[0].timestamp).toBe(6 * H);
    expect(await expectCode(['rails', 'show', '--db', db], 0)).toMatchObject({ version: null, source: 'defaults', setBy: null, rails: { ttlMs: 6 * H, types: { closeFactor: { minDelayMs: H, maxTtlMs: 6 * H } } } });
    expect(await expectCode(['rails', 'history', '--db', db], 0)).toEqual([]);
    const file = json({ types: { closeFactor: { minDelayMs: 0, max: 0.9 } } });
    expect((await params(['rails', 'set', '--db', db, '--file', file, '--by', 'alice'])).code).toBe(2);
    expect((await params(['rails', 'set', '--db', db, '--file', file, '--reason', 'why'])).code).toBe(2);
    const blank = await params(['rails', 'set', '--db', db, '--file', file, '--by', 'alice', '--reason', '  ', '--json']);
    expect(blank.code).toBe(4);
    expect(blank.stderr).toMatch(/needs a reason/);
    const bad = await params(['rails', 'set', '--db', db, '--file', json({ types: { closeFactor: { minDelayMs: 'soon' } } }), '--by', 'alice', '--reason', 'x', '--json']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/types\.closeFactor\.minDelayMs/);
    const v1 = await expectCode(['rails', 'set', '--db', db, '--file', file, '--by', 'alice', '--reason', 'recalibrate closeFactor hourly'], 0);
    expect(v1).toMatchObject({ version: 1, setBy: 'alice', reason: 'recalibrate closeFactor hourly', rails: { types: { closeFactor: { minDelayMs: 0, max: 0.9 } } } });
    expect(v1.changes).toEqual([
      { field: 'types.closeFactor.minDelayMs', from: H, to: 0, loosens: true, why: 'a smaller minDelayMs' },
      { field: 'types.closeFactor.max', from: 1, to: 0.9, loosens: false, why: '' },
    ]);
    const v2 = await expectCode(['rails', 'set', '--db', db, '--file', json({ types: { closeFactor: { minDelayMs: 0, max: 0.9, maxTtlMs: H } } }), '--by', 'bob', '--reason', 'shorter lifetimes'], 0);
    expect(v2).toMatchObject({ version: 2, setBy: 'bob', changes: [{ field: 'types.closeFactor.maxTtlMs', from: 6 * H, to: H, loosens: false }] });
    const shown = await expectCode(['rails', 'show', '--db', db], 0);
    expect(shown).toMatchObject({ version: 2, source: 'store', setBy: 'bob', reason: 'shorter lifetimes', rails: { types: { closeFactor: { minDelayMs: 0, max: 0.9, maxTtlMs: H } } } });
    expect(typeof shown.atMs).toBe('number');
    const history = await expectCode(['rails', 'history', '--db', db], 0);
    expect(history.map((v: any) => [v.version, v.setBy, v.reason])).toEqual([[1, 'alice', 'recalibrate closeFactor hourly'], [2, 'bob', 'shorter lifetimes']]);
    expect((await params(['rails', 'history', '--db', db])).stdout).toMatch(/1\s+\S+\s+alice\s+recalibrate closeFactor hourly\s+types\.closeFactor\.minDelayMs \(looser\)/);
    // The store's rails now decide: the default lifetime of closeFactor is its maxTtlMs (1 h), and 0.95 is above max.
    const [a, b] = await expectCode(['propose', '--db', db, '--file', json([cf('BTC-PERP', 0.5), cf('ETH-PERP', 0.95)])], 10);
    expect(a.expiresAt - a.timestamp).toBe(H);
    expect(b.rejection).toMatchObject({ rule: 'bounds', values: { max: 0.9 } });
  }, SLOW);

  it('a --rails file that loosens anything is refused naming the field (exit 10, nothing stored); one that tightens applies to that command only', async () => {
    const before = (await expectCode(['history', '--db', db], 0)).length;
    for (const [override, field] of [
      [{ types: { closeFactor: { max: 1 } } }, 'types.closeFactor.max'],
      [{ types: { maintenanceMarginRatio: { maxChange: { mode: 'absolute', limit: 0.05 } } } }, 'types.maintenanceMarginRatio.maxChange'],
      [{ types: { maxLeverage: { autoApprove: true, minDelayMs: 60_000 } } }, 'types.maxLeverage.minDelayMs'],
      [{ types: { closeFactor: { maxTtlMs: 2 * H } } }, 'types.closeFactor.maxTtlMs'],
      [{ types: { liquidationPenalty: { allowZero: true } } }, 'types.liquidationPenalty.allowZero'],
    ] as const) {
      const rails = json(override);
      const r = await params(['propose', '--db', db, '--file', json([cf('DOGE-PERP', 0.5)]), '--rails', rails, '--json']);
      expect(r.code, r.stderr).toBe(10);
      expect(JSON.parse(r.stdout).error.context).toMatchObject({ rule: 'railsOverride', fields: [field] });
      expect(r.stderr).toContain(`The rails config ${rails} would loosen the store's rails (version 2, set by bob): ${field}`);
      expect(r.stderr).toContain('liqcal params rails set');
    }
    expect(await expectCode(['history', '--db', db], 0)).toHaveLength(before);
    // Tighter for one command: closeFactor at most 0.4 → 0.5 is refused by the bounds rail, under this command only.
    const tight = json({ types: { closeFactor: { max: 0.4 } } });
    const [refused] = await expectCode(['propose', '--db', db, '--file', json([cf('DOGE-PERP', 0.5, { referenceId: 'tight' })]), '--rails', tight], 10);
    expect(refused.rejection).toMatchObject({ rule: 'bounds', values: { max: 0.4 } });
    const [accepted] = await expectCode(['propose', '--db', db, '--file', json([cf('DOGE-PERP', 0.5, { referenceId: 'store' })])], 0);
    expect(accepted.state).toBe('proposed');
    // A publish under a tighter file is checked with it too; without it the store's rails apply.
    await expectCode(['approve', '--db', db, String(accepted.updateId), '--by', 'alice'], 0);
    const held = await params(['publish', '--db', db, String(accepted.updateId), '--rails', tight, '--json']);
    expect(held.code).toBe(10);
    expect(JSON.parse(held.stdout).error.context.rule).toBe('bounds');
    expect(await expectCode(['rails', 'show', '--db', db], 0)).toMatchObject({ version: 2 });
  }, SLOW);
});
