import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeJsonPosition, jsonSyntaxError } from '../../src/core/json-syntax.ts';
import { findUrlCredentials, isSecretKey, redact, REDACTED, redactText, redactUrl, urlCredentials } from '../../src/core/redact.ts';

/** Secrets: upper-case letters and digits behind a fixed prefix, so no other generated value can contain one. */
const secretArb = fc.string({ unit: fc.constantFrom(...'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'), minLength: 6, maxLength: 24 }).map((s) => `QX${s}`);
/** Secret-like keys in the spellings found in the wild. */
const secretKeyArb = fc.constantFrom('secret', 'token', 'password', 'passwd', 'apikey', 'api_key', 'apiKey', 'Authorization', 'credential', 'credentials',
  'X-Api-Key', 'dbPassword', 'ACCESS_TOKEN', 'clientSecret', 'refresh-token', 'PGPASSWORD', 'private_key', 'passphrase');
/** Ordinary keys and values: lower-case only (never a secret, never secret-like). */
const plainKeyArb = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz_'), minLength: 1, maxLength: 8 }).filter((k) => !isSecretKey(k) && k !== '__proto__');
const leafArb = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.string({ unit: fc.constantFrom(...'abcdefghij klm:/=@'), maxLength: 12 }));
const plainTree = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leafArb, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(plainKeyArb, tie('node'), { maxKeys: 3 })),
})).node;

/** One step from the root towards the secret: into an object key or an array slot, with siblings around it. */
const stepArb = fc.oneof(
  fc.record({ kind: fc.constant('obj' as const), key: plainKeyArb, siblings: fc.dictionary(plainKeyArb, plainTree, { maxKeys: 2 }) }),
  fc.record({ kind: fc.constant('arr' as const), before: fc.array(plainTree, { maxLength: 2 }), after: fc.array(plainTree, { maxLength: 2 }) }),
);
type Step = { kind: 'obj'; key: string; siblings: Record<string, unknown> } | { kind: 'arr'; before: unknown[]; after: unknown[] };

function wrap(inner: unknown, steps: readonly Step[]): unknown {
  return steps.reduceRight<unknown>((acc, s) => (s.kind === 'obj' ? { ...s.siblings, [s.key]: acc } : [...s.before, acc, ...s.after]), inner);
}

describe('isSecretKey', () => {
  it('matches secret-like keys in any case and spelling, but not the names of where a secret is kept', () => {
    for (const k of ['secret', 'Token', 'PASSWORD', 'passwd', 'api_key', 'apiKey', 'X-Api-Key', 'authorization', 'credentials', 'db.password', 'pwd', 'pass']) expect(isSecretKey(k), k).toBe(true);
    for (const k of ['tokenFile', 'token_file', 'passwordFile', 'urlEnv', 'passwordEnv', 'secretPath', 'MIN_TOKEN_LENGTH', 'url', 'compass', 'author', 'market', 'bypass']) expect(isSecretKey(k), k).toBe(false);
  });
});

describe('redact', () => {
  it('masks values under secret-like keys at any depth in objects, arrays, Maps and errors; keeps everything else', () => {
    const err = Object.assign(new Error('failed with password=hunter2'), { apiKey: 'k-123', code: 'E1' });
    const x = { a: 1, nested: { list: [{ Secret: 'x1' }, { credentials: { user: 'u', pass: 'p' } }, 'plain'] }, token: null, m: new Map([['password', 'x2'], ['ok', 'y']]), err, when: new Date(0) };
    const r = redact(x) as Record<string, unknown>;
    expect(r).toMatchObject({ a: 1, nested: { list: [{ Secret: REDACTED }, { credentials: REDACTED }, 'plain'] }, token: null, when: new Date(0) });
    expect([...(r.m as Map<string, unknown>)]).toEqual([['password', REDACTED], ['ok', 'y']]);
    expect(r.err).toMatchObject({ type: 'Error', message: `failed with password=${REDACTED}`, apiKey: REDACTED, code: 'E1' });
    expect(JSON.stringify(r)).not.toMatch(/hunter2|k-123|x1|x2/);
    expect(x.nested.list[0]).toEqual({ Secret: 'x1' }); // a copy: the input is untouched
  });

  it('survives cycles and redacts objects in their toJSON form', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(redact(a)).toEqual({ name: 'a', self: '[Circular]' });
    class Creds { toJSON() { return { user: 'u', password: 'p' }; } }
    expect(redact({ c: new Creds() })).toEqual({ c: { user: 'u', password: REDACTED } });
  });

  it('property: a secret under a secret-like key at any depth never appears in JSON.stringify(redact(x))', () => {
    fc.assert(fc.property(secretArb, secretKeyArb, fc.array(stepArb, { maxLength: 6 }), fc.dictionary(plainKeyArb, plainTree, { maxKeys: 2 }), fc.boolean(), (secret, key, steps, siblings, nestInside) => {
      const value = nestInside ? { inner: [secret, { deeper: secret }] } : secret;
      const doc = wrap({ ...siblings, [key]: value }, steps as Step[]);
      expect(JSON.stringify(doc)).toContain(secret);
      const out = JSON.stringify(redact(doc));
      expect(out).not.toContain(secret);
      expect(out).toContain(REDACTED);
    }), { numRuns: 400, seed: 11 });
  });

  it('property: a URL password or a key=value secret inside any string at any depth is masked too', () => {
    fc.assert(fc.property(secretArb, fc.array(stepArb, { maxLength: 5 }), fc.constantFrom('url', 'note', 'args'), fc.nat(2), (secret, steps, key, form) => {
      const text = [`connect to postgres://alice:${secret}@db.internal:5432/prod failed`, `running with PGPASSWORD=${secret} set`, `GET /hook?access_token=${secret}&x=1`][form]!;
      const out = JSON.stringify(redact(wrap({ [key]: text }, steps as Step[])));
      expect(out).not.toContain(secret);
    }), { numRuns: 300, seed: 12 });
  });
});

