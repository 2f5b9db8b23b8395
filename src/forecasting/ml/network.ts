/**
 * The network of the ml forecaster, its losses and its training loop. The only file (with weights-io.ts)
 * that touches tensors; every tensor op runs inside `tf.tidy` or is disposed explicitly.
 *
 * Architecture (dense only: recurrent layers are 50× slower on the wasm backend):
 *
 *   z-scored features ─► Dense(h₁, relu) ─► … ─► Dense(Q+1) ─┐
 *                    └──────────────► Dense(Q+1, no bias) ───┴─► + ─► [a, d₂…d_Q, s]
 *
 * Both output layers start with zero kernels, so at initialisation the network outputs its bias: the
 * standardised quantiles of the HAR residual and the logit of the spike base rate — i.e. it starts *at* the
 * HAR solution (HARNet, arXiv 2205.07719) and learns a correction. The quantile head is monotone by
 * construction: q₁ = a, q_k = q_{k−1} + softplus(d_k). The last unit is the spike logit s.
 *
 * Loss = mean pinball loss over the Q levels (on the HAR residual scaled by its training s.d.)
 *      + w · binary cross-entropy of the spike logit (rows with an undefined spike label are masked).
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, deriveSeed } from '../../core/rng.ts';

/** Shape and initial output of the network. */
export interface NetworkConfig {
  readonly inputs: number;
  readonly hidden: readonly number[];
  /** Number of quantile levels Q (the output has Q + 1 units). */
  readonly quantileCount: number;
  readonly seed: number;
  /** Initial output bias (length Q + 1): raw quantile parameters then the spike logit. */
  readonly outputBias: readonly number[];
}

/** Builds the residual network; seeded Glorot-uniform hidden kernels, zero output kernels. */
export function buildNetwork(cfg: NetworkConfig): tf.LayersModel {
  const outUnits = cfg.quantileCount + 1;
  const input = tf.input({ shape: [cfg.inputs], name: 'features' });
  let h: tf.SymbolicTensor = input;
  cfg.hidden.forEach((units, i) => {
    h = tf.layers.dense({
      units, activation: 'relu', name: `hidden_${i}`,
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(cfg.seed, `hidden_${i}`) }),
      biasInitializer: 'zeros',
    }).apply(h) as tf.SymbolicTensor;
  });
  const deep = tf.layers.dense({ units: outUnits, name: 'deep_out', kernelInitializer: 'zeros', biasInitializer: 'zeros' }).apply(h) as tf.SymbolicTensor;
  const linear = tf.layers.dense({ units: outUnits, name: 'linear_skip', useBias: false, kernelInitializer: 'zeros' }).apply(input) as tf.SymbolicTensor;
  const out = tf.layers.add({ name: 'head' }).apply([deep, linear]) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: 'har_residual_net' });
  const layer = model.getLayer('deep_out');
  // getWeights() returns the live variables (not copies): read the kernel, never dispose it.
  const [kernel] = layer.getWeights();
  tf.tidy(() => layer.setWeights([kernel!, tf.tensor1d(cfg.outputBias.slice(), 'float32')]));
  return model;
}

/** Splits the raw output into monotone standardised quantiles (n × Q) and the spike logit (n × 1). */
export function heads(out: tf.Tensor2D, quantileCount: number): { quant: tf.Tensor2D; logit: tf.Tensor2D } {
  const first = out.slice([0, 0], [-1, 1]);
  const quant = quantileCount === 1
    ? first
    : tf.cumsum(tf.concat([first, tf.softplus(out.slice([0, 1], [-1, quantileCount - 1]))], 1), 1) as tf.Tensor2D;
  return { quant, logit: out.slice([0, quantileCount], [-1, 1]) };
}

/** One batch of training or evaluation rows, row-major. */
export interface TrainData {
  readonly n: number;
  readonly width: number;
  readonly x: Float32Array;
  /** Standardised HAR residual of log forward RV. */
  readonly y: Float32Array;
  /** Spike label (0 where undefined) and its mask (1 defined, 0 undefined). */
  readonly spike: Float32Array;
  readonly mask: Float32Array;
}

/** Losses of a batch (all scalars, means over the batch). */
interface Losses { pinball: tf.Scalar; bce: tf.Scalar; total: tf.Scalar }

function losses(out: tf.Tensor2D, y: tf.Tensor1D, spike: tf.Tensor1D, mask: tf.Tensor1D, taus: tf.Tensor2D, spikeWeight: number): Losses {
  const { quant, logit } = heads(out, taus.shape[1]);
  const u = tf.sub(y.expandDims(1), quant);
  const pinball = tf.mean(tf.maximum(tf.mul(taus, u), tf.mul(tf.sub(taus, 1), u))) as tf.Scalar;
  const s = logit.squeeze([1]);
  // log(1 + e^s) − y·s: the cross-entropy of a logit, stable for large |s|.
  const ce = tf.mul(tf.sub(tf.softplus(s), tf.mul(spike, s)), mask);
  const bce = tf.div(tf.sum(ce), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  return { pinball, bce, total: tf.add(pinball, tf.mul(bce, spikeWeight)) as tf.Scalar };
}

/** Options of {@link trainNetwork}. */
export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly patience: number;
  readonly quantiles: readonly number[];
  readonly spikeWeight: number;
  readonly seed: number;
}

/** What a training run did. */
export interface TrainReport {
  readonly epochsRun: number;
  readonly bestEpoch: number;
  /** Validation losses at initialisation (pure HAR + constant quantiles) and at the best epoch. */
  readonly initialVal: { pinball: number; bce: number; total: number };
  readonly bestVal: { pinball: number; bce: number; total: number };
  readonly samplesSeen: number;
  readonly trainMs: number;
  readonly samplesPerSec: number;
}

