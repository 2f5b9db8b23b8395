import { AppError } from '../core/errors.ts';
import { createEwma } from './baselines/ewma.ts';
import { createGarch } from './baselines/garch.ts';
import { createHar } from './baselines/har.ts';
import type { Forecaster, ForecasterSpec } from './forecaster.ts';
import { createMlForecaster } from './ml/model.ts';

/** Builds forecasters from JSON specs by `kind`: the one place a spec becomes code. */
const FACTORIES: Readonly<Record<string, (spec: ForecasterSpec) => Forecaster>> = {
  ewma: (s) => createEwma(s as Parameters<typeof createEwma>[0]) as unknown as Forecaster,
  garch: (s) => createGarch(s as Parameters<typeof createGarch>[0]) as unknown as Forecaster,
  har: (s) => createHar(s as Parameters<typeof createHar>[0]) as unknown as Forecaster,
  ml: (s) => createMlForecaster(s as Parameters<typeof createMlForecaster>[0]) as unknown as Forecaster,
};

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

/** Creates the forecaster for a spec, or throws a `config` error naming the known kinds. */
export function createForecaster(spec: ForecasterSpec): Forecaster {
  const make = FACTORIES[spec.kind];
  if (!make) throw new AppError('config', `Unknown forecaster kind "${spec.kind}": use one of ${Object.keys(FACTORIES).join(', ')}.`, { context: { spec } });
  return make(spec);
}

/** Resolves a model name (`ewma`, `har-j`, …) to its forecaster. */
export function forecasterByName(name: string): Forecaster {
  const spec = NAMED_SPECS[name];
  if (!spec) throw new AppError('config', `Unknown model "${name}": use one of ${Object.keys(NAMED_SPECS).join(', ')}.`, { context: { name } });
  return createForecaster(spec);
}

/** The report name of a model: its spec's `name`, else its `kind`. */
export function modelName(spec: ForecasterSpec): string {
  return typeof spec.name === 'string' ? spec.name : spec.kind;
}
