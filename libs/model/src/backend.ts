import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { BackendUnavailableError } from './errors';

export type BackendPreference = 'auto' | 'tfjs-node' | 'wasm' | 'cpu';

/** What runs the network; recorded with every run. */
export interface BackendInfo {
  engine: 'tfjs';
  /** `tf.getBackend()`: `tensorflow` (tfjs-node), `wasm` or `cpu`. */
  backend: string;
  /** @tensorflow/tfjs-core version. */
  engineVersion: string;
  /** True when the native TensorFlow bindings (tfjs-node) execute the ops. */
  nodeBindings: boolean;
  /** Worker threads the backend uses, where it reports them. */
  threads?: number;
}

const TFJS_NODE = '@tensorflow/tfjs-node';

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;
let pendingPreference: BackendPreference | undefined;

/** The backend chosen by `initBackend`, or undefined before the first call. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/**
 * Chooses and initialises the tfjs backend once per process. `auto` prefers the native
 * bindings, then WebAssembly, then the pure-JS CPU backend. Calling it again returns the same
 * info unless a different explicit backend is requested.
 */
export async function initBackend(preference: BackendPreference = 'auto'): Promise<BackendInfo> {
  if (current && (preference === 'auto' || matches(preference, current))) return current;
  // Concurrent callers share one initialisation instead of racing tf.setBackend.
  if (pending && (preference === 'auto' || preference === pendingPreference)) return pending;
  pendingPreference = preference;
  pending = choose(preference).then(
    (info) => {
      current = info;
      pending = undefined;
      return info;
    },
    (err: unknown) => {
      pending = undefined;
      throw err;
    },
  );
  return pending;
}

function matches(preference: BackendPreference, info: BackendInfo): boolean {
  return preference === 'tfjs-node' ? info.nodeBindings : info.backend === preference;
}

async function choose(preference: BackendPreference): Promise<BackendInfo> {
  if (preference === 'tfjs-node') {
    const failure = loadTfjsNode();
    if (failure) {
      throw new BackendUnavailableError(
        `The tfjs-node backend is not available (${failure}). Install it with ` +
          '`npm install @tensorflow/tfjs-node` (same version as @tensorflow/tfjs), or use the ' +
          "'wasm' or 'cpu' backend.",
        'tfjs-node',
      );
    }
    return activate('tensorflow');
  }
  if (preference === 'wasm') return activate('wasm');
  if (preference === 'cpu') return activate('cpu');

  const errors: string[] = [];
  const nodeFailure = loadTfjsNode();
  if (!nodeFailure) {
    try {
      return await activate('tensorflow');
    } catch (err) {
      errors.push(`tfjs-node: ${(err as Error).message}`);
    }
  }
  for (const name of ['wasm', 'cpu']) {
    try {
      return await activate(name);
    } catch (err) {
      errors.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new BackendUnavailableError(`No tfjs backend could be initialised: ${errors.join('; ')}`, 'auto');
}

/** Returns undefined on success, else why tfjs-node cannot be used. */
function loadTfjsNode(): string | undefined {
  if (tf.findBackendFactory('tensorflow')) return undefined;
  try {
    // Optional peer dependency: a computed name keeps TypeScript and bundlers from resolving it.
    require(TFJS_NODE as string);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND'
      ? `${TFJS_NODE} is not installed`
      : `${TFJS_NODE} failed to load: ${(err as Error).message}`;
  }
  // tfjs-node registers on the tfjs-core instance it imports; a second copy would not be ours.
  return tf.findBackendFactory('tensorflow')
    ? undefined
    : `${TFJS_NODE} loaded but registered on a different @tensorflow/tfjs-core copy (version mismatch?)`;
}

async function activate(name: string): Promise<BackendInfo> {
  if (name === 'wasm') {
    // Emscripten resolves the .wasm binary relative to the script it runs from, which breaks once
    // the code is bundled or run from another folder: point it at the package's dist folder.
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    tfWasm.setWasmPaths(dist + path.sep);
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new BackendUnavailableError(`tf.setBackend('${name}') failed`, name);
  await tf.ready();
  const info: BackendInfo = {
    engine: 'tfjs',
    backend: tf.getBackend(),
    engineVersion: tf.version_core,
    nodeBindings: name === 'tensorflow',
  };
  if (name === 'wasm') info.threads = tfWasm.getThreadsCount();
  else if (name === 'cpu') info.threads = 1;
  return info;
}
