import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError, type ErrorKind } from '../../src/core/errors.ts';
import { epochMs, fixedClock } from '../../src/core/time.ts';
import type { ModelArtifact } from '../../src/forecasting/forecaster.ts';
import { mlModelCard } from '../../src/forecasting/ml/card.ts';
import { createMlForecaster } from '../../src/forecasting/ml/model.ts';
import { listModels, loadModel, loadPromoted, promoteModel, promotedVersion, saveModel, type ModelCard } from '../../src/forecasting/model-store.ts';
import { syntheticFrames } from './ml/synthetic.ts';

const ARTIFACT: ModelArtifact = { spec: { kind: 'har', variant: 'rv' }, state: { version: 1, symbols: { AAA: { beta: [0.4, 0.3, 0.2] } } }, weights: new Uint8Array([1, 2, 3, 4, 5]) };
const CARD: ModelCard = {
  name: 'har-1d', kind: 'har', createdAtMs: 1_700_000_000_000, dataRange: { fromMs: 1, toMs: 2 }, symbols: ['AAA'], features: ['rv_1d'], featureHash: 'abc',
  spec: { kind: 'har', variant: 'rv' }, seed: 1, backend: 'none', trainingMs: 12, metrics: { qlike: 0.3, missing: null },
};

function expectAppError(fn: () => unknown, kind: ErrorKind, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(isAppError(e, kind), String(e)).toBe(true);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  expect.unreachable('expected an AppError');
}

