import { errnoWords } from '@mlbench/common';
/** The config is wrong: the message names the file and field and says what was expected. Exit code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    /** The config file. */
    readonly file: string,
    /** One line per problem, `field.path: what is wrong`. */
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}

/** The run was stopped by the user (SIGINT/SIGTERM). */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
  constructor(
    readonly signal: string,
    /** What was done when it stopped, e.g. `during extraction, 24/60 images extracted and cached`. */
    readonly progress?: string,
  ) {
    super(`interrupted by ${signal}${progress ? ` ${progress}` : ''}`);
  }
}

/** A file under the results/cache folder cannot be written (full disk, read-only, permissions). */
export class CacheWriteError extends Error {
  override name = 'CacheWriteError';
  constructor(
    readonly file: string,
    /** The errno code, e.g. `ENOSPC`. */
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(
      `cannot write the feature cache file ${file}: ${errnoWords(code) ?? 'write failed'} (${code}); ` +
        'free disk space or pass --cache-dir <writable folder>. Entries already cached are complete and kept',
      options,
    );
  }
}

/** The label audit cannot run as configured (too few images for its folds, a head it cannot audit): bad input, exit code 2. */
export class AuditError extends Error {
  override name = 'AuditError';
}
