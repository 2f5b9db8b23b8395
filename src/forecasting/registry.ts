import { AppError } from '../core/errors.ts';
import { createEwma } from './baselines/ewma.ts';
import { createGarch } from './baselines/garch.ts';
import { createHar } from './baselines/har.ts';
import type { Forecaster, ForecasterSpec } from './forecaster.ts';
import { NAMED_SPECS } from './model-names.ts';
import { createMlForecaster } from './ml/model.ts';

export { DEFAULT_MODEL_NAMES, NAMED_SPECS } from './model-names.ts';

/** Builds forecasters from JSON specs by `kind`: the one place a spec becomes code. */
const FACTORIES: Readonly<Record<string, (spec: ForecasterSpec) => Forecaster>> = {
  ewma: (s) => createEwma(s as Parameters<typeof createEwma>[0]) as unknown as Forecaster,
  garch: (s) => createGarch(s as Parameters<typeof createGarch>[0]) as unknown as Forecaster,
  har: (s) => createHar(s as Parameters<typeof createHar>[0]) as unknown as Forecaster,
  ml: (s) => createMlForecaster(s as Parameters<typeof createMlForecaster>[0]) as unknown as Forecaster,
};

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