/** Mean losses of the model over `data` (forward passes in chunks). */
export function evaluate(model: tf.LayersModel, data: TrainData, quantiles: readonly number[], spikeWeight: number): { pinball: number; bce: number; total: number } {
  if (data.n === 0) return { pinball: Number.NaN, bce: Number.NaN, total: Number.NaN };
  const chunk = 16_384;
  let pin = 0; let ce = 0; let maskSum = 0;
  for (let start = 0; start < data.n; start += chunk) {
    const m = Math.min(chunk, data.n - start);
    const [p, b, ms] = tf.tidy(() => {
      const x = tf.tensor2d(data.x.subarray(start * data.width, (start + m) * data.width), [m, data.width]);
      const mask = tf.tensor1d(data.mask.subarray(start, start + m));
      const l = losses(model.apply(x) as tf.Tensor2D, tf.tensor1d(data.y.subarray(start, start + m)), tf.tensor1d(data.spike.subarray(start, start + m)), mask, tf.tensor2d([quantiles.slice()]), spikeWeight);
      return [l.pinball.dataSync()[0]!, l.bce.dataSync()[0]!, tf.sum(mask).dataSync()[0]!];
    });
    pin += p * m; maskSum += ms;
    if (ms > 0) ce += b * ms;
  }
  const pinball = pin / data.n;
  const bce = maskSum > 0 ? ce / maskSum : 0;
  return { pinball, bce, total: pinball + spikeWeight * bce };
}

/**
 * Trains with Adam on seeded mini-batches (a fresh createRng permutation per epoch), evaluates on the
 * time-ordered validation fold after every epoch, and restores the weights of the best validation epoch
 * (early stopping after `patience` epochs without a relative improvement of 1e-4).
 */
export function trainNetwork(model: tf.LayersModel, train: TrainData, val: TrainData, opts: TrainOptions): TrainReport {
  const rng = createRng(deriveSeed(opts.seed, 'batches'));
  const optimizer = tf.train.adam(opts.learningRate);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const taus = tf.tensor2d([opts.quantiles.slice()]);
  const width = train.width;
  const bs = Math.max(1, Math.min(opts.batchSize, train.n));
  const xb = new Float32Array(bs * width);
  const yb = new Float32Array(bs); const sb = new Float32Array(bs); const mb = new Float32Array(bs);
  const perm = new Int32Array(train.n);
  const initialVal = evaluate(model, val.n ? val : train, opts.quantiles, opts.spikeWeight);
  let best = initialVal;
  let bestEpoch = 0;
  let bestWeights: tf.Tensor[] = model.getWeights().map((w) => w.clone());
  let samplesSeen = 0;
  let epochsRun = 0;
  const t0 = performance.now();
  try {
    for (let epoch = 1; epoch <= opts.epochs && train.n > 0; epoch++) {
      for (let i = 0; i < train.n; i++) perm[i] = i;
      for (let i = train.n - 1; i > 0; i--) { const j = rng.int(i + 1); const t = perm[i]!; perm[i] = perm[j]!; perm[j] = t; }
      for (let start = 0; start < train.n; start += bs) {
        const m = Math.min(bs, train.n - start);
        for (let k = 0; k < m; k++) {
          const r = perm[start + k]!;
          xb.set(train.x.subarray(r * width, (r + 1) * width), k * width);
          yb[k] = train.y[r]!; sb[k] = train.spike[r]!; mb[k] = train.mask[r]!;
        }
        tf.tidy(() => {
          const x = tf.tensor2d(xb.subarray(0, m * width), [m, width]);
          const y = tf.tensor1d(yb.subarray(0, m)); const s = tf.tensor1d(sb.subarray(0, m)); const mk = tf.tensor1d(mb.subarray(0, m));
          optimizer.minimize(() => losses(model.apply(x) as tf.Tensor2D, y, s, mk, taus, opts.spikeWeight).total, false, vars);
        });
        samplesSeen += m;
      }
      epochsRun = epoch;
      const v = evaluate(model, val.n ? val : train, opts.quantiles, opts.spikeWeight);
      if (v.total < best.total - 1e-4 * Math.abs(best.total)) {
        best = v; bestEpoch = epoch;
        for (const w of bestWeights) w.dispose();
        bestWeights = model.getWeights().map((w) => w.clone());
      } else if (epoch - bestEpoch >= opts.patience) {
        break;
      }
    }
    model.setWeights(bestWeights);
  } finally {
    for (const w of bestWeights) w.dispose();
    taus.dispose();
    optimizer.dispose();
  }
  const trainMs = performance.now() - t0;
  return { epochsRun, bestEpoch, initialVal, bestVal: best, samplesSeen, trainMs, samplesPerSec: trainMs > 0 ? (samplesSeen / trainMs) * 1000 : 0 };
}

/**
 * One batched forward pass: standardised quantiles (n × Q, row-major) and spike logits (n). `x` is n × width.
 */
export function forward(model: tf.LayersModel, x: Float32Array, n: number, width: number, quantileCount: number): { quant: Float32Array; logit: Float32Array } {
  if (n === 0) return { quant: new Float32Array(0), logit: new Float32Array(0) };
  return tf.tidy(() => {
    const out = model.predict(tf.tensor2d(x, [n, width]), { batchSize: n }) as tf.Tensor2D;
    const { quant, logit } = heads(out, quantileCount);
    return { quant: quant.dataSync() as Float32Array, logit: logit.dataSync() as Float32Array };
  });
}
