/**
 * Child process for the multi-process test: opens the store at argv[2] with two connections and
 * creates/completes argv[4] runs named argv[3] on each. Exits non-zero on any error.
 */

import { openTrackingStore } from '../index';
import { newRun, runRecord } from './fixtures';

async function main(): Promise<void> {
  const [file, tag, count] = process.argv.slice(2);
  const stores = await Promise.all([openTrackingStore(file), openTrackingStore(file)]);
  try {
    await Promise.all(
      stores.map(async (store, si) => {
        for (let i = 0; i < Number(count); i++) {
          const run = await store.createRun(newRun(tag, si * 1000 + i));
          await store.logBatch(run.id, { metrics: [{ key: 'loss', value: 1 / (i + 1), step: 0 }] });
          await store.completeRun(run.id, runRecord(si * 1000 + i, 800));
        }
      }),
    );
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
