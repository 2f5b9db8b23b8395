/**
 * The notebooks never rot: each is executed in a child process on a small slice (1–2 symbols, a few weeks,
 * the tiny configuration) and its page, figures and numbers are checked; and a static check over their import
 * lines proves they reach liqcal only through the public API (src/index.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { afterAll, describe, expect, it } from 'vitest';
import { notebookArgs } from '../../notebooks/lib/notebook.ts';
import { tempDir } from '../helpers/tmp.ts';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const NOTEBOOKS = join(ROOT, 'notebooks');
const PUBLIC_API = join(ROOT, 'src', 'index.ts');
const ALLOWED_PACKAGES = new Set(['vega', 'vega-lite']);

/** Every .ts file under notebooks/ except the outputs. */
function notebookSources(dir = NOTEBOOKS): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'out' ? [] : notebookSources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Module specifiers of static imports, re-exports and dynamic imports in a source text. */
function importSpecifiers(source: string): string[] {
  const re = /^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;
  return [...source.matchAll(re)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

/** Why `spec` imported from `file` breaks the rule, or undefined when it is allowed. */
function importViolation(file: string, spec: string): string | undefined {
  if (spec.startsWith('node:') || ALLOWED_PACKAGES.has(spec)) return undefined;
  if (!spec.startsWith('.')) return `imports the package "${spec}" (allowed: node: built-ins, ${[...ALLOWED_PACKAGES].join(', ')})`;
  const target = resolve(dirname(file), spec);
  if (target === PUBLIC_API) return undefined;
  if (!relative(NOTEBOOKS, target).startsWith('..')) return undefined;
  return `imports ${relative(ROOT, target)}: liqcal code must come from src/index.ts`;
}

describe('notebooks import only the public API', () => {
  const files = notebookSources();

  it('finds the notebooks and their helper', () => {
    expect(files.map((f) => relative(NOTEBOOKS, f)).sort()).toEqual(expect.arrayContaining(['01-volatility-regimes.ts', '02-forecast-comparison.ts', '03-margin-policies.ts', join('lib', 'notebook.ts')]));
  });

  it('every import line is the public API, a notebook helper, a node built-in or vega(-lite)', () => {
    const violations = files.flatMap((f) => importSpecifiers(readFileSync(f, 'utf8')).flatMap((s) => {
      const v = importViolation(f, s);
      return v ? [`${relative(ROOT, f)} ${v}`] : [];
    }));
    expect(violations).toEqual([]);
    for (const f of files.filter((x) => /\/\d\d-[^/]+\.ts$/.test(x))) expect(importSpecifiers(readFileSync(f, 'utf8'))).toContain('../src/index.ts');
  });

  it('the check catches an internal import, a re-export, a dynamic import and a stray package', () => {
    const nb = join(NOTEBOOKS, '99-x.ts');
    const src = [
      "import { openStore } from '../src/store/db.ts';",
      "export { x } from '../src/features/build.ts';",
      "const m = await import('../src/calibration/backtest.ts');",
      "import type { Foo } from 'zod';",
      "import { a } from '../src/index.ts';",
    ].join('\n');
    const specs = importSpecifiers(src);
    expect(specs).toEqual(['../src/store/db.ts', '../src/features/build.ts', '../src/calibration/backtest.ts', 'zod', '../src/index.ts']);
    expect(specs.map((s) => importViolation(nb, s) !== undefined)).toEqual(specs.map((s) => s !== '../src/index.ts'));
  });
});

describe('notebook arguments', () => {
  it('reads the slice from the command line, then the environment, then the defaults', () => {
    const d = { symbols: ['BTCUSDT', 'ETHUSDT'], from: '2024-01-01', to: '2025-01-01' };
    const a = notebookArgs('nb', d, ['horizon'], ['--symbols', 'SOLUSDT', '--small', '--horizon', '4h'], { NOTEBOOK_FROM: '2024-06-01', NOTEBOOK_SYMBOLS: 'XRPUSDT' });
    expect(a).toMatchObject({ symbols: ['SOLUSDT'], fromMs: Date.parse('2024-06-01'), toMs: Date.parse('2025-01-01'), small: true, extra: { horizon: '4h' } });
    expect(a.outDir).toBe(join(NOTEBOOKS, 'out', 'nb'));
    expect(notebookArgs('nb', d, [], [], {})).toMatchObject({ symbols: ['BTCUSDT', 'ETHUSDT'], small: false });
    expect(() => notebookArgs('nb', d, [], ['--from', '2025-02-01'], {})).toThrow(/must be before/);
    expect(() => notebookArgs('nb', d, [], ['--bogus'], {})).toThrow(/Options: --symbols/);
  });
});

/** Runs a notebook in a child process, as a person would. */
function runNotebook(file: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(NOTEBOOKS, file), ...args], { cwd: ROOT, env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = ''; let stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('error', rej);
    p.on('close', (code) => res({ code, stdout, stderr }));
  });
}

