import { openTrackingStore } from '@mlbench/tracking';
import { buildSeedReference, describeTask, seedResultsOfSweep, writeSeedReference } from '@mlbench/experiment';
import { EXIT, reportError, type CliIo } from '../io';

/**
 * `runner reference <sweepId> --out <file>`: writes a sweep's seed group as a reference file for
 * `gate --reference` (every run verified first; per seed the test predictions and metrics).
 */
export async function referenceCommand(args: { sweepId: string; out: string; description?: string; db: string }, io: CliIo): Promise<number> {
  try {
    const store = await openTrackingStore(args.db);
    try {
      const { results, unfinished } = await seedResultsOfSweep(store, args.sweepId);
      const reference = buildSeedReference(results, { description: args.description });
      await writeSeedReference(args.out, reference);
      const accuracies = reference.seeds.map((s) => `${s.seed}: ${(100 * s.metrics['test.accuracy']).toFixed(2)}%`).join(', ');
      io.out(`reference  ${args.out}: ${reference.name}, ${reference.seeds.length} seeds (${accuracies})`);
      io.out(`task       ${describeTask({ key: '', ...reference.task })}`);
      if (unfinished > 0) io.err(`note: ${unfinished} run(s) of the sweep did not complete and are left out`);
      return EXIT.ok;
    } finally {
      await store.close();
    }
  } catch (error) {
    return reportError(error, io);
  }
}
