import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCsv, type ImportedFile } from '../../src/ingest/csv.ts';
import { syntheticBars, useTempStore } from '../helpers/tmp.ts';

const HEADER = 'open_time_ms,open,high,low,close,volume';

describe('importCsv onFile', () => {
  const t = useTempStore();

  /** Writes `count` hourly bars from `startMs` to a CSV file in the test's directory. */
  const csv = (name: string, startMs: number, count: number): string => {
    const path = join(t.dir, name);
    writeFileSync(path, [HEADER, ...syntheticBars(startMs, count).map((b) => [b.openTimeMs, b.open, b.high, b.low, b.close, b.volume].join(','))].join('\n'));
    return path;
  };
  const storedBars = (): number => (t.store.db.prepare('SELECT COUNT(*) AS n FROM bars').get() as { n: number }).n;

  it('reports each file once, in order, after it is written, with what the result lists for it', async () => {
    const files = [csv('a.csv', Date.UTC(2024, 0, 1), 30), csv('empty.csv', Date.UTC(2024, 0, 3), 0), csv('b.csv', Date.UTC(2024, 1, 1), 12)];
    const seen: { file: ImportedFile; index: number; stored: number }[] = [];
    const r = await importCsv({ md: t.md, venue: 'test', symbol: 'AAAUSDT', interval: '1h', files, onFile: (file, index) => seen.push({ file, index, stored: storedBars() }) });
    expect(seen.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(seen.map((s) => s.file)).toEqual(r.files);
    expect(seen.map((s) => s.file.rows)).toEqual([30, 0, 12]);
    expect(seen.map((s) => s.stored)).toEqual([30, 30, 42]);
  });

  it('is not called for a file that fails, nor for the ones after it', async () => {
    const bad = join(t.dir, 'bad.csv');
    writeFileSync(bad, `${HEADER}\n1704067200000,100,90,110,100,1\n`);
    const seen: number[] = [];
    await expect(importCsv({
      md: t.md, venue: 'test', symbol: 'AAAUSDT', interval: '1h', files: [csv('a.csv', Date.UTC(2024, 0, 1), 5), bad, csv('b.csv', Date.UTC(2024, 1, 1), 5)],
      onFile: (_f, i) => seen.push(i),
    })).rejects.toThrow(/bad\.csv/);
    expect(seen).toEqual([0]);
  });
});
