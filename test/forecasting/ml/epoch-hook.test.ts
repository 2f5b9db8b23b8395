import { describe, expect, it } from 'vitest';
import { epochMs } from '../../../src/core/time.ts';
import { createMlForecaster, type MlEpochProgress, type MlSpec } from '../../../src/forecasting/ml/model.ts';
import { syntheticFrames } from './synthetic.ts';

// Tiny: 2 symbols × 600 4-hour bars, a 2-member ensemble of one 8-unit layer.
const SPEC: MlSpec = { kind: 'ml', hidden: [8], epochs: 4, patience: 2, ensemble: 2, batchSize: 128 };
const frames = syntheticFrames(['AAA', 'BBB'], { bars: 600, seed: 9 });
const OPTS = { fitEnd: epochMs(frames[0]!.timeMs[520]!), seed: 3, horizonBars: 6 };

describe('ml fit onEpoch hook', () => {
  it('reports every epoch of every member in order, and changes nothing in the model', async () => {
    const events: MlEpochProgress[] = [];
    const observed = await createMlForecaster(SPEC, { onEpoch: (e) => events.push(e) }).fit(frames, OPTS);
    const plain = await createMlForecaster(SPEC).fit(frames, OPTS);
    try {
      expect(events.length).toBeGreaterThanOrEqual(2);
      for (const member of [0, 1]) {
        const mine = events.filter((e) => e.member === member);
        expect(mine.length).toBeGreaterThanOrEqual(1);
        expect(mine.map((e) => e.epoch)).toEqual(mine.map((_, i) => i + 1));
        for (const e of mine) {
          expect(e).toMatchObject({ members: 2, epochs: 4 });
          expect(Number.isFinite(e.valLoss)).toBe(true);
          expect(e.bestEpoch).toBeLessThanOrEqual(e.epoch);
        }
      }
      // Member 0's epochs all come before member 1's.
      expect(events.findIndex((e) => e.member === 1)).toBe(events.filter((e) => e.member === 0).length);
      const st = observed.toArtifact().state as { training: { epochsRun: number } };
      expect(events.filter((e) => e.member === 0).length).toBe(st.training.epochsRun);
      expect(Array.from(observed.toArtifact().weights!)).toEqual(Array.from(plain.toArtifact().weights!));
    } finally {
      observed.dispose();
      plain.dispose();
    }
  });
});
