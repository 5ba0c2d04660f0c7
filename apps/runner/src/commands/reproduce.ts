import { reproduceRun } from '@mlbench/experiment';
import { EXIT, reportError, type CliIo } from '../io';
import { formatVerification } from './verify';

/** `runner reproduce <runId>` (id or unique prefix): 0 when the fresh run matches the record, 1 with the diff otherwise. */
export async function reproduceCommand(args: { runId: string; db: string; cacheDir: string; tolerance: number }, io: CliIo): Promise<number> {
  try {
    io.out(`reproducing run ${args.runId} from its recorded config…`);
    const { recordedRunId, freshRunId, diff, verification } = await reproduceRun(args.runId, { dbPath: args.db, cacheDir: args.cacheDir, tolerance: args.tolerance });
    for (const warning of diff.warnings) io.err(`warning: ${warning}`);
    // The record's numbers must follow from its own predictions, whatever the fresh run gives.
    for (const line of [...formatVerification(verification.recorded), ...formatVerification(verification.fresh)]) io.out(line);
    const verified = verification.recorded.ok && verification.fresh.ok;
    if (diff.identical && verified) {
      io.out(`identical: run ${freshRunId} reproduces ${recordedRunId} (split, metrics and per-image predictions within ${args.tolerance})`);
      return EXIT.ok;
    }
    if (!verification.recorded.ok) {
      // An edited or damaged record: the fresh run's numbers differ from the logged ones for that reason, not a changed pipeline.
      io.out(`NOT VERIFIED: the record of run ${recordedRunId} was edited or damaged: its logged metrics do not match its own stored predictions (MISMATCH above), so it cannot be reproduced`);
      if (!diff.identical) {
        io.out(`  fresh run ${freshRunId} differs from the record in:`);
        for (const difference of diff.differences) io.out(`  - ${difference}`);
      }
      return EXIT.failed;
    }
    if (diff.identical) {
      io.out(`NOT VERIFIED: run ${freshRunId} reproduces the predictions of ${recordedRunId}, but logged metrics do not match predictions (above)`);
      return EXIT.failed;
    }
    io.out(`DIFFERENT: run ${freshRunId} does not reproduce ${recordedRunId}:`);
    for (const difference of diff.differences) io.out(`  - ${difference}`);
    return EXIT.failed;
  } catch (error) {
    return reportError(error, io);
  }
}
