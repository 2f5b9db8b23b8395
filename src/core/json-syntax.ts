/**
 * Where a JSON text stops being valid, without quoting it. `JSON.parse` error messages quote the input around the
 * error (`Unexpected token 'h', "{"secret": h"... is not valid JSON`), which would print part of a secret-bearing
 * file; {@link jsonSyntaxError} gives the line and column instead, and what was expected there.
 */

/** Where and why a JSON text is invalid: 1-based line and column (UTF-16 code units), the 0-based offset, and what was expected. */
export interface JsonSyntaxError {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
  /** What the grammar expected at that point, e.g. `',' or '}'` — never the text found there. */
  readonly expected: string;
}

class Fail {
  constructor(readonly offset: number, readonly expected: string) {}
}

/**
 * Checks `text` against the JSON grammar (RFC 8259, as `JSON.parse` accepts it) and returns the first error's
 * position, or null when the text is valid JSON.
 */
export function jsonSyntaxError(text: string): JsonSyntaxError | null {
  let i = 0;
  const ws = (): void => { while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++; };
  const fail = (expected: string): never => { throw new Fail(i, expected); };
  const literal = (word: string): void => {
    for (const ch of word) { if (text[i] !== ch) fail(`the literal ${word}`); i++; }
  };
  const digits = (): void => {
    if (!/[0-9]/.test(text[i] ?? '')) fail('a digit');
    while (/[0-9]/.test(text[i] ?? '')) i++;
  };
  const number = (): void => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') { i++; digits(); }
    if (text[i] === 'e' || text[i] === 'E') { i++; if (text[i] === '+' || text[i] === '-') i++; digits(); }
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail('a closing \'"\'');
      const c = text.charCodeAt(i);
      if (c === 0x22) { i++; return; }
      if (c < 0x20) fail('an escaped control character (a raw one is not allowed in a string)');
      if (c === 0x5c) {
        i++;
        const e = text[i];
        if (e === 'u') {
          i++;
          for (let k = 0; k < 4; k++) { if (!/[0-9a-fA-F]/.test(text[i] ?? '')) fail('four hex digits after \\u'); i++; }
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else fail('a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)');
      } else i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a property name in double quotes');
        string(); ws();
        if (text[i] !== ':') fail("':' after the property name");
        i++; value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail("',' or '}'");
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail("',' or ']'");
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    fail(i >= text.length ? 'a value (the text ends early)' : 'a value (an object, array, string, number, true, false or null)');
  };
  let err: Fail | null = null;
  try {
    value(); ws();
    if (i < text.length) fail('the end of the text (there is more after the value)');
  } catch (e) {
    if (!(e instanceof Fail)) return null; // nested too deep to scan: the caller still knows the text is invalid
    err = e;
  }
  if (err === null) return null;
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < err.offset && k < text.length; k++) if (text[k] === '\n') { line++; lineStart = k + 1; }
  return { offset: err.offset, line, column: err.offset - lineStart + 1, expected: err.expected };
}

/**
 * Parses JSON that may hold secrets. On a syntax error it throws `onError(position)` — build an error that names the
 * file and the position only (the position is null when it cannot be found); `JSON.parse`'s own message, which
 * quotes the text, is never used.
 */
export function parseJsonQuietly(text: string, onError: (at: JsonSyntaxError | null) => Error): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw onError(jsonSyntaxError(text));
  }
}

/** `line 3, column 17 (expected ',' or '}')`, or `an unknown position` for a null position. */
export function describeJsonPosition(at: JsonSyntaxError | null): string {
  return at === null ? 'an unknown position' : `line ${at.line}, column ${at.column} (expected ${at.expected})`;
}
