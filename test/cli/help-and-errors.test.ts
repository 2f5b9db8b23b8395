import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

describe('help with examples and errors that say what to do next', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it.each(['ingest', 'import-csv', 'train', 'forecast', 'evaluate', 'data status', 'data reference'])('liqcal %s --help shows examples', async (cmd) => {
    const r = await runCli([...cmd.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples:\n {2}\$ liqcal /);
  });

  it('a missing store is named, with where stores come from', async () => {
    for (const cmd of [['data', 'status'], ['forecast', '--symbols', 'BTCUSDT'], ['evaluate', '--symbols', 'BTCUSDT', '--test-from', '2024-01-01', '--test-to', '2024-02-01']]) {
      const r = await runCli([...cmd, '--db', tmp.path('missing.db')]);
      expect(r.code).toBe(9);
      expect(r.stderr).toContain(`There is no store at ${tmp.path('missing.db')}`);
      expect(r.stderr).toContain('liqcal import-csv or liqcal ingest');
    }
  });

  it('bad option values are named with the form expected', async () => {
    const s = await runCli(['data', 'reference', '--sources', 'binance-spot', '--db', tmp.path('x.db')]);
    expect(s.code).toBe(3);
    expect(s.stderr).toContain('write each source as venue:symbol, e.g. binance-spot:BTCUSDT');
    const k = await runCli(['import-csv', '--db', tmp.path('x.db'), '--venue', 'v', '--symbol', 'S', '--kind', 'candles', 'f.csv']);
    expect(k.code).toBe(3);
    expect(k.stderr).toContain('not "candles"; or leave it out to detect the kind');
  });
});
