import { describe, expect, it } from 'vitest';
import type { FeatureFrame } from '../../../src/features/frame.ts';
import { columnOf, DERIVED_FEATURES } from '../../../src/forecasting/ml/derived.ts';
import { requiredColumns } from '../../../src/forecasting/ml/inputs.ts';
import { isLogFeature } from '../../../src/forecasting/ml/transform.ts';
import { syntheticFrames } from './synthetic.ts';

const frame = syntheticFrames(['AAA'], { bars: 400, seed: 3, interval: '1h' })[0]!;

describe('ml derived inputs', () => {
  it('sums r² over the bars closing in the last k hours, using rows ≤ t only', () => {
    const r = frame.columns.r!;
    const rv4 = columnOf(frame, '@rv_4h')!;
    for (const t of [10, 100, 399]) {
      const want = r[t]! ** 2 + r[t - 1]! ** 2 + r[t - 2]! ** 2 + r[t - 3]! ** 2;
      expect(rv4[t]).toBeCloseTo(want, 14);
    }
    // Causal: changing later returns does not change earlier values.
    const r2 = r.slice();
    for (let t = 200; t < r2.length; t++) r2[t] = 0.5;
    const later: FeatureFrame = { ...frame, columns: { ...frame.columns, r: r2 } };
    const a = columnOf(frame, '@rv_12h')!; const b = columnOf(later, '@rv_12h')!;
    expect(Array.from(b.subarray(0, 200))).toEqual(Array.from(a.subarray(0, 200)));
    expect(b[210]).not.toEqual(a[210]);
  });

  it('encodes the UTC hour and weekday of the origin close on the unit circle', () => {
    const s = columnOf(frame, '@hod_sin')!; const c = columnOf(frame, '@hod_cos')!;
    for (let t = 0; t < 50; t++) {
      expect(s[t]! ** 2 + c[t]! ** 2).toBeCloseTo(1, 12);
      const hour = new Date(frame.timeMs[t]! + 3_600_000).getUTCHours();
      expect(s[t]).toBeCloseTo(Math.sin((2 * Math.PI * hour) / 24), 12);
    }
    expect(s[5]).toBeCloseTo(s[29]!, 12); // one day later
    const d = columnOf(frame, '@dow_sin')!;
    expect(d[5]).toBeCloseTo(d[5 + 168]!, 12); // one week later
  });

  it('needs only the frame columns it is derived from, and logs the variances', () => {
    expect(requiredColumns(['rv_1d', ...DERIVED_FEATURES])).toEqual(['rv_1d', 'r', 'rv_1w', 'rv_1m']);
    expect(isLogFeature('@rv_4h')).toBe(true);
    expect(isLogFeature('@hod_sin')).toBe(false);
    expect(columnOf(frame, '@unknown')).toBeUndefined();
  });
});
