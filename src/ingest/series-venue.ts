import { AppError } from '../core/errors.ts';
import type { MarketData } from '../store/market-data.ts';

/**
 * The venue whose bars to use for `symbols` at `interval`: the one given, else the only venue that
 * stores all of them. Ambiguity or absence is a `config` error listing what the store holds.
 */
export function resolveBarVenue(md: MarketData, symbols: readonly string[], interval: string, venue?: string): string {
  const series = md.listSeries().filter((s) => s.kind === 'bars' && s.interval === interval);
  if (venue !== undefined) {
    const missing = symbols.filter((sym) => !series.some((s) => s.venue === venue && s.symbol === sym));
    if (missing.length) throw new AppError('config', `The store has no ${interval} bars of ${missing.join(', ')} from venue "${venue}". Ingest or import them first (liqcal ingest / import-csv).`, { context: { venue, missing } });
    return venue;
  }
  const venues = [...new Set(series.map((s) => s.venue))].filter((v) => symbols.every((sym) => series.some((s) => s.venue === v && s.symbol === sym)));
  if (venues.length === 1) return venues[0]!;
  const held = series.map((s) => `${s.venue}:${s.symbol}`).join(', ') || 'nothing';
  if (venues.length === 0) throw new AppError('config', `No venue in the store has ${interval} bars of all of ${symbols.join(', ')} (it holds ${held}). Ingest or import them first.`, { context: { symbols, interval } });
  throw new AppError('config', `Several venues hold ${interval} bars of ${symbols.join(', ')}: ${venues.join(', ')}. Choose one with --venue.`, { context: { venues } });
}
