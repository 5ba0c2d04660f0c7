import { reproduceRun } from '@mlbench/experiment';
import { EXIT, reportError, type CliIo } from '../io';

/** `runner reproduce <runId>` (id or unique prefix): 0 when the fresh run matches the record, 1 with the diff otherwise. */
export async function reproduceCommand(args: { runId: string; db: string; cacheDir: string; tolerance: number }, io: CliIo): Promise<number> {
  try {
    io.out(`reproducing run ${args.runId} from its recorded config…`);
    const { recordedRunId, freshRunId, diff } = await reproduceRun(args.runId, { dbPath: args.db, cacheDir: args.cacheDir, tolerance: args.tolerance });
    for (const warning of diff.warnings) io.err(`warning: ${warning}`);
    if (diff.identical) {
      io.out(`identical: run ${freshRunId} reproduces ${recordedRunId} (split, metrics and per-image predictions within ${args.tolerance})`);
      return EXIT.ok;
    }
    io.out(`DIFFERENT: run ${freshRunId} does not reproduce ${recordedRunId}:`);
    for (const difference of diff.differences) io.out(`  - ${difference}`);
    return EXIT.failed;
  } catch (error) {
    return reportError(error, io);
  }
}
