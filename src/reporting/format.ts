/**
 * Number formatting shared by the report model's sentences and the renderers: ratios as percentages, basis points,
 * leverage multiples, USD amounts, and null (not known) as an em dash.
 */
import type { ParameterRow } from './model.ts';

/** A unit of a parameter value. */
export type Unit = ParameterRow['unit'];

/** A fraction as a percentage, e.g. 0.01234 → "1.23%"; null → "—". */
export function pct(x: number | null, digits = 2): string {
  return x === null || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(digits)}%`;
}

/** An ISO-8601 UTC instant as "2025-11-01 00:00 UTC" (other text is returned as is; null → "—"). */
export function when(isoTime: string | null): string {
  if (isoTime === null) return '—';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?Z$/.exec(isoTime);
  return m ? `${m[1]} ${m[2]} UTC` : isoTime;
}

/** A plain number with `digits` decimals; null → "—". */
export function num(x: number | null, digits = 3): string {
  return x === null || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

/** A USD amount rounded to whole dollars with thousands separators, e.g. "$12,345". */
export function usd(x: number | null): string {
  return x === null || !Number.isFinite(x) ? '—' : `$${Math.round(x).toLocaleString('en-US')}`;
}

/** A parameter value in its unit: fraction → "1.23%", bps → "12.3 bps", x → "25×". */
export function value(x: number | null, unit: Unit): string {
  if (x === null || !Number.isFinite(x)) return '—';
  if (unit === 'fraction') return pct(x, 3);
  if (unit === 'bps') return `${x.toFixed(1)} bps`;
  return `${Number(x.toFixed(2))}×`;
}

/** A signed change in the parameter's unit: fraction → "+0.150 pp", bps → "−1.2 bps", x → "+5×"; 0 → "0". */
export function delta(x: number | null, unit: Unit): string {
  if (x === null || !Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  const s = x > 0 ? '+' : '−';
  const a = Math.abs(x);
  if (unit === 'fraction') return `${s}${(a * 100).toFixed(3)} pp`;
  if (unit === 'bps') return `${s}${a.toFixed(1)} bps`;
  return `${s}${Number(a.toFixed(2))}×`;
}

/** A signed relative change, e.g. 0.125 → "+12.5%"; null → "—". */
export function rel(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  return `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}%`;
}

/** A p-value to 3 decimals, "<0.001" below that. */
export function pval(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '—';
  return x < 0.001 ? '<0.001' : x.toFixed(3);
}

/** Human name of a parameter, e.g. maintenanceMarginRatio → "maintenance margin". */
export const PARAMETER_NAMES: Readonly<Record<string, string>> = {
  maintenanceMarginRatio: 'maintenance margin',
  initialMarginRatio: 'initial margin',
  liquidationPenalty: 'liquidation penalty',
  oracleLatencyBufferBps: 'oracle latency buffer',
  closeFactor: 'close factor',
  maxLeverage: 'maximum leverage',
  leverageTiers: 'leverage tiers',
  circuitBreaker: 'circuit breaker',
};
