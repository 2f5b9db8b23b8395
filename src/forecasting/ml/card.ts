import type { ModelArtifact } from '../forecaster.ts';
import type { ModelCard } from '../model-store.ts';
import { parseMlState } from './state.ts';

/**
 * The model card of a fitted ml forecaster's artifact: data range, symbols, features and hash, spec, seed,
 * backend, training time and throughput, and the fit's diagnostics (plus any `extraMetrics`, e.g. walk-forward
 * QLIKE). Pure: the caller supplies the creation time.
 */
export function mlModelCard(artifact: ModelArtifact, opts: { name: string; createdAtMs: number; extraMetrics?: Record<string, number | null>; notes?: string }): ModelCard {
  const st = parseMlState(artifact.state, `model ${opts.name}`);
  return {
    name: opts.name,
    kind: artifact.spec.kind,
    createdAtMs: opts.createdAtMs,
    dataRange: { fromMs: st.trainRange.fromMs, toMs: st.trainRange.toMs, fitEndMs: st.trainRange.fitEndMs },
    symbols: [...st.symbols],
    interval: st.interval,
    horizonBars: st.horizonBars,
    features: [...st.featureNames],
    featureHash: st.featureHash,
    spec: { ...artifact.spec },
    seed: st.seed,
    backend: st.backend,
    trainingMs: st.trainingMs,
    samplesPerSec: st.samplesPerSec,
    metrics: { ...st.metrics, ...(opts.extraMetrics ?? {}) },
    ...(opts.notes === undefined ? {} : { notes: opts.notes }),
  };
}
