import { describe, expect, it } from 'vitest';
import { loadTf } from '../../../src/forecasting/ml/backend.ts';

describe('TensorFlow.js backend loader', () => {
  it('falls back from tfjs-node to a working backend and computes with it', async () => {
    const { tf, backend, skipped } = await loadTf();
    expect(['tensorflow', 'wasm', 'cpu']).toContain(backend);
    // Where tfjs-node did not install, the reason is recorded rather than swallowed.
    if (backend !== 'tensorflow') expect(skipped.tensorflow).toBeTypeOf('string');
    const y = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync());
    expect(Array.from(y)).toEqual([17, 39]);
  });
});
