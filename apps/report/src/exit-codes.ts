/**
 * The report CLI's exit codes and the one place that maps an error to its message and code, as
 * the runner's io.ts does: 0 ok, 1 failure, 2 bad input (a report argument, or a store error that
 * is bad input: a wrong run id or prefix, a database that is not a tracking store; mapped by the
 * tracking store's own test, as in the runner).
 */
import { isBadInputStoreError, RunNotFoundError } from '@mlbench/tracking';
import { ReportError } from './errors';

export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

const HOW_TO_FIND_IDS =
  'run ids are listed in the report index (results/report/index.html) and by `npx nx run runner -- runs list` (a unique prefix of at least 4 characters is enough)';

/** Prints the error's one-line message through `err` and returns the exit code. */
export function reportFailure(error: unknown, err: (text: string) => void): number {
  const badInput = error instanceof ReportError || isBadInputStoreError(error);
  err(`report: ${error instanceof Error ? error.message : String(error)}${error instanceof RunNotFoundError ? `; ${HOW_TO_FIND_IDS}` : ''}\n`);
  return badInput ? EXIT.badInput : EXIT.failed;
}
