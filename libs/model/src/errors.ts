/**
 * Every failure the model library reports on purpose is a `ModelError`, so callers can tell a
 * problem the user can fix (wrong path, corrupt file, unsupported operator) from a bug.
 */
export class ModelError extends Error {
  constructor(
    message: string,
    /** The model file, URL or folder at fault, when there is one. */
    readonly source?: string,
  ) {
    super(message);
    // Each subclass is named after itself (`ModelFormatError`, ...), without restating it.
    this.name = new.target.name;
  }
}

/** The options passed to `loadExtractor` are incomplete or contradictory. */
export class ModelOptionsError extends ModelError {}

/** The model file (or a weight file it references) does not exist. */
export class ModelNotFoundError extends ModelError {}

/** The file is not a model in the format its name or content claims, or it is truncated. */
export class ModelFormatError extends ModelError {}

/** The network uses an operator (or an operator option) this engine does not implement. */
export class UnsupportedOperatorError extends ModelError {
  constructor(
    message: string,
    source: string,
    /** Builtin operator name, e.g. `LSTM`, or the custom code. */
    readonly operator: string,
  ) {
    super(message, source);
  }
}

/** The requested feature layer is not in the graph; `candidates` lists names that are. */
export class FeatureLayerError extends ModelError {
  constructor(
    message: string,
    source: string,
    readonly requested: string,
    readonly candidates: readonly string[],
  ) {
    super(message, source);
  }
}

/** Downloaded or local bytes do not have the expected sha256. */
export class ChecksumMismatchError extends ModelError {
  constructor(
    message: string,
    source: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(message, source);
  }
}

/** A download failed (network error or non-2xx HTTP status). */
export class ModelDownloadError extends ModelError {}

/** The requested compute backend cannot be initialised. */
export class BackendUnavailableError extends ModelError {
  constructor(
    message: string,
    readonly backend: string,
  ) {
    super(message);
  }
}

/** The caller passed pixels that do not match the model input. */
export class ModelInputError extends ModelError {}

/** The requested extractor engine (e.g. ONNX Runtime) is not installed or cannot load on this machine. */
export class EngineUnavailableError extends ModelError {
  constructor(
    message: string,
    /** `onnx` or `tfjs`. */
    readonly engine: string,
  ) {
    super(message);
  }
}

/** Head options or training data that cannot train a head (bad dropout, too few classes, ...): bad input. */
export class HeadOptionsError extends ModelError {
  /** Throws one error listing every problem (`invalid <what>: a; b`), when there is any. */
  static throwIfAny(what: string, problems: readonly string[]): void {
    if (problems.length > 0) throw new HeadOptionsError(`invalid ${what}: ${problems.join('; ')}`);
  }
}

/**
 * Training went numerically wrong: a loss or a probability became NaN or infinite (typically a
 * learning rate far too high). The run fails with the epoch and what to change; nothing computed
 * from the broken weights is kept as a result.
 */
export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
  constructor(
    message: string,
    /** The epoch whose metrics were not finite; null when found in the final predictions. */
    readonly epoch: number | null,
  ) {
    super(message);
  }
}
