/**
 * Bounds on what loading a model may read or wait for, so a hostile or broken source (a link to
 * /dev/zero, an endless HTTP body, a server that never answers) fails with a message instead of
 * eating the machine's memory or hanging. Defaults can be changed per process with environment
 * variables (documented in the README, "When things go wrong").
 */
import { ModelFormatError, ModelOptionsError } from './errors';
import { FileBoundsError } from '@mlbench/common';

export interface ModelLimits {
  /** Largest model in bytes (a .tflite file, or model.json plus all its weight files). */
  maxModelBytes: number;
  /** A download fails when no byte arrives for this long (connecting, waiting for headers, or mid-body). */
  downloadTimeoutMs: number;
}

export const DEFAULT_MODEL_LIMITS: Readonly<ModelLimits> = { maxModelBytes: 2 * 1024 ** 3, downloadTimeoutMs: 30_000 };

/** Environment variables that override the defaults. */
export const MODEL_LIMIT_ENV = { maxModelBytes: 'MLBENCH_MAX_MODEL_BYTES', downloadTimeoutSeconds: 'MLBENCH_DOWNLOAD_TIMEOUT_SECONDS' } as const;

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** `2147483648`, `512MiB`, `2 GB` -> bytes; undefined when the text is not a size. */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) return undefined;
  const bytes = Math.floor(Number(m[1]) * unit);
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** The defaults, overridden by `MLBENCH_MAX_MODEL_BYTES` and `MLBENCH_DOWNLOAD_TIMEOUT_SECONDS`. */
export function modelLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): ModelLimits {
  const limits = { ...DEFAULT_MODEL_LIMITS };
  const bytes = env[MODEL_LIMIT_ENV.maxModelBytes];
  if (bytes !== undefined && bytes !== '') {
    const parsed = parseByteSize(bytes);
    if (parsed === undefined) {
      throw new ModelOptionsError(`${MODEL_LIMIT_ENV.maxModelBytes}=${JSON.stringify(bytes)}: expected a size such as 2147483648, 512MiB or 4GiB`);
    }
    limits.maxModelBytes = parsed;
  }
  const seconds = env[MODEL_LIMIT_ENV.downloadTimeoutSeconds];
  if (seconds !== undefined && seconds !== '') {
    const parsed = Number(seconds);
    if (!(Number.isFinite(parsed) && parsed > 0)) {
      throw new ModelOptionsError(`${MODEL_LIMIT_ENV.downloadTimeoutSeconds}=${JSON.stringify(seconds)}: expected a positive number of seconds`);
    }
    limits.downloadTimeoutMs = parsed * 1000;
  }
  return limits;
}

/** `2147483648` -> `2 GiB`, for messages. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= size) return `${+(bytes / size).toFixed(2)} ${unit}`;
  }
  return `${bytes} bytes`;
}

/** FileBoundsError as a ModelFormatError that says what to do; other errors unchanged. */
export function explainBounds(err: unknown, file: string, limits: Pick<ModelLimits, 'maxModelBytes'>): unknown {
  if (!(err instanceof FileBoundsError)) return err;
  if (err.reason === 'not-a-file') {
    return new ModelFormatError(`${err.message}; a model source must be a .tflite file or a model.json (or a folder holding one).`, file);
  }
  return new ModelFormatError(
    `${err.message} (${formatBytes(limits.maxModelBytes)}); check that this is the model you meant, or raise the limit with ` +
      `${MODEL_LIMIT_ENV.maxModelBytes}=<bytes, e.g. 4GiB>.`,
    file,
  );
}

