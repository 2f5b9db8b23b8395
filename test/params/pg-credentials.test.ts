import { chmodSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isAppError, type AppError } from '../../src/core/errors.ts';
import { checkPostgresUrl, usePostgresPasswordFile } from '../../src/params/pg-credentials.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = tempDir('liqcal-pg-credentials-');
const saved = process.env.PGPASSWORD;
afterEach(() => { if (saved === undefined) delete process.env.PGPASSWORD; else process.env.PGPASSWORD = saved; });
afterAll(() => tmp.cleanup());

function configError(fn: () => unknown): AppError {
  try { fn(); } catch (e) { expect(isAppError(e, 'config'), String(e)).toBe(true); return e as AppError; }
  throw new Error('expected a config error');
}

describe('checkPostgresUrl', () => {
  it('accepts URLs without a password and refuses user:password@ and ?password=, without repeating them', () => {
    expect(() => checkPostgresUrl('postgres://liqcal@db.internal:5432/prod', '--postgres')).not.toThrow();
    expect(() => checkPostgresUrl('postgresql://db/prod?sslmode=require', '--postgres')).not.toThrow();
    for (const url of ['postgres://u:Zp9Kq2Wm@db/prod', 'postgres://u@db/prod?password=Zp9Kq2Wm', 'postgres://:Zp9Kq2Wm@db/prod']) {
      const e = configError(() => checkPostgresUrl(url, '--postgres'));
      expect(e.message).toMatch(/^The --postgres URL carries /);
      expect(e.message).toContain('--postgres-password-file');
      expect(`${e.message}${JSON.stringify(e.toJSON())}`).not.toContain('Zp9Kq2Wm');
    }
  });
});

describe('usePostgresPasswordFile', () => {
  it('hands a private file\'s password (trailing newline dropped) to the pg driver through PGPASSWORD', () => {
    const f = tmp.path('pw');
    writeFileSync(f, 'Zp9Kq2Wm-pw\n');
    chmodSync(f, 0o600);
    usePostgresPasswordFile(f);
    expect(process.env.PGPASSWORD).toBe('Zp9Kq2Wm-pw');
    expect(new pg.Client({ connectionString: 'postgres://liqcal@127.0.0.1:9/db' }).password).toBe('Zp9Kq2Wm-pw');
  });

  it.runIf(process.platform !== 'win32')('refuses a readable, empty or multi-line password file, never showing the content', () => {
    const write = (name: string, text: string, mode: number): string => { const f = tmp.path(name); writeFileSync(f, text); chmodSync(f, mode); return f; };
    const open = configError(() => usePostgresPasswordFile(write('open', 'Zp9Kq2Wm', 0o640)));
    expect(open.message).toContain('chmod 600');
    expect(configError(() => usePostgresPasswordFile(write('empty', '\n', 0o600))).message).toContain('is empty');
    const multi = configError(() => usePostgresPasswordFile(write('multi', 'Zp9Kq2Wm\nsecond\n', 0o600)));
    expect(multi.message).toContain('more than one line');
    for (const e of [open, multi]) expect(e.message).not.toContain('Zp9Kq2Wm');
    expect(process.env.PGPASSWORD).toBe(saved);
  });
});
