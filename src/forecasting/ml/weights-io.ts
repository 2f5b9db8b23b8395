/**
 * Serialises a layers model to JSON topology + binary weights and back, without tfjs-node (whose `file://`
 * handler is unavailable here): `tf.io.withSaveHandler` captures what `model.save` would write, and
 * `tf.io.fromMemory` feeds it back to `tf.loadLayersModel`. The round trip is bit-exact (float32 bytes).
 */
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../../core/errors.ts';

/** Name, shape and dtype of one weight tensor (this network has only float32 weights). */
export interface WeightSpec {
  readonly name: string;
  readonly shape: number[];
  readonly dtype: 'float32' | 'int32';
}

/** A serialised layers model. */
export interface SerialisedModel {
  /** The Keras-style model topology (JSON). */
  readonly topology: unknown;
  /** Name, shape and dtype of every weight, in the order of `weights`. */
  readonly weightSpecs: WeightSpec[];
  readonly weights: Uint8Array;
}

/** Captures a model's topology and weights. */
export async function serialiseModel(model: tf.LayersModel): Promise<SerialisedModel> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    captured = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
  }));
  if (!captured?.modelTopology || !captured.weightSpecs) throw new AppError('internal', 'Saving the ml model produced no topology or weights; this is a bug in liqcal.', {});
  const data = captured.weightData;
  const buffer = data === undefined ? new ArrayBuffer(0) : Array.isArray(data) ? new tf.io.CompositeArrayBuffer(data).slice() : data;
  const weightSpecs = captured.weightSpecs.map((w): WeightSpec => {
    if ((w.dtype !== 'float32' && w.dtype !== 'int32') || w.quantization) throw new AppError('internal', `Weight ${w.name} has dtype ${w.dtype}${w.quantization ? ' (quantised)' : ''}, which the ml artifact format does not store; this is a bug in liqcal.`, {});
    return { name: w.name, shape: [...w.shape], dtype: w.dtype };
  });
  return { topology: captured.modelTopology, weightSpecs, weights: new Uint8Array(buffer.slice(0)) };
}

/** Byte length the weight specs call for (float32 / int32: 4 bytes per element). */
export function expectedWeightBytes(specs: readonly WeightSpec[]): number {
  return specs.reduce((s, w) => s + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
}

/** Rebuilds a layers model from its serialised form. */
export async function deserialiseModel(m: SerialisedModel, what: string): Promise<tf.LayersModel> {
  const need = expectedWeightBytes(m.weightSpecs);
  if (m.weights.byteLength !== need) {
    throw new AppError('schema', `The weights of ${what} are ${m.weights.byteLength} bytes but its weight specs call for ${need}; the artifact is truncated or from another model — save it again or retrain.`, { context: { what, bytes: m.weights.byteLength, expected: need } });
  }
  const weightData = m.weights.buffer.slice(m.weights.byteOffset, m.weights.byteOffset + m.weights.byteLength) as ArrayBuffer;
  try {
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: m.topology as tf.io.ModelJSON['modelTopology'], weightSpecs: m.weightSpecs, weightData }));
  } catch (e) {
    throw new AppError('schema', `The network of ${what} could not be rebuilt from its topology and weights (${String((e as Error)?.message ?? e).split('\n')[0]}); the artifact is corrupt or from an incompatible version — retrain.`, { context: { what }, cause: e });
  }
}
