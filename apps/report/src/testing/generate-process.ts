/**
 * `node --import tsx generate-process.ts <db> <out> [<runA> <runB> ...]`: generates a report in a process of its own
 * (tests run it under a memory cap) and prints the result with the peak resident memory as JSON.
 */
import { openSqliteStore } from '@mlbench/tracking';
import { generateReport } from '../generate';

async function main(): Promise<void> {
  const [db, out, ...compare] = process.argv.slice(2);
  const store = await openSqliteStore(db);
  try {
    const result = await generateReport({ store, outDir: out, compare });
    process.stdout.write(`${JSON.stringify({ ...result, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
