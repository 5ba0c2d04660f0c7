import { openTrackingStore } from '@mlbench/tracking';
import { verifyRun, type Verification } from '@mlbench/experiment';
import { EXIT, reportError, type CliIo } from '../io';

/** The lines `verify` (and `reproduce`) print for one run. */
export function formatVerification(v: Verification): string[] {
  const lines: string[] = [];
  const head = `${v.checked.length} final metrics recomputed from the stored predictions`;
  if (v.ok) lines.push(`verified   run ${v.runId}: ${head}, all match the logged values`);
  else {
    lines.push(`MISMATCH   run ${v.runId}: ${v.mismatches.length} of ${head} differ from the logged values${v.predictionProblems.length ? `, and the predictions have problems` : ''}:`);
    for (const p of v.predictionProblems) lines.push(`  - ${p}`);
    for (const m of v.mismatches) lines.push(`  - ${m.key}: logged ${m.recorded}, recomputed ${m.recomputed}`);
  }
  if (v.notDerivable.length > 0) {
    lines.push(`  not derivable from predictions: ${v.notDerivable.length} metric(s) (${v.notDerivable.slice(0, 3).join(', ')}${v.notDerivable.length > 3 ? ', …' : ''}): train predictions are not stored`);
  }
  if (v.notLogged.length > 0) lines.push(`  not logged by the run (recorded by an older version): ${v.notLogged.join(', ')}`);
  return lines;
}

/** `runner verify <runId>`: 0 when every logged metric matches its predictions, 1 on a mismatch. */
export async function verifyCommand(args: { runId: string; db: string }, io: CliIo): Promise<number> {
  try {
    const store = await openTrackingStore(args.db);
    try {
      const verification = await verifyRun(store, args.runId);
      for (const line of formatVerification(verification)) io.out(line);
      return verification.ok ? EXIT.ok : EXIT.failed;
    } finally {
      await store.close();
    }
  } catch (error) {
    return reportError(error, io);
  }
}
