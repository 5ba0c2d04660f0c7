import { DatasetError } from '@mlbench/data';
import { AuditError, CacheWriteError, CandidateRunError, ConfigError, InterruptedError } from '@mlbench/experiment';
import { MetricsInputError } from '@mlbench/metrics';
import { terminalSafe } from '@mlbench/common';
import { ModelError, TrainingDivergedError } from '@mlbench/model';
import { isBadInputStoreError, RunNotFoundError, TrackingStoreError } from '@mlbench/tracking';

/** Exit codes: 0 ok, 1 the run failed, 2 bad input (config, data, model), 130 interrupted. */
export const EXIT = { ok: 0, failed: 1, badInput: 2, interrupted: 130 } as const;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Progress bars only on a terminal; elsewhere a line every 10%. */
  isTty: boolean;
}

/**
 * The output layer every command prints through: control characters in any line (run and class
 * names, paths, messages, all possibly from a shared database or an imported run) are shown as
 * escapes, never sent to the terminal raw. runCli wraps whatever io it is given.
 */
export function terminalSafeIo(io: CliIo): CliIo {
  return { ...io, out: (line) => io.out(terminalSafe(line)), err: (line) => io.err(terminalSafe(line)) };
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTty: Boolean(process.stderr.isTTY) || process.env.FORCE_PROGRESS === '1',
};

const DISK_ERRORS: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM']);

/** Maps an error to a message and an exit code; the one place that decides how failures read. */
export function reportError(error: unknown, io: CliIo): number {
  if (error instanceof InterruptedError) {
    io.err(`interrupted: ${error.message}; the run is recorded as interrupted and cached features are kept`);
    return EXIT.interrupted;
  }
  // Bad input: config, data, model or head options, an audit the data cannot support, metrics of nothing.
  if (error instanceof ConfigError || error instanceof DatasetError || error instanceof ModelError || error instanceof AuditError || error instanceof MetricsInputError) {
    io.err(`error: ${error.message}`);
    return EXIT.badInput;
  }
  // Bad input to the store: a wrong run id or export file, a database that is not a tracking store.
  if (isBadInputStoreError(error)) {
    const hint = error instanceof RunNotFoundError && error.store ? `; list runs with: npx nx run runner -- runs list --db ${error.store}` : '';
    io.err(`error: ${(error as Error).message}${hint}`);
    return EXIT.badInput;
  }
  if (error instanceof CandidateRunError) {
    io.err(`gate failed: ${error.message}`);
    return EXIT.failed;
  }
  // The run was recorded and failed on its own numbers: say so without a stack trace.
  if (error instanceof TrainingDivergedError) {
    io.err(`run failed: ${error.message}`);
    return EXIT.failed;
  }
  if (error instanceof CacheWriteError) {
    io.err(`run failed: ${error.message}`);
    return EXIT.failed;
  }
  if (error instanceof TrackingStoreError) {
    const full = error.code === 'SQLITE_FULL' ? '; free disk space (what was recorded before is intact)' : '';
    io.err(`tracking store error: ${error.message}${full}`);
    return EXIT.failed;
  }
  // A full disk or read-only folder anywhere else (model cache, export file): a message, not a stack.
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (error instanceof Error && typeof code === 'string' && DISK_ERRORS.has(code)) {
    io.err(`run failed: ${error.message}; free disk space or point --db/--cache-dir at a writable folder`);
    return EXIT.failed;
  }
  io.err(`run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return EXIT.failed;
}
