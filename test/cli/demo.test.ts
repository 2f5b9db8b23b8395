import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('liqcal demo (npm start)', () => {
  it('runs offline end to end: simulator → ingest → forecasts → recommendations → published and read back', async () => {
    const db = tmp.path('demo.db');
    const r = await runCli(['demo', '--db', db, '--models-dir', tmp.path('models'), '--days', '200', '--symbols', 'BTCUSDT,ETHUSDT', '--json'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      forecasts: unknown[];
      recommendations: { market: string; params: { maintenanceMarginRatio: number; initialMarginRatio: number } }[];
      parameterStore: { proposed: number; published: number; refused: unknown[]; latest: { market: string; mm: { usable: boolean; record: { newValue: number; state: string } } }[] };
    };
    expect(out.forecasts).toHaveLength(2);
    expect(out.recommendations.map((x) => x.market)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(out.parameterStore.proposed).toBe(2 * 8);
    expect(out.parameterStore.published).toBe(2 * 8);
    for (const l of out.parameterStore.latest) {
      const rec = out.recommendations.find((x) => x.market === l.market)!;
      expect(l.mm.usable).toBe(true);
      expect(l.mm.record.newValue).toBe(rec.params.maintenanceMarginRatio);
    }
    // The published record is what an updater reads through the CLI.
    const latest = await runCli(['params', 'latest', '--db', db, '--market', 'BTCUSDT', '--type', 'initialMarginRatio', '--json']);
    expect(latest.code, latest.stderr).toBe(0);
    expect((JSON.parse(latest.stdout) as { newValue: number }).newValue).toBe(out.recommendations[0]!.params.initialMarginRatio);
  }, 180_000);
});
