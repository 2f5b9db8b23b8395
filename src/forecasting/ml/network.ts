/**
 * The network of the ml forecaster, its losses and its training loop. The only file (with weights-io.ts)
 * that touches tensors; every tensor op runs inside `tf.tidy` or is disposed explicitly.
 *
 * Architecture (dense only: recurrent layers are 50× slower on the wasm backend):
 *
 *   z-scored features ─► Dense(h₁, relu) ─► … ─► Dense(Q+2) ─┐
 *                    └──────────────► Dense(Q+2, no bias) ───┴─► + ─► [a, d₂…d_Q, s, v]
 *
 * Both output layers start with zero kernels, so at initialisation the network outputs its bias: the
 * standardised quantiles of the HAR residual, the logit of the spike base rate and the log of the mean ratio
 * RV / exp(HAR) — i.e. it starts *at* the HAR solution (HARNet, arXiv 2205.07719) and learns a correction.
 * The quantile head is monotone by construction: q₁ = a, q_k = q_{k−1} + softplus(d_k). s is the spike logit
 * and v the log variance relative to the HAR offset: the point forecast is exp(offset + v).
 *
 * Loss = mean pinball loss over the Q levels (on the HAR residual scaled by its training s.d.)
 *      + w_s · binary cross-entropy of the spike logit (rows with an undefined spike label are masked)
 *      + w_v · mean QLIKE of the variance head, RV/exp(offset + v) + v (up to a constant), whose minimiser is
 *        E[RV | inputs] — the evaluation metric itself.
 *
 * An ensemble (averageNetworks) concatenates several such networks' outputs; `heads` averages them.
 * A network of an older artifact with Q + 1 outputs (no variance unit) is still decoded.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, deriveSeed } from '../../core/rng.ts';

/** Shape and initial output of the network. */
export interface NetworkConfig {
  readonly inputs: number;
  readonly hidden: readonly number[];
  /** Number of quantile levels Q (the output has Q + 2 units). */
  readonly quantileCount: number;
  readonly seed: number;
  /** Initial output bias (length Q + 2): raw quantile parameters, the spike logit, then the log-variance offset. */
  readonly outputBias: readonly number[];
}

/** The layers of one network on `input`; layer names carry `prefix`. */
function branch(input: tf.SymbolicTensor, cfg: NetworkConfig, prefix: string): tf.SymbolicTensor {
  const outUnits = cfg.outputBias.length;
  let h: tf.SymbolicTensor = input;
  cfg.hidden.forEach((units, i) => {
    h = tf.layers.dense({
      units, activation: 'relu', name: `${prefix}hidden_${i}`,
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(cfg.seed, `hidden_${i}`) }),
      biasInitializer: 'zeros',
    }).apply(h) as tf.SymbolicTensor;
  });
  const deep = tf.layers.dense({ units: outUnits, name: `${prefix}deep_out`, kernelInitializer: 'zeros', biasInitializer: 'zeros' }).apply(h) as tf.SymbolicTensor;
  const linear = tf.layers.dense({ units: outUnits, name: `${prefix}linear_skip`, useBias: false, kernelInitializer: 'zeros' }).apply(input) as tf.SymbolicTensor;
  return tf.layers.add({ name: `${prefix}head` }).apply([deep, linear]) as tf.SymbolicTensor;
}

/** Names of the weighted layers of one network. */
function weightedLayers(cfg: NetworkConfig): string[] {
  return [...cfg.hidden.map((_, i) => `hidden_${i}`), 'deep_out', 'linear_skip'];
}

/**
 * Joins independently trained members (same shape, built by {@link buildNetwork}) into one model whose raw
 * output is the members' outputs side by side; {@link heads} averages them (quantiles and spike logits by
 * their mean, variances arithmetically). The members' weights are copied; they can be disposed afterwards.
 * A single member is returned as is.
 */
export function averageNetworks(members: readonly tf.LayersModel[], cfg: NetworkConfig): tf.LayersModel {
  if (members.length === 1) return members[0]!;
  const input = tf.input({ shape: [cfg.inputs], name: 'features' });
  const outs = members.map((_, k) => branch(input, cfg, `m${k}_`));
  const out = tf.layers.concatenate({ name: 'ensemble', axis: -1 }).apply(outs) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: 'har_residual_ensemble' });
  members.forEach((m, k) => {
    for (const name of weightedLayers(cfg)) model.getLayer(`m${k}_${name}`).setWeights(m.getLayer(name).getWeights());
  });
  return model;
}

