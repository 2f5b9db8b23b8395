/**
 * What liqcal prints to a terminal is text it controls: values that came from outside (a CSV header, a binary file
 * read as CSV, a market name, a venue's error body) are shown with their control characters escaped, so they cannot
 * move the cursor, retitle the window, recolour the screen, reorder a line (bidi overrides) or break a table.
 * And names that become keys of the store — market names, symbols, venues — are restricted to a safe character set.
 */

/**
 * C0 controls, DEL and C1 controls; the Unicode bidi embeddings, overrides, isolates and marks; the line and
 * paragraph separators; zero-width characters and the BOM. Tab and newline are handled by the caller's choice.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_CELL = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const escapeOne = (c: string): string => {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  if (c === '\u001b') return '\\e';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/**
 * `s` with every control character that could act on a terminal shown as a visible escape (`\e`, `\x07`,
 * `\u202e`…). With `newlines` (the default) `\n` and `\t` stay as they are — for whole messages and documents
 * liqcal lays out itself; without, they are escaped too — for one value inside a table cell or a line.
 */
export function escapeControls(s: string, opts: { newlines?: boolean } = {}): string {
  return s.replace(opts.newlines === false ? UNSAFE_IN_CELL : UNSAFE, escapeOne);
}

/**
 * JSON text made safe for a terminal and still valid JSON with the same value: `JSON.stringify` already escapes C0
 * controls; this also writes DEL, C1 controls, bidi controls, the line/paragraph separators and zero-width
 * characters as `\uXXXX` escapes.
 */
export function jsonForTerminal(json: string): string {
  // eslint-disable-next-line no-control-regex
  return json.replace(/[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The characters a market name, symbol or venue name may use: ASCII letters and digits, then also `.`, `_`, `-`,
 * `/` and `:` (BTCUSDT, BTC-USDT-SWAP, ETH/USD, binance-usdm, kPEPE, 1000PEPEUSDT), 1 to 64 of them, starting with
 * a letter or digit. No spaces, controls, quotes or non-ASCII look-alikes.
 */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;

/** A sentence saying why `value` is not a safe name (for `what`, e.g. "market name"), or undefined when it is one. */
export function safeNameProblem(value: string, what: string): string | undefined {
  if (SAFE_NAME.test(value)) return undefined;
  const shown = JSON.stringify(escapeControls(value, { newlines: false }).slice(0, 80));
  return `${what} ${shown} is not allowed: use 1–64 ASCII letters, digits and . _ - / : starting with a letter or digit (e.g. BTCUSDT, BTC-USDT-SWAP)`;
}
