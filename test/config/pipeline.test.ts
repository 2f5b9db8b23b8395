import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline, parsePipeline, pipelinePath, selectJob, settingPath, STAGE_NAMES, type StageName } from '../../src/config/pipeline.ts';
import { AppError } from '../../src/core/errors.ts';
import { tempDir } from '../helpers/tmp.ts';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const tmp = tempDir('liqcal-pipeline-');
afterAll(() => tmp.cleanup());

const base = (): Record<string, unknown> => ({
  markets: ['BTCUSDT'],
  venue: { kind: 'simulator' },
  jobs: [{ name: 'hourly', cron: '0 5 * * * *', stages: ['ingest', 'recommend', 'publish'] }],
});

/** The config error of parsing `doc` as pipelines/x.json. */
function errorOf(doc: unknown): AppError {
  try {
    parsePipeline(doc, 'pipelines/x.json');
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected the pipeline to be refused');
}

describe('the shipped pipelines', () => {
  it.each(['demo', 'live-binance', 'csv'])('pipelines/%s.json loads, with its paths resolved against pipelines/', (name) => {
    const p = loadPipeline(join(ROOT, 'pipelines', `${name}.json`));
    expect(p.name).toBe(name);
    expect(p.configHash).toMatch(/^[0-9a-f]{64}$/);
    expect(p.config.jobs.length).toBeGreaterThan(0);
    expect(settingPath(p, p.config.store.db, 'data/liqcal.db')).toMatch(new RegExp(`^${ROOT}/data/`));
  });

  it('the production example in pipelines/README.md is a valid pipeline', () => {
    const readme = readFileSync(join(ROOT, 'pipelines', 'README.md'), 'utf8');
    const block = /`\/etc\/liqcal\/pipelines\/prod\.json`:\n\n```json\n([\s\S]*?)\n```/.exec(readme);
    expect(block).not.toBeNull();
    const p = parsePipeline(JSON.parse(block![1]!), '/etc/liqcal/pipelines/prod.json');
    expect(p.config.jobs.map((j) => [j.name, j.stages])).toEqual([['hourly', ['ingest', 'recommend', 'publish']], ['daily', ['ingest', 'train']], ['weekly', ['ingest', 'evaluate', 'recommend', 'report']]]);
    expect(p.config.store.postgres).toEqual({ urlEnv: 'LIQCAL_PG_URL', schema: 'liqcal' });
    expect(p.rails.types.leverageTiers.autoApprove).toBe(false);
  });

  it('the demo runs every stage when no job is named', () => {
    const p = loadPipeline(join(ROOT, 'pipelines', 'demo.json'));
    expect(selectJob(p).stages).toEqual([...STAGE_NAMES]);
    expect(selectJob(p, 'hourly').stages).toEqual(['ingest', 'recommend', 'publish']);
  });
});

describe('parsePipeline', () => {
  it('fills defaults, names the pipeline after its file, and hashes the canonical config', () => {
    const a = parsePipeline(base(), 'pipelines/x.json');
    expect(a.name).toBe('x');
    expect(a.config.interval).toBe('1h');
    expect(a.config.retries).toEqual({ maxAttempts: 3, baseDelayMs: 2000, maxDelayMs: 60000 });
    expect(a.rails.types.maintenanceMarginRatio.minDelayMs).toBe(3_600_000);
    // Key order and whitespace do not change the hash; a value does.
    const reordered = JSON.parse(JSON.stringify({ jobs: base().jobs, venue: base().venue, markets: base().markets })) as unknown;
    expect(parsePipeline(reordered, 'other/x.json').configHash).toBe(a.configHash);
    expect(parsePipeline({ ...base(), seed: 1 }, 'pipelines/x.json').configHash).not.toBe(a.configHash);
  });

  it('resolves relative paths against the file directory and keeps absolute ones', () => {
    const p = parsePipeline({ ...base(), store: { db: '../data/a.db' } }, '/srv/liqcal/pipelines/x.json');
    expect(settingPath(p, p.config.store.db, 'data/liqcal.db')).toBe('/srv/liqcal/data/a.db');
    expect(pipelinePath(p, '/abs/b.db')).toBe('/abs/b.db');
    expect(settingPath(p, undefined, 'data/liqcal.db')).toBe(resolve('data/liqcal.db'));
  });

  it.each<[string, (d: Record<string, unknown>) => unknown, string]>([
    ['a bad cron expression', (d) => ({ ...d, jobs: [{ name: 'a', cron: '61 * * * *', stages: ['ingest'] }] }), 'pipelines/x.json: jobs[0].cron: invalid cron expression "61 * * * *"'],
    ['a cron with too few fields', (d) => ({ ...d, jobs: [{ name: 'a', cron: '* * *', stages: ['ingest'] }] }), 'jobs[0].cron: invalid cron expression "* * *" (expected 5 or 6 fields'],
    ['an unknown stage', (d) => ({ ...d, jobs: [{ name: 'a', cron: '* * * * *', stages: ['ingest', 'deploy'] }] }), 'pipelines/x.json: jobs[0].stages[1]: Invalid option'],
    ['stages out of order', (d) => ({ ...d, jobs: [{ name: 'a', cron: '* * * * *', stages: ['recommend', 'ingest'] }] }), 'jobs[0].stages: stages [recommend, ingest] must be distinct and in the order ingest, train'],
    ['publish without recommend', (d) => ({ ...d, jobs: [{ name: 'a', cron: '* * * * *', stages: ['ingest', 'publish'] }] }), 'jobs[0].stages: the publish stage needs the recommend stage'],
    ['two jobs with one name', (d) => ({ ...d, jobs: [{ name: 'a', cron: '* * * * *', stages: ['ingest'] }, { name: 'a', cron: '* * * * *', stages: ['train'] }] }), 'jobs[1].name: job name "a" is used twice'],
    ['the reserved job name', (d) => ({ ...d, jobs: [{ name: 'all', cron: '* * * * *', stages: ['ingest'] }] }), 'jobs[0].name: "all" is reserved'],
    ['a misspelt key', (d) => ({ ...d, markts: ['X'] }), 'pipelines/x.json: (root): Unrecognized key: "markts"'],
    ['an unknown venue kind', (d) => ({ ...d, venue: { kind: 'ftp' } }), 'venue.kind: venue.kind must be "simulator", "live" or "csv"'],
    ['an unknown live venue', (d) => ({ ...d, venue: { kind: 'live', venue: 'kraken' } }), 'pipelines/x.json: venue.venue: Invalid option'],
    ['a CSV market without files', (d) => ({ ...d, venue: { kind: 'csv', venue: 'binance-spot', files: {} } }), 'venue.files: no files for market BTCUSDT'],
    ['a CSV interval unlike the pipeline', (d) => ({ ...d, venue: { kind: 'csv', venue: 'binance-spot', interval: '4h', files: { BTCUSDT: ['a.csv'] } } }), 'venue.interval: the files\' interval 4h must equal the pipeline\'s interval 1h'],
    ['a lower-case simulator symbol', (d) => ({ ...d, markets: ['btc'] }), 'markets[0]: the simulator needs upper-case symbols'],
    ['a policy config field', (d) => ({ ...d, policy: { config: { governor: { maxStepUp: -1 } } } }), 'pipelines/x.json: policy.config.governor.maxStepUp: Too small'],
    ['a policy config cross-check', (d) => ({ ...d, policy: { config: { bounds: { minMaintenance: 0.2, maxMaintenance: 0.1 } } } }), 'pipelines/x.json: policy.config: bounds.minMaintenance 0.2 must be below'],
    ['an unknown policy', (d) => ({ ...d, policy: { name: 'vibes' } }), 'policy.name: Invalid option'],
    ['a breaker threshold order', (d) => ({ ...d, policy: { breakers: { spikeProb: { enter: { caution: 0.9, reduceOnly: 0.8 } } } } }), 'policy.breakers.spikeProb.enter.reduceOnly: must be above enter.caution'],
    ['a rails field', (d) => ({ ...d, params: { rails: { types: { maintenanceMarginRatio: { minDelayMs: 'soon' } } } } }), 'pipelines/x.json: params.rails.types.maintenanceMarginRatio.minDelayMs: Invalid input'],
    ['an approval mode', (d) => ({ ...d, params: { approval: 'sometimes' } }), 'params.approval: Invalid option'],
    ['a PostgreSQL store without a URL', (d) => ({ ...d, store: { postgres: {} } }), 'store.postgres: give exactly one of url and urlEnv'],
    ['an unreadable asOf', (d) => ({ ...d, asOf: 'last tuesday' }), 'asOf: cannot read "last tuesday" as a time'],
    ['retries below one attempt', (d) => ({ ...d, retries: { maxAttempts: 0 } }), 'retries.maxAttempts: Too small'],
  ])('points at the field for %s', (_what, mutate, expected) => {
    const e = errorOf(mutate(base()));
    expect(e.kind).toBe('config');
    expect(e.message).toContain(expected);
  });

  it('accepts a stage list exactly when it is ordered, distinct, and publish/report come with recommend', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...STAGE_NAMES), { minLength: 1, maxLength: 7 }), (stages: StageName[]) => {
      const idx = stages.map((s) => STAGE_NAMES.indexOf(s));
      const ordered = idx.every((v, i) => i === 0 || v > idx[i - 1]!);
      const needs = !(stages.includes('publish') || stages.includes('report')) || stages.includes('recommend');
      let ok = true;
      try { parsePipeline({ ...base(), jobs: [{ name: 'j', cron: '* * * * *', stages }] }, 'x.json'); } catch { ok = false; }
      expect(ok).toBe(ordered && needs);
    }));
  });
});

describe('loadPipeline', () => {
  it('refuses a missing file (io) and broken JSON (config), naming the file', () => {
    expect(() => loadPipeline(tmp.path('none.json'))).toThrow(/Cannot read the pipeline file .*none\.json/);
    const bad = tmp.path('bad.json');
    writeFileSync(bad, '{"markets": [');
    const e = (() => { try { loadPipeline(bad); } catch (x) { return x as AppError; } throw new Error('expected an error'); })();
    expect(e.kind).toBe('config');
    expect(e.message).toMatch(/bad\.json: \(root\): not valid JSON/);
  });

  it('selectJob names the jobs when the one asked for does not exist', () => {
    const p = parsePipeline(base(), 'pipelines/x.json');
    expect(() => selectJob(p, 'weekly')).toThrow(/pipelines\/x\.json has no job "weekly"; its jobs are hourly/);
  });
});
