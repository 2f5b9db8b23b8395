/**
 * A pipeline's `params.rails` may only tighten the store's rails (the same tighten-only rule as `--rails`): the
 * publish stage's parameter store refuses a loosening field by name, and applies a tightening one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/core/errors.ts';
import { parsePipeline } from '../../src/config/pipeline.ts';
import { parseRailsConfig } from '../../src/params/rails.ts';
import type { StageContext } from '../../src/pipeline/context.ts';
import { openParameterStore } from '../../src/pipeline/stages.ts';
import { openStore } from '../../src/store/db.ts';
import { tempDir } from '../helpers/tmp.ts';
import { testClock } from './store-contract.ts';

const tmp = tempDir('liqcal-pipeline-rails-');
afterAll(() => tmp.cleanup());

function pipelineWith(rails: unknown, file: string) {
  return parsePipeline({
    name: 'rails', markets: ['BTCUSDT'], asOf: '2025-11-01T00:00:00Z',
    venue: { kind: 'csv', venue: 'binance-spot', files: { BTCUSDT: ['BTCUSDT.csv'] } }, store: { db: 'rails.db' },
    policy: { name: 'har', calibrationDays: 60, retrainEveryDays: 30 },
    params: { approval: 'auto', by: 'test', ...(rails === undefined ? {} : { rails }) },
    jobs: [{ name: 'tick', cron: '0 * * * * *', stages: ['recommend', 'publish'] }],
  }, file);
}

describe('pipeline rails are tighten-only', () => {
  it('refuses a loosening params.rails naming the field and the file, applies a tightening one, and defers to the store', async () => {
    const store = openStore(tmp.path('rails.db'));
    const clock = testClock();
    const ctx = (rails: unknown, file = tmp.path('p.json')) => ({ pipeline: pipelineWith(rails, file), store, clock }) as unknown as StageContext;
    try {
      const loose = await openParameterStore(ctx({ types: { closeFactor: { minDelayMs: 0 } } }, tmp.path('loose.json')));
      const err = await loose.params.effectiveRails().then(() => null, (e: unknown) => e);
      expect(isAppError(err, 'guardRail')).toBe(true);
      expect((err as { context: Record<string, unknown> }).context).toMatchObject({ rule: 'railsOverride', fields: ['types.closeFactor.minDelayMs'] });
      expect((err as Error).message).toContain(`The rails of ${tmp.path('loose.json')} (params.rails) would loosen the store's rails`);
      const refused = await loose.params.propose([{ market: 'BTCUSDT', updateType: 'closeFactor', newValue: 0.5 }]).then(() => null, (e: unknown) => e);
      expect(isAppError(refused, 'guardRail')).toBe(true);
      expect(await loose.params.history({})).toEqual([]);
      await loose.close();

      const tight = await openParameterStore(ctx({ types: { closeFactor: { max: 0.4 } } }));
      expect((await tight.params.effectiveRails()).rails.types.closeFactor).toMatchObject({ max: 0.4, minDelayMs: 3_600_000 });
      // Once the store's rails allow it (audited), the same pipeline rails are within them.
      await tight.params.setRails(parseRailsConfig({ types: { closeFactor: { minDelayMs: 0 } } }), 'ops', 'hourly pipelines');
      await tight.close();
      const again = await openParameterStore(ctx({ types: { closeFactor: { minDelayMs: 0 } } }));
      expect((await again.params.effectiveRails()).rails.types.closeFactor.minDelayMs).toBe(0);
      await again.close();
      const none = await openParameterStore(ctx(undefined));
      expect(await none.params.effectiveRails()).toMatchObject({ overridden: false, stored: { version: 1, actor: 'ops' } });
      await none.close();
    } finally {
      store.close();
    }
  });
});