/** Every number in a parsed JSON value (JSON.parse never yields NaN; a notebook writes null where a value is undefined). */
function numbersIn(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.flatMap(numbersIn);
  if (v !== null && typeof v === 'object') return Object.values(v).flatMap(numbersIn);
  return [];
}

/** Checks the page, its figures and its numbers; returns the numbers. */
function checkOutput(dir: string, figures: readonly string[]): Record<string, unknown> {
  const page = readFileSync(join(dir, 'README.md'), 'utf8');
  expect(page).toMatch(/^# /);
  for (const f of figures) {
    expect(page).toContain(`](${f}.svg)`);
    const svg = readFileSync(join(dir, `${f}.svg`), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    const tree = new Resvg(svg); // parses the XML and the SVG structure; throws on malformed input
    expect(tree.width).toBeGreaterThan(100);
    expect(tree.height).toBeGreaterThan(50);
    expect((svg.match(/<path /g) ?? []).length).toBeGreaterThan(5);
  }
  const text = readFileSync(join(dir, 'numbers.json'), 'utf8');
  expect(text).not.toMatch(/NaN|Infinity/);
  const numbers = JSON.parse(text) as Record<string, unknown>;
  const all = numbersIn(numbers);
  expect(all.length).toBeGreaterThan(10);
  expect(all.every(Number.isFinite)).toBe(true);
  expect(numbers.figures).toEqual(figures.map((f) => `${f}.svg`));
  return numbers;
}

describe('notebooks run on small slices', () => {
  const tmp = tempDir('liqcal-notebooks-');
  afterAll(() => tmp.cleanup());
  const slice = ['--symbols', 'BTCUSDT,ETHUSDT', '--from', '2024-07-20', '--to', '2024-08-17', '--small'];

  it('01-volatility-regimes: regime shares and the 2024-08-05 episode', async () => {
    const out = tmp.path('01');
    const r = await runNotebook('01-volatility-regimes.ts', [...slice, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(existsSync(join(out, 'README.md'))).toBe(true);
    const n = checkOutput(out, ['vol-history', 'episodes', 'regimes']) as { regimeShares: { pooled: { calm: number; elevated: number; stressed: number; hours: number } }; episodes: { episode: string; symbol: string; peakToBaseline: number; deepestIntrabarLow: number }[] };
    const p = n.regimeShares.pooled;
    expect(p.calm + p.elevated + p.stressed).toBeCloseTo(1, 9);
    expect(p.hours).toBe(2 * 28 * 24);
    expect(n.episodes.map((e) => [e.episode, e.symbol])).toEqual([['carry-unwind-2024-08-05', 'BTCUSDT'], ['carry-unwind-2024-08-05', 'ETHUSDT']]);
    for (const e of n.episodes) {
      expect(e.peakToBaseline).toBeGreaterThan(2);
      expect(e.deepestIntrabarLow).toBeLessThan(0);
    }
  });

  it('02-forecast-comparison: every model scored against HAR-RV with DM p-values', async () => {
    const out = tmp.path('02');
    const r = await runNotebook('02-forecast-comparison.ts', [...slice, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const n = checkOutput(out, ['qlike-ratio', 'forecast-vs-realised']) as { pooled: { model: string; qlike: number; qlikeRatioToHar: number; dmP: number | null; n: number }[]; config: { folds: number } };
    expect(n.pooled.map((p) => p.model)).toEqual(['ewma', 'garch', 'har', 'ml']);
    for (const p of n.pooled) {
      expect(p.qlike).toBeGreaterThan(0);
      expect(p.n).toBe(n.pooled[0]!.n);
      if (p.model === 'har') expect([p.qlikeRatioToHar, p.dmP]).toEqual([1, null]);
      else expect(p.dmP).toBeGreaterThanOrEqual(0);
    }
    expect(n.config.folds).toBe(4);
  });

  it('03-margin-policies: the policy trade-off with the stress replay', async () => {
    const out = tmp.path('03');
    const r = await runNotebook('03-margin-policies.ts', [...slice, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const n = checkOutput(out, ['margin-vs-breaches', 'procyclicality', 'bad-debt']) as { pooled: { policy: string; breachRate: number; meanMarginRatio: number; maxIncrease30d: number; badDebtP95Usd: number }[]; episodes: { name: string }[] };
    expect(n.pooled.map((p) => p.policy)).toEqual(['static', 'ewma', 'har', 'ml-anticipatory']);
    for (const p of n.pooled) {
      expect(p.breachRate).toBeGreaterThanOrEqual(0);
      expect(p.breachRate).toBeLessThan(0.2);
      expect(p.meanMarginRatio).toBeGreaterThan(0.005);
      expect(p.meanMarginRatio).toBeLessThan(0.5);
      expect(p.badDebtP95Usd).toBeGreaterThanOrEqual(0);
    }
    expect(n.pooled.find((p) => p.policy === 'static')!.maxIncrease30d).toBe(0);
    expect(n.episodes.map((e) => e.name)).toEqual(['carry-unwind-2024-08-05']);
  });
});
