/**
 * Request-parameter checks of the Binance wire server, with Binance's error codes and messages
 * (https://developers.binance.com/docs/binance-spot-api-docs/errors).
 */

/** A request Binance would reject with HTTP 400 and `{code, msg}`. */
export class RequestRejected extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'RequestRejected';
  }

  /** -1102: a mandatory parameter is missing or empty. */
  static mandatory(name: string): RequestRejected {
    return new RequestRejected(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
  }

  /** -1100: a parameter does not match its pattern. */
  static illegal(name: string, pattern: string): RequestRejected {
    return new RequestRejected(-1100, `Illegal characters found in parameter '${name}'; legal range is '${pattern}'.`);
  }
}

const DIGITS = /^[0-9]{1,20}$/;
// Binance allows ^[A-Z0-9-_.]{1,20}$; lower case and longer names are let through so that replayed
// series of other venues (e.g. Hyperliquid's kPEPE) can be served too.
const SYMBOL = /^[A-Za-z0-9\-_.]{1,40}$/;

/** Reads an optional non-negative integer parameter (absent or empty → undefined), or rejects with -1100. */
export function numberParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!DIGITS.test(v)) throw RequestRejected.illegal(name, '^[0-9]{1,20}$');
  return Number(v);
}

/** Reads `limit` (default `def`), rejecting values outside [1, max] with -1130. */
export function parseLimit(q: URLSearchParams, def: number, max: number): number {
  const v = numberParam(q, 'limit');
  if (v === undefined) return def;
  if (v < 1 || v > max) throw new RequestRejected(-1130, "Data sent for parameter 'limit' is not valid.");
  return v;
}

/** Reads the mandatory `symbol` and checks it is listed (-1102 missing, -1100 malformed, -1121 unknown). */
export function requireSymbol(q: URLSearchParams, provider: { symbols(): readonly { symbol: string }[] }): string {
  const s = q.get('symbol');
  if (s === null || s === '') throw RequestRejected.mandatory('symbol');
  if (!SYMBOL.test(s)) throw RequestRejected.illegal('symbol', '^[A-Z0-9-_.]{1,20}$');
  if (!provider.symbols().some((x) => x.symbol === s)) throw new RequestRejected(-1121, 'Invalid symbol.');
  return s;
}
