import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { isAppError, type AppError } from '../../src/core/errors.ts';
import { parseSecretJson, readSecretFile } from '../../src/params/secret-file.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = tempDir('liqcal-secret-file-');
afterAll(() => tmp.cleanup());

const SECRET = 'Zq8-very-secret-value-0123456789';
const posix = process.platform !== 'win32';
const uid = process.getuid?.() ?? -1;

function write(name: string, mode: number, owner?: number): string {
  const p = tmp.path(name);
  writeFileSync(p, SECRET);
  chmodSync(p, mode);
  if (owner !== undefined) chownSync(p, owner, owner);
  return p;
}

function configError(fn: () => unknown): AppError {
  try { fn(); } catch (e) { expect(isAppError(e, 'config'), String(e)).toBe(true); return e as AppError; }
  throw new Error('expected a config error');
}

describe.runIf(posix)('readSecretFile: private files only', () => {
  it('reads a file of mode 600 or 400 owned by this user', () => {
    expect(readSecretFile(write('ok600', 0o600), 'token file', 'hint')).toBe(SECRET);
    expect(readSecretFile(write('ok400', 0o400), 'token file', 'hint')).toBe(SECRET);
  });

  it.each([
    ['group-readable', 0o640, 'its group (read)'],
    ['group-writable', 0o620, 'its group (write)'],
    ['other-readable', 0o604, 'every other user (read)'],
    ['world-readable', 0o644, 'its group (read) and every other user (read)'],
    ['group-executable', 0o610, 'its group (execute)'],
  ])('refuses a %s file (mode %o), naming the file, mode, owner and chmod, never the content', (name, mode, who) => {
    const p = write(name, mode);
    const e = configError(() => readSecretFile(p, 'token file', 'hint'));
    expect(e.message).toContain(p);
    expect(e.message).toContain(`mode ${mode.toString(8)}`);
    expect(e.message).toContain(`owner uid ${uid}`);
    expect(e.message).toContain(who);
    expect(e.message).toContain(`chmod 600 ${p}`);
    expect(`${e.message}${JSON.stringify(e.toJSON())}`).not.toContain(SECRET.slice(0, 6));
  });

  it.runIf(uid === 0)('refuses a mode-600 file owned by another user, naming both uids and the chown', () => {
    const p = write('foreign', 0o600, 65534);
    const e = configError(() => readSecretFile(p, 'webhook configuration', 'hint'));
    expect(e.message).toContain(p);
    expect(e.message).toContain('owned by uid 65534');
    expect(e.message).toContain(`(uid ${uid}; mode 600)`);
    expect(e.message).toContain(`chown ${uid} ${p}`);
    expect(e.message).not.toContain(SECRET.slice(0, 6));
  });

  it('refuses a directory and a missing file with the hint', () => {
    const dir = tmp.path('a-dir');
    mkdirSync(dir, { mode: 0o700 });
    expect(configError(() => readSecretFile(dir, 'token file', 'Create it.')).message).toContain('is not a regular file. Create it.');
    expect(configError(() => readSecretFile(tmp.path('absent'), 'token file', 'Create it.')).message).toMatch(/Cannot read the token file .*absent.*Create it\./);
  });
});

describe('parseSecretJson', () => {
  it('parses valid JSON and reports only the position of a syntax error', () => {
    expect(parseSecretJson('{"a": [1, 2]}', 'f.json', 'webhook configuration')).toEqual({ a: [1, 2] });
    const text = `{\n  "secret": "${SECRET}",\n  "urls": ["x"] ${SECRET}\n}`;
    const e = configError(() => parseSecretJson(text, 'f.json', 'webhook configuration'));
    expect(e.message).toContain('The webhook configuration f.json is not valid JSON');
    expect(e.message).toContain("line 3, column 17 (expected ',' or '}')");
    expect(e.context).toMatchObject({ path: 'f.json', line: 3, column: 17 });
    expect(JSON.stringify(e.toJSON())).not.toContain(SECRET.slice(0, 5));
  });
});
