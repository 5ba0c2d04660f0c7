import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import yargs from 'yargs';
import { openSqliteStore } from '@mlbench/tracking';
import { renderIndexPage, type RunRow } from './index-page';

/** Skeleton report: an index of every run. Run pages and comparisons come next. */
async function main(): Promise<void> {
  const args = await yargs(process.argv.slice(2))
    .option('db', { type: 'string', default: 'results/runs.sqlite' })
    .option('out', { type: 'string', default: 'results/report' })
    .strict()
    .parseAsync();
  const store = await openSqliteStore(args.db);
  try {
    const runs = await store.searchRuns();
    const rows: RunRow[] = [];
    for (const run of runs) {
      const metrics = new Map((await store.getMetrics(run.id)).filter((m) => m.step === null).map((m) => [m.key, m.value]));
      rows.push({
        id: run.id, name: run.name, status: run.status, startTime: run.startTime, durationMs: run.durationMs,
        testAccuracy: metrics.get('test.accuracy') ?? null, testMacroF1: metrics.get('test.macro_f1') ?? null,
      });
    }
    await fs.mkdir(args.out, { recursive: true });
    const file = path.join(args.out, 'index.html');
    await fs.writeFile(file, renderIndexPage(rows, args.db));
    process.stdout.write(`wrote ${file} (${rows.length} runs)\n`);
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`report failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
