/**
 * Worker threads that train the label audit's fold heads beside the calling thread. tfjs runs
 * WebAssembly single-threaded in Node, so the audit's k independent trainings (seconds each) use
 * one core; each worker has its own tfjs on the same backend and trains a fold from the same
 * rows, seed and settings, so its probabilities are bit-identical to the calling thread's (the
 * computation is the same sequence of float32 operations; tested).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { TrainingDivergedError, type FeatureSet, type SoftmaxHeadOptions } from '@mlbench/model';

/** One fold: train a softmax head on `train`, return its probabilities for the held-out rows. */
export interface FoldJob {
  train: FeatureSet;
  heldOut: Float32Array;
  heldOutCount: number;
  options: SoftmaxHeadOptions;
}

/** Runs fold jobs one at a time: `heldOutCount x numClasses` probabilities, row-major. */
export type FoldTrainer = (job: FoldJob) => Promise<Float32Array>;

/** Messages between the pool and a worker (audit-worker.ts). */
export type FoldWorkerRequest = { id: number; job: FoldJob };
export type FoldWorkerReply =
  | { id: number; probabilities: Float32Array }
  // `diverged`: the fold's training diverged (TrainingDivergedError), rebuilt as one on this side.
  | { id: number; error: string; diverged?: { message: string; epoch: number | null } };
export interface FoldWorkerData {
  /** The tfjs backend of the calling thread (`wasm` or `cpu`): the worker must compute the same way. */
  backend: 'wasm' | 'cpu';
}

const BOOTSTRAP = path.join(__dirname, 'audit-worker-bootstrap.js');

/** Worker threads that help the calling thread on `cores`: one fewer than the cores, at most `jobs - 1`. */
export function foldWorkerCount(jobs: number, cores = os.availableParallelism()): number {
  return Math.max(0, Math.min(cores - 1, jobs - 1));
}

export class FoldWorkerPool {
  private constructor(private readonly workers: Worker[]) {}

  /** Starts `count` workers (they load tfjs while the calling thread already trains). */
  static start(count: number, data: FoldWorkerData): FoldWorkerPool {
    return new FoldWorkerPool(Array.from({ length: count }, () => new Worker(BOOTSTRAP, { workerData: data })));
  }

  /** One trainer per worker. */
  trainers(): FoldTrainer[] {
    return this.workers.map((worker) => trainerOf(worker));
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function trainerOf(worker: Worker): FoldTrainer {
  let nextId = 0;
  const pending = new Map<number, { resolve: (p: Float32Array) => void; reject: (e: Error) => void }>();
  const failAll = (error: Error): void => {
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  worker.on('message', (reply: FoldWorkerReply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if ('error' in reply) p.reject(reply.diverged ? new TrainingDivergedError(reply.diverged.message, reply.diverged.epoch) : new Error(`audit fold worker: ${reply.error}`));
    else p.resolve(reply.probabilities);
  });
  worker.on('error', (error) => failAll(error));
  worker.on('exit', (code) => failAll(new Error(`audit fold worker exited (code ${code})`)));
  return (job) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      const request: FoldWorkerRequest = { id, job };
      worker.postMessage(request, [job.train.features.buffer as ArrayBuffer, job.heldOut.buffer as ArrayBuffer]);
    });
}
