/**
 * A cluster worker process for tests whose main thread blocks, as a long synchronous stretch of
 * feature extraction does: the first of these processes to finish a point's feature pass (an
 * exclusive create of `flag`) blocks its event loop for `blockMs` right there, before the point's
 * run row exists, then carries on. Prints one JSON line per worker event.
 *
 *   node --import tsx stalling-worker.ts '{"queue":"redis://…","queueName":"q","db":"…","cacheDir":"…","stallMs":2000,"flag":"/tmp/x","blockMs":9000}'
 */
import { openSync, closeSync } from 'node:fs';
import { openTrackingStore } from '@mlbench/tracking';
import { runWorker } from '../worker';

interface Args {
  queue: string;
  queueName: string;
  db: string;
  cacheDir: string;
  stallMs: number;
  flag: string;
  blockMs: number;
}

/** Blocks the calling thread (timers, I/O callbacks, BullMQ's lock renewal) for `ms`. */
function blockThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as Args;
  const store = await openTrackingStore(args.db);
  try {
    await runWorker({
      store,
      queueUrl: args.queue,
      queueName: args.queueName,
      cacheDir: args.cacheDir,
      stallMs: args.stallMs,
      untilEmpty: true,
      onEvent: (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
      onPipelineEvent: (event) => {
        if (event.type !== 'dataset') return;
        try {
          closeSync(openSync(args.flag, 'wx'));
        } catch {
          return; // another process blocked already
        }
        process.stdout.write(`${JSON.stringify({ type: 'blocking', ms: args.blockMs })}\n`);
        blockThread(args.blockMs);
      },
    });
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
