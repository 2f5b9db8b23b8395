import * as tf from '@tensorflow/tfjs';

/** TensorFlow.js backends liqcal can run on, in the default order of preference. */
export const BACKEND_PREFERENCE = ['tensorflow', 'wasm', 'cpu'] as const;
/** A TensorFlow.js backend name. */
export type BackendName = (typeof BACKEND_PREFERENCE)[number];

/** The loaded TensorFlow.js module, the backend in use, and why the preferred ones were skipped. */
export interface LoadedTf {
  readonly tf: typeof tf;
  readonly backend: string;
  /** Per skipped backend, the first line of the error that ruled it out. */
  readonly skipped: Readonly<Partial<Record<BackendName, string>>>;
}

let loaded: Promise<LoadedTf> | undefined;

/**
 * Loads TensorFlow.js on the best available backend: `@tensorflow/tfjs-node` (an optional dependency;
 * it cannot install where libtensorflow cannot be downloaded), else the wasm backend, else pure-JS cpu.
 * The choice is recorded in every model card. Memoised per process.
 */
export function loadTf(prefer: readonly BackendName[] = BACKEND_PREFERENCE): Promise<LoadedTf> {
  loaded ??= tryBackends(prefer);
  return loaded;
}

async function tryBackends(prefer: readonly BackendName[]): Promise<LoadedTf> {
  const skipped: Partial<Record<BackendName, string>> = {};
  for (const name of prefer) {
    try {
      if (name === 'tensorflow') {
        // A variable specifier: the package is optional and usually absent, and tsc must not resolve it.
        const spec = '@tensorflow/tfjs-node';
        await import(spec);
      } else if (name === 'wasm') {
        await import('@tensorflow/tfjs-backend-wasm');
      }
      // setBackend returns false (it does not throw) when initialisation fails.
      if (!(await tf.setBackend(name))) throw new Error(`setBackend(${name}) returned false`);
      await tf.ready();
      return { tf, backend: tf.getBackend(), skipped };
    } catch (e) {
      skipped[name] = String((e as Error)?.message ?? e).split('\n')[0] ?? 'unknown error';
    }
  }
  throw new Error(`No TensorFlow.js backend could be loaded: ${JSON.stringify(skipped)}`);
}
