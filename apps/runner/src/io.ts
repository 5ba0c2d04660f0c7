import { DatasetError } from '@mlbench/data';
import { ConfigError, InterruptedError } from '@mlbench/experiment';
import { ModelError } from '@mlbench/model';
import { TrackingStoreError } from '@mlbench/tracking';

/** Exit codes: 0 ok, 1 the run failed, 2 bad input (config, data, model), 130 interrupted. */
export const EXIT = { ok: 0, failed: 1, badInput: 2, interrupted: 130 } as const;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Progress bars only on a terminal; elsewhere a line every 10%. */
  isTty: boolean;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTty: Boolean(process.stderr.isTTY) || process.env.FORCE_PROGRESS === '1',
};

/** Maps an error to a message and an exit code; the one place that decides how failures read. */
export function reportError(error: unknown, io: CliIo): number {
  if (error instanceof InterruptedError) {
    io.err(`interrupted: ${error.message}; the run is recorded as interrupted and cached features are kept`);
    return EXIT.interrupted;
  }
  if (error instanceof ConfigError || error instanceof DatasetError || error instanceof ModelError) {
    io.err(`error: ${error.message}`);
    return EXIT.badInput;
  }
  if (error instanceof TrackingStoreError) {
    io.err(`tracking store error: ${error.message}`);
    return EXIT.failed;
  }
  io.err(`run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return EXIT.failed;
}