describe('model store', () => {
  let root: string;
  beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'liqcal-models-')); });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('saves increasing versions atomically, lists, promotes and loads them', () => {
    expect(listModels(root)).toEqual([]);
    const a = saveModel(root, 'har-1d', ARTIFACT, CARD);
    const b = saveModel(root, 'har-1d', ARTIFACT, { ...CARD, seed: 2 });
    expect([a.version, b.version]).toEqual(['000001', '000002']);
    expect(readdirSync(join(root, 'har-1d')).sort()).toEqual(['000001', '000002']);
    expect(readdirSync(a.dir).sort()).toEqual(['card.json', 'model.json', 'weights.bin']);
    expect(listModels(root)).toEqual([{ name: 'har-1d', versions: ['000001', '000002'], promoted: null }]);

    expectAppError(() => loadPromoted(root, 'har-1d'), 'io', /no promoted version.*000001, 000002/);
    promoteModel(root, 'har-1d', '000001', fixedClock(5));
    expect(promotedVersion(root, 'har-1d')).toBe('000001');
    const p = loadPromoted(root, 'har-1d');
    expect(p.version).toBe('000001');
    expect(p.artifact.spec).toEqual(ARTIFACT.spec);
    expect(p.artifact.state).toEqual(ARTIFACT.state);
    expect(Array.from(p.artifact.weights!)).toEqual([1, 2, 3, 4, 5]);
    expect(p.card).toEqual(CARD);
    expect(loadModel(root, 'har-1d', '000002').card.seed).toBe(2);
    promoteModel(root, 'har-1d', '000002');
    expect(listModels(root)[0]!.promoted).toBe('000002');
    expect(readdirSync(join(root, 'har-1d')).filter((f) => f.includes('tmp'))).toEqual([]);
  });

  it('saves artifacts without weights', () => {
    const { version } = saveModel(root, 'ewma', { spec: { kind: 'ewma' }, state: { lambda: 0.94 } }, { ...CARD, name: 'ewma', kind: 'ewma', spec: { kind: 'ewma' } });
    expect(loadModel(root, 'ewma', version).artifact.weights).toBeUndefined();
  });

  it('fails with the path and the fix on missing, corrupt or mismatching files', () => {
    expectAppError(() => loadModel(root, 'nope', '000001'), 'io', /no version 000001.*train and save it/);
    expectAppError(() => saveModel(root, '../evil', ARTIFACT, CARD), 'config', /not allowed/);
    expectAppError(() => loadModel(root, 'har-1d', 'latest'), 'config', /zero-padded/);
    expectAppError(() => saveModel(root, 'har-1d', ARTIFACT, { ...CARD, seed: 1.5 } as ModelCard), 'schema', /card.*seed/);
    expectAppError(() => promoteModel(root, 'har-1d', '000001'), 'io', /no version/);

    const { dir, version } = saveModel(root, 'har-1d', ARTIFACT, CARD);
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array([9, 9, 9, 9, 9]));
    expectAppError(() => loadModel(root, 'har-1d', version), 'schema', /weights\.bin does not match.*corrupt/);
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array([1, 2, 3, 4, 5]));

    const card = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'card.json'), JSON.stringify({ ...card, featureHash: 7 }));
    expectAppError(() => loadModel(root, 'har-1d', version), 'schema', /card\.json does not match.*featureHash.*retrain and save/);

    writeFileSync(join(dir, 'model.json'), '{"format": "liqcal-model/1", ');
    expectAppError(() => loadModel(root, 'har-1d', version), 'schema', new RegExp(`${join(dir, 'model.json').replace(/[/\\.]/g, '\\$&')} is not valid JSON`));

    writeFileSync(join(root, 'har-1d', 'PROMOTED.json'), '{"version": 3}');
    expectAppError(() => loadPromoted(root, 'har-1d'), 'schema', /PROMOTED\.json does not match/);
  });

  it('saves and loads a fitted ml model with identical predictions', async () => {
    const frames = syntheticFrames(['AAA', 'BBB'], { bars: 900, seed: 8 });
    const fitEnd = epochMs(frames[0]!.timeMs[800]!);
    const ml = createMlForecaster({ kind: 'ml', hidden: [8], epochs: 2 });
    const fitted = await ml.fit(frames, { fitEnd, seed: 3, horizonBars: 6 });
    try {
      const artifact = fitted.toArtifact();
      const card = mlModelCard(artifact, { name: 'ml-1d', createdAtMs: 1_700_000_000_000, extraMetrics: { wfQlike: 0.31 } });
      expect(card.backend).toBe(fitted.backend);
      expect(card.features.length).toBeGreaterThan(10);
      const { version } = saveModel(root, 'ml-1d', artifact, card);
      promoteModel(root, 'ml-1d', version);
      const back = loadPromoted(root, 'ml-1d');
      expect(back.card.metrics.wfQlike).toBe(0.31);
      const loaded = await createMlForecaster().load(back.artifact);
      try {
        const origins = Int32Array.from({ length: 90 }, (_, i) => 805 + i);
        for (const frame of frames) {
          const p = fitted.predict(frame, { origins, horizonBars: 6, quantiles: [0.1, 0.5, 0.9, 0.99] });
          const q = loaded.predict(frame, { origins, horizonBars: 6, quantiles: [0.1, 0.5, 0.9, 0.99] });
          expect(Array.from(q.variance)).toEqual(Array.from(p.variance));
          expect(Array.from(q.spikeProb!)).toEqual(Array.from(p.spikeProb!));
          for (const tau of [0.1, 0.5, 0.9, 0.99]) expect(Array.from(q.logRvQuantiles!.get(tau)!)).toEqual(Array.from(p.logRvQuantiles!.get(tau)!));
          expect(p.variance.some(Number.isFinite)).toBe(true);
        }
        // A truncated weights file fails loudly rather than producing garbage.
        await expect(createMlForecaster().load({ ...back.artifact, weights: back.artifact.weights!.subarray(8) })).rejects.toSatisfy((e) => isAppError(e, 'schema'));
        await expect(createMlForecaster().load({ ...back.artifact, state: { format: 'other' } })).rejects.toSatisfy((e) => isAppError(e, 'schema') && /retrain/.test((e as Error).message));
      } finally {
        loaded.dispose();
      }
    } finally {
      fitted.dispose();
    }
  });
});
