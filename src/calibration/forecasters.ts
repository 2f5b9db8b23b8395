/**
 * The forecaster a policy reads, by model name: the registry's named spec, or a caller's replacement (a smaller
 * network for tests, a tuned one in a pipeline). Loads TensorFlow.js through the registry, so import it lazily.
 */
import { AppError } from '../core/errors.ts';
import type { Forecaster, ForecasterSpec } from '../forecasting/forecaster.ts';
import { createForecaster, NAMED_SPECS } from '../forecasting/registry.ts';

/** The forecaster for `name`; its spec is named `name` so that walk-forward results are keyed by it. */
export function forecasterFor(name: string, specs?: Readonly<Record<string, ForecasterSpec>>): Forecaster {
  const spec = specs?.[name] ?? NAMED_SPECS[name];
  if (!spec) throw new AppError('config', `Unknown model "${name}": use one of ${Object.keys(NAMED_SPECS).join(', ')}.`, { context: { name } });
  return createForecaster({ ...spec, name });
}
