import type { ForecasterSpec } from './forecaster.ts';

// Plain data, kept apart from the registry so that the CLI can list models without loading TensorFlow.js.

/** Model names accepted by `--models`, with the spec each one stands for. */
export const NAMED_SPECS: Readonly<Record<string, ForecasterSpec>> = {
  ewma: { kind: 'ewma', lambda: 0.94 },
  garch: { kind: 'garch', dist: 't' },
  har: { kind: 'har', variant: 'rv' },
  'har-j': { kind: 'har', variant: 'j', name: 'har-j' },
  'har-sv': { kind: 'har', variant: 'sv', name: 'har-sv' },
  ml: { kind: 'ml' },
};

/** The models every comparison runs by default: the baselines and the neural model. */
export const DEFAULT_MODEL_NAMES = ['ewma', 'garch', 'har', 'har-j', 'ml'] as const;
