/** One audit fold worker (see fold-workers.ts): trains fold heads on its own tfjs, one at a time. */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { initBackend, trainSoftmaxHead, TrainingDivergedError } from '@mlbench/model';
import type { FoldWorkerData, FoldWorkerReply, FoldWorkerRequest } from './fold-workers';

if (!parentPort) throw new Error('libs/experiment/src/audit-worker.ts runs inside a worker thread (see fold-workers.ts)');
const port: MessagePort = parentPort;
const ready = initBackend((workerData as FoldWorkerData).backend);

let queue: Promise<void> = Promise.resolve();
port.on('message', ({ id, job }: FoldWorkerRequest) => {
  queue = queue.then(async () => {
    let reply: FoldWorkerReply;
    try {
      await ready;
      const { head } = await trainSoftmaxHead(job.train, null, job.options);
      try {
        // A copy with its own buffer: the backend's array may be a view that must not be transferred.
        reply = { id, probabilities: head.predict(job.heldOut, job.heldOutCount).slice() };
      } finally {
        head.dispose();
      }
    } catch (error) {
      reply = { id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
      if (error instanceof TrainingDivergedError) reply.diverged = { message: error.message, epoch: error.epoch };
    }
    port.postMessage(reply, 'probabilities' in reply ? [reply.probabilities.buffer as ArrayBuffer] : []);
  });
});
