/**
 * File patterns of CSV pipelines: `*` (any run of characters but `/`) and `?` (one character) in any path segment,
 * expanded against the file system and sorted (yearly files oldest first). Node 20 has no `fs.glob`; this covers
 * what pipeline files need and nothing more (no `**`, no braces).
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { AppError } from '../core/errors.ts';

const MAGIC = /[*?]/;

function segmentRegex(segment: string): RegExp {
  const body = segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

function isDir(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}

/** The files a pattern names (absolute, sorted); a pattern without wildcards names itself whether or not it exists. */
export function expandPattern(pattern: string, baseDir: string): string[] {
  const abs = isAbsolute(pattern) ? pattern : resolve(baseDir, pattern);
  if (!MAGIC.test(abs)) return [abs];
  const parts = abs.split(sep).filter((s, i) => i === 0 || s.length > 0);
  let current = [parts[0] === '' ? sep : parts[0]!];
  for (const part of parts.slice(1)) {
    if (!MAGIC.test(part)) {
      current = current.map((d) => join(d, part));
      continue;
    }
    const re = segmentRegex(part);
    current = current.flatMap((d) => (isDir(d) ? readdirSync(d).filter((n) => re.test(n)).sort().map((n) => join(d, n)) : []));
  }
  return current.sort();
}

/**
 * Expands every pattern (in order, duplicates removed); a pattern that matches nothing is a `config` error naming
 * it, `what` (e.g. `venue.files.BTCUSDT`) and the directory it was resolved in.
 */
export function expandPatterns(patterns: readonly string[], baseDir: string, what: string): string[] {
  const out: string[] = [];
  for (const p of patterns) {
    const files = expandPattern(p, baseDir);
    if (MAGIC.test(p) && files.length === 0) {
      throw new AppError('config', `${what}: the pattern "${p}" matches no file (resolved against ${baseDir}). Fix the path; relative paths start at the pipeline file's directory.`, { context: { pattern: p, baseDir } });
    }
    for (const f of files) if (!out.includes(f)) out.push(f);
  }
  return out;
}