/** Builds the residual network; seeded Glorot-uniform hidden kernels, zero output kernels. */
export function buildNetwork(cfg: NetworkConfig): tf.LayersModel {
  const input = tf.input({ shape: [cfg.inputs], name: 'features' });
  const out = branch(input, cfg, '');
  const model = tf.model({ inputs: input, outputs: out, name: 'har_residual_net' });
  const layer = model.getLayer('deep_out');
  // getWeights() returns the live variables (not copies): read the kernel, never dispose it.
  const [kernel] = layer.getWeights();
  tf.tidy(() => layer.setWeights([kernel!, tf.tensor1d(cfg.outputBias.slice(), 'float32')]));
  return model;
}

/**
 * Splits the raw output into monotone standardised quantiles (n × Q), the spike logit (n × 1) and — when the
 * network has the unit (Q + 2 outputs) — the log variance relative to the HAR offset (n × 1).
 */
export function heads(out: tf.Tensor2D, quantileCount: number): { quant: tf.Tensor2D; logit: tf.Tensor2D; logVar: tf.Tensor2D | undefined } {
  const per = quantileCount + 2;
  const members = out.shape[1] / per;
  if (Number.isInteger(members) && members > 1) {
    // An ensemble (averageNetworks): average the members' quantiles and logits, and their variances
    // arithmetically (log-mean-exp of the log variances), since QLIKE is minimised by the mean.
    const hs = Array.from({ length: members }, (_, k) => heads(out.slice([0, k * per], [-1, per]), quantileCount));
    return {
      quant: tf.div(tf.addN(hs.map((h) => h.quant)), members),
      logit: tf.div(tf.addN(hs.map((h) => h.logit)), members),
      logVar: tf.sub(tf.logSumExp(tf.concat(hs.map((h) => h.logVar!), 1), 1, true), Math.log(members)),
    };
  }
  const first = out.slice([0, 0], [-1, 1]);
  const quant = quantileCount === 1
    ? first
    : tf.cumsum(tf.concat([first, tf.softplus(out.slice([0, 1], [-1, quantileCount - 1]))], 1), 1) as tf.Tensor2D;
  const logVar = out.shape[1] === per ? out.slice([0, quantileCount + 1], [-1, 1]) : undefined;
  return { quant, logit: out.slice([0, quantileCount], [-1, 1]), logVar };
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
  /** Forward RV divided by exp(HAR offset): the QLIKE target of the variance head. */
  readonly ratio: Float32Array;
}

/** Losses of a batch (all scalars, means over the batch). */
interface Losses { pinball: tf.Scalar; bce: tf.Scalar; qlike: tf.Scalar; total: tf.Scalar }

/** Loss weights of the spike and variance heads (the pinball loss has weight 1). */
export interface LossWeights { readonly spike: number; readonly variance: number }

function losses(out: tf.Tensor2D, y: tf.Tensor1D, spike: tf.Tensor1D, mask: tf.Tensor1D, ratio: tf.Tensor1D, taus: tf.Tensor2D, w: LossWeights): Losses {
  const { quant, logit, logVar } = heads(out, taus.shape[1]);
  const u = tf.sub(y.expandDims(1), quant);
  const pinball = tf.mean(tf.maximum(tf.mul(taus, u), tf.mul(tf.sub(taus, 1), u))) as tf.Scalar;
  const s = logit.squeeze([1]);
  // log(1 + e^s) − y·s: the cross-entropy of a logit, stable for large |s|.
  const ce = tf.mul(tf.sub(tf.softplus(s), tf.mul(spike, s)), mask);
  const bce = tf.div(tf.sum(ce), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  // QLIKE up to a constant: RV/σ² + log σ², with log σ² = offset + v; minimised by σ² = E[RV | inputs].
  const qlike = logVar
    ? tf.mean(tf.add(tf.mul(ratio, tf.exp(tf.neg(logVar.squeeze([1])))), logVar.squeeze([1]))) as tf.Scalar
    : tf.scalar(0);
  return { pinball, bce, qlike, total: tf.addN([pinball, tf.mul(bce, w.spike), tf.mul(qlike, w.variance)]) as tf.Scalar };
}

/** Options of {@link trainNetwork}. */
export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly patience: number;
  readonly quantiles: readonly number[];
  readonly weights: LossWeights;
  readonly seed: number;
  /** Called after every epoch with its validation loss (progress display; must not throw). */
  readonly onEpoch?: (e: EpochProgress) => void;
}

/** Progress of {@link trainNetwork} after one epoch. */
export interface EpochProgress {
  /** 1-based epoch just finished, of at most `epochs` (early stopping may end sooner). */
  readonly epoch: number;
  readonly epochs: number;
  /** Total validation loss after this epoch, and the best epoch so far (0: the initialisation). */
  readonly valLoss: number;
  readonly bestEpoch: number;
}

/** What a training run did. */
export interface TrainReport {
  readonly epochsRun: number;
  readonly bestEpoch: number;
  /** Validation losses at initialisation (pure HAR + constant quantiles) and at the best epoch. */
  readonly initialVal: EvalLosses;
  readonly bestVal: EvalLosses;
  readonly samplesSeen: number;
  readonly trainMs: number;
  readonly samplesPerSec: number;
}