describe('redactText and redactUrl', () => {
  it.each([
    ['connect to postgres://u:s3cret@127.0.0.1/db failed', `connect to postgres://u:${REDACTED}@127.0.0.1/db failed`],
    ['redis://:pw@h:6379', `redis://:${REDACTED}@h:6379`],
    ['{"token":"abc","a":1,"apiKey": 12345, "tokenFile":"/x"}', `{"token":"${REDACTED}","a":1,"apiKey": "${REDACTED}", "tokenFile":"/x"}`],
    ["{ password: 'hunter2', user: 'x' }", `{ password: '${REDACTED}', user: 'x' }`],
    ['GET /x?access_token=abcdef&y=2', `GET /x?access_token=${REDACTED}&y=2`],
    ['PGPASSWORD=hunter2 psql', `PGPASSWORD=${REDACTED} psql`],
    ['Authorization: Bearer abcdefghijklmnop', `Authorization: Bearer ${REDACTED}`],
  ])('masks %s', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it.each([
    'send "Authorization: Bearer <token>"',
    'The token file /tmp/x is empty; write a random token into it.',
    'secret: the shared secret must be at least 16 characters',
    '--token-file=/tmp/tok',
    'postgres://alice@db:5432/prod',
    'plain text with user@example.com',
  ])('leaves %s alone', (input) => {
    expect(redactText(input)).toBe(input);
  });

  it('redactUrl masks the password and secret query parameters only', () => {
    expect(redactUrl('http://u:p@h/x?token=1&a=2')).toBe(`http://u:${REDACTED}@h/x?token=${REDACTED}&a=2`);
    expect(redactUrl('https://h/hook?a=1')).toBe('https://h/hook?a=1');
    expect(redactUrl('not a url, password=x')).toBe(`not a url, password=${REDACTED}`);
  });

  it('urlCredentials and findUrlCredentials describe credentials without repeating them', () => {
    expect(urlCredentials('postgres://u:s3cret@h/db', { allowUser: true })).toBe('carries a password in its user-info part (user:password@)');
    expect(urlCredentials('postgres://u@h/db', { allowUser: true })).toBeNull();
    expect(urlCredentials('http://u@h/')).toBe('carries a user name in its user-info part (user@)');
    expect(urlCredentials('postgres://h/db?password=s3cret&sslmode=require', { allowUser: true })).toBe('carries the secret query parameter "password"');
    expect(urlCredentials('not a url')).toBeNull();
    const found = findUrlCredentials({ store: { postgres: { url: 'postgres://u:s3cret@h/db' } }, list: ['x', 'https://h/?token=s3cret'], ok: 'postgres://u@h/db' });
    expect(found.map((f) => f.path)).toEqual([['store', 'postgres', 'url'], ['list', 1]]);
    expect(JSON.stringify(found)).not.toContain('s3cret');
  });
});

describe('jsonSyntaxError', () => {
  it('agrees with JSON.parse on validity, for random documents and random corruptions of them', () => {
    fc.assert(fc.property(fc.json(), fc.nat(), fc.constantFrom('', ',', '}', ']', '"', 'x', ':', '\n', '\\', '{'), (text, at, insert) => {
      expect(jsonSyntaxError(text)).toBeNull();
      const i = at % (text.length + 1);
      const broken = `${text.slice(0, i)}${insert}${text.slice(i)}`;
      let valid = true;
      try { JSON.parse(broken); } catch { valid = false; }
      const err = jsonSyntaxError(broken);
      expect(err === null).toBe(valid);
      if (err) expect(err.offset).toBeLessThanOrEqual(broken.length);
    }), { numRuns: 500, seed: 13 });
  });

  it('gives 1-based line and column and what was expected, never the text', () => {
    expect(jsonSyntaxError('{\n  "a": 1,\n  "b": hunter2\n}')).toEqual({ offset: 19, line: 3, column: 8, expected: 'a value (an object, array, string, number, true, false or null)' });
    expect(describeJsonPosition(jsonSyntaxError('[1, 2'))).toBe("line 1, column 6 (expected ',' or ']')");
    expect(describeJsonPosition(null)).toBe('an unknown position');
  });
});
