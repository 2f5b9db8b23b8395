import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError, EXIT_CODES } from '../../core/errors.ts';
import { iso, parseInstant, systemClock } from '../../core/time.ts';
import { referencePriceFromStore } from '../../ingest/aggregate.ts';
import { dataStatus } from '../../ingest/quality.ts';
import { DEFAULT_DB_PATH, openStore, type Store } from '../../store/db.ts';
import { MarketData } from '../../store/market-data.ts';
import { list, makeOutput, positiveInt, table } from '../output.ts';

/** Opens a store read-only, or says where stores come from when there is none at `path`. */
function openExistingStore(path: string): Store {
  if (path !== ':memory:' && !existsSync(path)) {
    throw new AppError('io', `There is no store at ${path}. Pass --db with the path of your store, or create one first with liqcal import-csv or liqcal ingest (liqcal demo fills data/liqcal.db with simulated data).`, { context: { db: path } });
  }
  return openStore(path, { readonly: true });
}

/** Opens an existing store for writing (migrating it), or says where stores come from when there is none at `path`. */
function openWritableExistingStore(path: string): Store {
  openExistingStore(path).close();
  return openStore(path);
}

/** `liqcal data status|check|reference`: what the store holds, its quality, and reference prices. */
export function registerData(program: Command): void {
  const data = program.command('data').description('Inspect stored market data.');
  data.command('status')
    .description('Every stored series: rows, range, gaps, duplicates, OHLC violations and staleness.')
    .option('--db <path>', 'store file', DEFAULT_DB_PATH)
    .option('--now <time>', 'judge staleness as of this time (default now)')
    .option('--json', 'print as JSON: {"series":[{"venue","symbol","interval","bars","first","last","gaps",…}]}')
    .addHelpText('after', `
Examples:
  $ liqcal data status --db data/liqcal.db
  $ liqcal data status --now 2025-11-01 --json    # judge staleness as of the end of a historical data set`)
    .action((flags: { db: string; now?: string; json?: boolean }) => {
      const out = makeOutput(flags);
      const store = openExistingStore(flags.db);
      try {
        const status = dataStatus(new MarketData(store), flags.now ? parseInstant(flags.now, 'now') : systemClock.now());
        const skipped = status.invalidTimes.reduce((a, x) => a + x.rows, 0);
        const note = skipped > 0 ? `\n${skipped} stored row(s) in ${status.invalidTimes.length} series have an implausible or off-grid time and are skipped by every reader; \`liqcal data check\` lists them (--delete removes them).` : '';
        out.result(status, () => (status.series.length === 0 ? 'The store holds no readable market data yet. Run `liqcal ingest` or `liqcal import-csv`.' : table(
          ['kind', 'venue', 'symbol', 'interval', 'rows', 'first', 'last', 'gaps', 'missing', 'stale'],
          status.series.map((s) => [s.kind, s.venue, s.symbol, s.interval, s.bars, s.first ?? '-', s.last ?? '-', s.gaps, s.missingBars, s.stale ? 'STALE' : 'ok']),
        )) + note);
      } finally {
        store.close();
      }
    });
  data.command('check')
    .description('Scan every stored row against the rules of the store (plausible time, interval grid, sound prices and OHLC): report what breaks them; exit 6 when anything does.')
    .option('--db <path>', 'store file', DEFAULT_DB_PATH)
    .option('--delete', 'delete the rows found (one transaction; watermarks move back to the last valid row)')
    .option('--json', 'print as JSON: {"ok","invalidRows","series":[{"kind","venue","symbol","interval","invalid","examples":[{"timeMs","time","field","problem"}]}]}')
    .addHelpText('after', `
Rows written by this liqcal always pass; a store written by an older version, by hand or by another tool may hold
rows that do not (a time in microseconds, a bar in the year 3000, an off-grid bar). Readers skip them; this lists them.
Exit codes: 0 nothing found (or everything found was deleted), 6 invalid rows are stored.
Examples:
  $ liqcal data check --db data/liqcal.db
  $ liqcal data check --db data/liqcal.db --delete --json`)
    .action((flags: { db: string; delete?: boolean; json?: boolean }) => {
      const out = makeOutput(flags);
      const store = flags.delete ? openWritableExistingStore(flags.db) : openExistingStore(flags.db);
      try {
        const md = new MarketData(store);
        const found = flags.delete ? md.deleteInvalidRows() : md.findInvalidRows();
        const invalidRows = found.reduce((a, s) => a + s.invalid, 0);
        const ok = invalidRows === 0 || flags.delete === true;
        out.result({ ok, invalidRows, deleted: flags.delete ? invalidRows : 0, series: found }, () => (found.length === 0
          ? 'Every stored row passes the store\'s rules.'
          : `${table(['kind', 'venue', 'symbol', 'interval', 'invalid', 'first problem'], found.map((s) => [s.kind, s.venue, s.symbol, s.interval, s.invalid, `${s.examples[0]!.time}: ${s.examples[0]!.problem}`]))}
${invalidRows} invalid row(s) ${flags.delete ? 'deleted' : 'stored; readers skip them. Rerun with --delete to remove them'}.`));
        if (!ok) process.exitCode = EXIT_CODES.dataQuality;
      } finally {
        store.close();
      }
    });
  data.command('reference')
    .description('Multi-venue reference price: median of fresh sources with outliers rejected; says why each excluded source was excluded.')
    .requiredOption('--sources <list>', 'venue:symbol pairs, e.g. binance-spot:BTCUSDT,okx:BTC-USDT,coinbase:BTC-USD', list)
    .option('--interval <iv>', 'bar interval to read closes from', '1h')
    .option('--at <time>', 'as of (default now)')
    .option('--max-age-s <s>', 'a source older than this is stale', positiveInt('--max-age-s'), 7200)
    .option('--max-deviation <frac>', 'reject a source this far from the median (fraction)', '0.02')
    .option('--db <path>', 'store file', DEFAULT_DB_PATH)
    .option('--json', 'print as JSON')
    .addHelpText('after', `
Examples:
  $ liqcal data reference --sources binance-spot:BTCUSDT,okx:BTC-USDT-SWAP,coinbase:BTC-USD
  $ liqcal data reference --sources binance-spot:ETHUSDT,bybit:ETHUSDT --at 2025-10-10T21:00:00Z --max-deviation 0.05 --json`)
    .action((flags: { sources: string[]; interval: string; at?: string; maxAgeS: number; maxDeviation: string; db: string; json?: boolean }) => {
      const out = makeOutput(flags);
      const sources = flags.sources.map((s) => {
        const i = s.indexOf(':');
        if (i <= 0 || i === s.length - 1) throw new AppError('config', `--sources entry "${s}" is not venue:symbol; write each source as venue:symbol, e.g. binance-spot:BTCUSDT.`, { context: { source: s } });
        return { venue: s.slice(0, i), symbol: s.slice(i + 1), interval: flags.interval };
      });
      const maxDeviation = Number(flags.maxDeviation);
      if (!(maxDeviation > 0)) throw new AppError('config', `--max-deviation must be a positive fraction such as 0.02 (2 %), not "${flags.maxDeviation}".`, { context: { maxDeviation: flags.maxDeviation } });
      const atMs = flags.at ? parseInstant(flags.at, 'at') : systemClock.now();
      const store = openExistingStore(flags.db);
      try {
        const r = referencePriceFromStore(new MarketData(store), { sources, atMs, maxAgeMs: flags.maxAgeS * 1000, maxDeviation });
        out.result({ at: iso(atMs), ...r }, () => `${r.ok ? `reference ${r.price}` : 'no reference price'} from ${r.used.join(', ') || 'no source'}${r.excluded.map((x) => `\n  excluded ${x.source}: ${x.detail}`).join('')}`);
      } finally {
        store.close();
      }
    });
}
