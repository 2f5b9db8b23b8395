/**
 * What every notebook needs and no library user does: its slice from the command line or the environment, the
 * shared data files imported into a throwaway in-memory store, and an output page (Markdown + SVG figures drawn
 * with vega-lite + the numbers as JSON). liqcal itself is reached only through the public API.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { AppError, importCsv, iso, MarketData, openStore, parseInstant, type Store } from '../../src/index.ts';

/** The repository root (notebooks/lib/ is two levels down). */
export const REPO_ROOT = resolve(new URL('../..', import.meta.url).pathname);

/** The shared market data, read in place: `LIQCAL_SHARED_DATA`, else `../shared/data` beside the repository. */
export const SHARED_DATA = resolve(process.env.LIQCAL_SHARED_DATA ?? join(REPO_ROOT, '../shared/data'));

/** The 8 Binance spot symbols of the shared 1h data (2022-01 … 2025-10). */
export const SPOT_SYMBOLS: readonly string[] = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT', 'XRPUSDT', 'DOGEUSDT', 'AVAXUSDT', 'LINKUSDT'];

/** First instant of the spot 1h files; earlier bars come from the USDT-M perpetual files (2020-01 … 2024-04). */
export const SPOT_START_MS = Date.parse('2022-01-01T00:00:00Z');

/** A notebook's slice: symbols, time range, size, output directory, and its own extra options. */
export interface NotebookArgs {
  readonly name: string;
  readonly symbols: readonly string[];
  /** Start and end (exclusive) of the studied period, epoch ms UTC. */
  readonly fromMs: number;
  readonly toMs: number;
  /** `--small`: a tiny configuration for tests (few epochs, small networks, few seeds). */
  readonly small: boolean;
  readonly outDir: string;
  /** Values of the notebook's extra string options (undefined when not given). */
  readonly extra: Readonly<Record<string, string | undefined>>;
}

/**
 * Reads the slice from `--symbols A,B --from ISO --to ISO --small --out DIR` (and the notebook's `extra`
 * options), falling back to `NOTEBOOK_SYMBOLS`, `NOTEBOOK_FROM`, `NOTEBOOK_TO`, `NOTEBOOK_SMALL=1`,
 * `NOTEBOOK_OUT`, then to `defaults` (the full run behind the README's figures). Output defaults to
 * notebooks/out/<name>/.
 */
export function notebookArgs(name: string, defaults: { symbols: readonly string[]; from: string; to: string }, extra: readonly string[] = [], argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): NotebookArgs {
  const options: Record<string, { type: 'string' | 'boolean' }> = { symbols: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' }, small: { type: 'boolean' } };
  for (const e of extra) options[e] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new AppError('config', `${(e as Error).message}. Options: --symbols A,B --from ISO --to ISO --small --out DIR${extra.map((x) => ` --${x} V`).join('')}.`);
  }
  const str = (k: string, envKey: string): string | undefined => (typeof values[k] === 'string' ? values[k] as string : env[envKey]);
  const symbols = (str('symbols', 'NOTEBOOK_SYMBOLS') ?? defaults.symbols.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  if (symbols.length === 0) throw new AppError('config', 'No symbols given: pass --symbols BTCUSDT,ETHUSDT (or set NOTEBOOK_SYMBOLS).');
  const fromMs = parseInstant(str('from', 'NOTEBOOK_FROM') ?? defaults.from, 'from');
  const toMs = parseInstant(str('to', 'NOTEBOOK_TO') ?? defaults.to, 'to');
  if (!(fromMs < toMs)) throw new AppError('config', `--from ${iso(fromMs)} must be before --to ${iso(toMs)}.`);
  const small = values.small === true || env.NOTEBOOK_SMALL === '1';
  const outDir = resolve(str('out', 'NOTEBOOK_OUT') ?? join(REPO_ROOT, 'notebooks', 'out', name));
  return { name, symbols, fromMs, toMs, small, outDir, extra: Object.fromEntries(extra.map((e) => [e, str(e, `NOTEBOOK_${e.toUpperCase().replace(/-/g, '_')}`)])) };
}

/** A throwaway in-memory store for one notebook run (the shared files are imported, never copied to disk). */
export function memoryStore(): { store: Store; md: MarketData } {
  const store = openStore(':memory:');
  return { store, md: new MarketData(store) };
}

/**
 * Imports the Binance spot 1h files of `symbols` whose calendar year overlaps [fromMs, toMs) under venue
 * `binance-spot` (whole yearly files: the store may start before `fromMs`); returns the rows imported and the
 * earliest and latest bar stored. A symbol with no file in the range is an error naming the files.
 */
export async function importSpot(md: MarketData, symbols: readonly string[], fromMs: number, toMs: number): Promise<{ rows: number; firstMs: number; lastMs: number }> {
  let rows = 0;
  let firstMs = Infinity;
  let lastMs = -Infinity;
  const y0 = new Date(Math.max(fromMs, SPOT_START_MS)).getUTCFullYear();
  const y1 = new Date(toMs - 1).getUTCFullYear();
  for (const symbol of symbols) {
    const dir = join(SHARED_DATA, 'market', 'binance-spot__finom-static-klines', symbol, '1h');
    const files: string[] = [];
    for (let y = y0; y <= y1; y++) {
      const f = join(dir, `${symbol}-1h-${y}.csv`);
      if (existsSync(f)) files.push(f);
    }
    if (files.length === 0) throw new AppError('config', `No Binance spot 1h file of ${symbol} covers ${iso(fromMs).slice(0, 10)} → ${iso(toMs).slice(0, 10)} under ${dir}; the shared spot data spans 2022-01-01 → 2025-10-31 for ${SPOT_SYMBOLS.join(', ')}.`);
    const r = await importCsv({ md, venue: 'binance-spot', symbol, interval: '1h', files });
    rows += r.rows;
    firstMs = Math.min(firstMs, r.firstMs ?? Infinity);
    lastMs = Math.max(lastMs, r.lastMs ?? -Infinity);
  }
  return { rows, firstMs, lastMs };
}

/** Symbols of the Binance USDT-M perpetual 1h files (2020-01-01 → 2024-04-18), the only bars before 2022. */
export const PERP_SYMBOLS: readonly string[] = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'DOGEUSDT', 'LINKUSDT', 'AVAXUSDT'];