/** Mean losses over a data set. */
export interface EvalLosses { pinball: number; bce: number; qlike: number; total: number }

/** Mean losses of the model over `data` (forward passes in chunks). */
export function evaluate(model: tf.LayersModel, data: TrainData, quantiles: readonly number[], w: LossWeights): EvalLosses {
  if (data.n === 0) return { pinball: Number.NaN, bce: Number.NaN, qlike: Number.NaN, total: Number.NaN };
  const chunk = 16_384;
  let pin = 0; let ce = 0; let maskSum = 0; let ql = 0;
  for (let start = 0; start < data.n; start += chunk) {
    const m = Math.min(chunk, data.n - start);
    const [p, b, ms, q] = tf.tidy(() => {
      const x = tf.tensor2d(data.x.subarray(start * data.width, (start + m) * data.width), [m, data.width]);
      const mask = tf.tensor1d(data.mask.subarray(start, start + m));
      const l = losses(model.apply(x) as tf.Tensor2D, tf.tensor1d(data.y.subarray(start, start + m)), tf.tensor1d(data.spike.subarray(start, start + m)), mask, tf.tensor1d(data.ratio.subarray(start, start + m)), tf.tensor2d([quantiles.slice()]), w);
      return [l.pinball.dataSync()[0]!, l.bce.dataSync()[0]!, tf.sum(mask).dataSync()[0]!, l.qlike.dataSync()[0]!];
    });
    pin += p * m; maskSum += ms; ql += q * m;
    if (ms > 0) ce += b * ms;
  }
  const pinball = pin / data.n;
  const bce = maskSum > 0 ? ce / maskSum : 0;
  const qlike = ql / data.n;
  return { pinball, bce, qlike, total: pinball + w.spike * bce + w.variance * qlike };
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
  const yb = new Float32Array(bs); const sb = new Float32Array(bs); const mb = new Float32Array(bs); const rb = new Float32Array(bs);
  const perm = new Int32Array(train.n);
  const initialVal = evaluate(model, val.n ? val : train, opts.quantiles, opts.weights);
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
          yb[k] = train.y[r]!; sb[k] = train.spike[r]!; mb[k] = train.mask[r]!; rb[k] = train.ratio[r]!;
        }
        tf.tidy(() => {
          const x = tf.tensor2d(xb.subarray(0, m * width), [m, width]);
          const y = tf.tensor1d(yb.subarray(0, m)); const s = tf.tensor1d(sb.subarray(0, m)); const mk = tf.tensor1d(mb.subarray(0, m)); const rt = tf.tensor1d(rb.subarray(0, m));
          optimizer.minimize(() => losses(model.apply(x) as tf.Tensor2D, y, s, mk, rt, taus, opts.weights).total, false, vars);
        });
        samplesSeen += m;
      }
      epochsRun = epoch;
      const v = evaluate(model, val.n ? val : train, opts.quantiles, opts.weights);
      if (v.total < best.total - 1e-4 * Math.abs(best.total)) {
        best = v; bestEpoch = epoch;
        for (const w of bestWeights) w.dispose();
        bestWeights = model.getWeights().map((w) => w.clone());
      }
      opts.onEpoch?.({ epoch, epochs: opts.epochs, valLoss: v.total, bestEpoch });
      if (bestEpoch !== epoch && epoch - bestEpoch >= opts.patience) break;
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

/** True when the network has the QLIKE variance unit (Q + 2 outputs). */
export function hasVarianceHead(model: tf.LayersModel, quantileCount: number): boolean {
  return (model.outputs[0]!.shape[1] ?? 0) > quantileCount + 1;
}

/**
 * One batched forward pass: standardised quantiles (n × Q, row-major), spike logits (n) and, for a network
 * with a variance head, log variances relative to the HAR offset (n). `x` is n × width.
 */
export function forward(model: tf.LayersModel, x: Float32Array, n: number, width: number, quantileCount: number): { quant: Float32Array; logit: Float32Array; logVar: Float32Array | undefined } {
  const hasVar = hasVarianceHead(model, quantileCount);
  if (n === 0) return { quant: new Float32Array(0), logit: new Float32Array(0), logVar: hasVar ? new Float32Array(0) : undefined };
  return tf.tidy(() => {
    const out = model.predict(tf.tensor2d(x, [n, width]), { batchSize: n }) as tf.Tensor2D;
    const { quant, logit, logVar } = heads(out, quantileCount);
    return { quant: quant.dataSync() as Float32Array, logit: logit.dataSync() as Float32Array, logVar: logVar ? logVar.dataSync() as Float32Array : undefined };
  });
}