/** Imports the perpetual 1h file of each symbol that has one under venue `binance-usdm`; returns the symbols imported. */
export async function importPerp(md: MarketData, symbols: readonly string[]): Promise<string[]> {
  const done: string[] = [];
  for (const symbol of symbols.filter((s) => PERP_SYMBOLS.includes(s))) {
    const file = join(SHARED_DATA, 'market', 'binance-usdm-perp__pixelalpha-markettrend', `${symbol}-perp-1h.csv`);
    if (!existsSync(file)) continue;
    await importCsv({ md, venue: 'binance-usdm', symbol, interval: '1h', files: [file] });
    done.push(symbol);
  }
  return done;
}

/** Renders a vega-lite spec to a standalone SVG document (no browser, no canvas: text widths are estimated). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Throws when `value` holds a non-finite number (JSON would silently turn it into null); `null` marks "not defined". */
export function assertFiniteJson(value: unknown, path = '$'): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new AppError('internal', `${path} is ${value}; a notebook writes finite numbers only (null where a value is not defined).`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => assertFiniteJson(v, `${path}[${i}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) assertFiniteJson(v, `${path}.${k}`);
  }
}

/** `x` if finite, else null (for values that are legitimately undefined, e.g. a DM test of HAR against itself). */
export const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Formats a number for a Markdown table (`-` when not finite). */
export function fmt(x: number | null | undefined, digits = 4): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}

/** Formats a fraction as a percentage (`0.0123` → `1.23 %`). */
export function pct(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : `${(x * 100).toFixed(digits)} %`;
}

/** Formats US dollars compactly (`$1.23M`, `$45.6k`, `$789`; `-` when not finite). */
export function usd(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  return a >= 1e6 ? `$${(x / 1e6).toFixed(2)}M` : a >= 1e3 ? `$${(x / 1e3).toFixed(1)}k` : `$${x.toFixed(0)}`;
}

/** The output of one notebook run: a Markdown page, its SVG figures and its numbers, written to one directory. */
export class NotebookPage {
  private readonly parts: string[] = [];
  private readonly figures: { file: string; svg: string }[] = [];

  constructor(private readonly args: NotebookArgs, title: string) {
    this.parts.push(`# ${title}`, '', `_${args.name}: ${args.symbols.join(', ')}, ${iso(args.fromMs).slice(0, 10)} → ${iso(args.toMs).slice(0, 10)}${args.small ? ' (small configuration)' : ''}._`, '');
  }

  /** A Markdown paragraph or heading. */
  text(markdown: string): void {
    this.parts.push(markdown.trim(), '');
  }

  /** A Markdown table. */
  table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): void {
    this.parts.push(`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`), '');
  }

  /** Renders `spec` to `<file>.svg` and embeds it with its caption. */
  async figure(file: string, caption: string, spec: TopLevelSpec): Promise<void> {
    this.figures.push({ file: `${file}.svg`, svg: await renderSvg(spec) });
    this.parts.push(`![${caption}](${file}.svg)`, '', `*${caption}*`, '');
  }

  /**
   * Writes `<out>/README.md`, the figures and `<out>/numbers.json` (`numbers` checked finite first); returns the
   * page's path relative to the working directory.
   */
  write(numbers: Record<string, unknown>, elapsedMs: number): string {
    assertFiniteJson(numbers);
    mkdirSync(this.args.outDir, { recursive: true });
    for (const f of this.figures) writeFileSync(join(this.args.outDir, f.file), f.svg);
    const meta = { notebook: this.args.name, symbols: this.args.symbols, from: iso(this.args.fromMs), to: iso(this.args.toMs), small: this.args.small, elapsedMs: Math.round(elapsedMs), figures: this.figures.map((f) => f.file) };
    writeFileSync(join(this.args.outDir, 'numbers.json'), `${JSON.stringify({ ...meta, ...numbers }, null, 2)}\n`);
    this.parts.push(`_Numbers: [numbers.json](numbers.json). Ran in ${(elapsedMs / 1000).toFixed(1)} s._`, '');
    const page = join(this.args.outDir, 'README.md');
    writeFileSync(page, this.parts.join('\n'));
    return relative(process.cwd(), page) || page;
  }
}
