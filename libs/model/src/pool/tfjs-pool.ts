/**
 * The tfjs WebAssembly engine on several cores: tfjs does not run multi-threaded WebAssembly in
 * Node, so a pool of worker threads each holds its own wasm backend and copy of the model, and
 * every batch is split into one contiguous slice per worker. Images are independent through the
 * network, so the features are bit-identical to the single-threaded path.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ModelError } from '../errors';
import type { ExtractorDescription, FeatureExtractor } from '../extractor';
import { checkExtractInput } from '../extract-input';
import type { PoolWorkerData, SerializedError, WorkerMessage } from './protocol';

/** A pool worker failed to start, crashed, or failed a batch. */
export class WorkerPoolError extends ModelError {
  constructor(
    message: string,
    source: string,
    /** Name of the error raised inside the worker (e.g. `ModelInputError`), when there was one. */
    readonly workerErrorName?: string,
  ) {
    super(message, source);
  }
}

export interface WorkerPoolOptions {
  /** Local model file (.tflite or model.json). */
  file: string;
  /** Description of the same model loaded on the main thread (wasm backend): source, resolved feature layer, sha256. */
  description: ExtractorDescription;
  /** Number of worker threads, >= 1. */
  workers: number;
}

/** A FeatureExtractor backed by worker threads; `close()` resolves once every worker has exited. */
export interface WorkerPoolExtractor extends FeatureExtractor {
  /** Workers not yet exited. */
  liveWorkers(): number;
  /** Terminates the workers (like dispose) and waits for them to exit. */
  close(): Promise<void>;
}

const BOOTSTRAP = path.join(__dirname, 'bootstrap.js');

interface Pending {
  resolve(features: Float32Array): void;
  reject(err: Error): void;
}

class PoolWorker {
  readonly ready: Promise<ExtractorDescription>;
  readonly exited: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private alive = true;
  private hasExited = false;

  constructor(
    private readonly worker: Worker,
    private readonly source: string,
  ) {
    let settleReady: { resolve(d: ExtractorDescription): void; reject(e: Error): void } | undefined;
    this.ready = new Promise((resolve, reject) => (settleReady = { resolve, reject }));
    this.ready.catch(() => undefined);
    this.exited = new Promise((resolve) =>
      worker.once('exit', () => {
        this.hasExited = true;
        resolve();
      }),
    );
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') settleReady?.resolve(m.description);
      else if (m.type === 'init-error') settleReady?.reject(this.error('could not load the model', m.error));
      else {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (this.pending.size === 0) worker.unref();
        if (m.type === 'result') p.resolve(m.features);
        else p.reject(this.error('failed a batch', m.error));
      }
    });
    const fail = (err: Error): void => {
      this.alive = false;
      settleReady?.reject(err);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (err: Error) => fail(new WorkerPoolError(`${source}: a tfjs pool worker crashed: ${err.message}`, source, err.name)));
    worker.on('exit', (code) => fail(new WorkerPoolError(`${source}: a tfjs pool worker exited (code ${code})`, source)));
  }

  private error(what: string, e: SerializedError): WorkerPoolError {
    return new WorkerPoolError(`${this.source}: a tfjs pool worker ${what}: ${e.name}: ${e.message}`, this.source, e.name);
  }

  /** False once the thread has exited (after terminate(), a crash or process.exit in the worker). */
  get running(): boolean {
    return !this.hasExited;
  }

  /** Sends `pixels` (its buffer is transferred, so pass a copy the caller does not keep). */
  run(pixels: Float32Array, count: number): Promise<Float32Array> {
    if (!this.alive) return Promise.reject(new WorkerPoolError(`${this.source}: the tfjs pool worker is no longer running`, this.source));
    const id = this.nextId++;
    return new Promise<Float32Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Keep the process alive only while a batch is in flight: an idle, undisposed pool must not hang it.
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ id, pixels, count }, [pixels.buffer as ArrayBuffer]);
    });
  }

  terminate(): void {
    this.alive = false;
    void this.worker.terminate();
  }
}

/**
 * Starts `workers` threads that each load `file` on the tfjs wasm backend, and waits until all are
 * ready. The description is the main thread's with `threads` set to the number of workers.
 * @throws WorkerPoolError when a worker cannot start or load the model.
 */
export async function createWorkerPoolExtractor(options: WorkerPoolOptions): Promise<WorkerPoolExtractor> {
  const { description: base } = options;
  const source = base.source;
  if (!Number.isInteger(options.workers) || options.workers < 1) {
    throw new WorkerPoolError(`workers must be a positive integer, got ${options.workers}`, source);
  }
  const workerData: PoolWorkerData = { file: options.file, featureLayer: base.featureLayer };
  const workers: PoolWorker[] = [];
  for (let i = 0; i < options.workers; i++) {
    // execArgv: [] so the worker does not inherit the parent's loader flags (tsx, jest); bootstrap.js registers its own.
    const worker = new Worker(BOOTSTRAP, { workerData, execArgv: [], stdout: false, stderr: false });
    worker.unref();
    workers.push(new PoolWorker(worker, source));
  }
  try {
    const descriptions = await Promise.all(workers.map((w) => w.ready));
    for (const d of descriptions) {
      if (d.sha256 !== base.sha256 || d.featureLayer !== base.featureLayer || d.featureDim !== base.featureDim || d.backend !== 'wasm') {
        throw new WorkerPoolError(
          `${source}: a tfjs pool worker loaded a different model (${d.sha256.slice(0, 12)} ${d.featureLayer} x${d.featureDim} on ${d.backend})`,
          source,
        );
      }
    }
  } catch (err) {
    workers.forEach((w) => w.terminate());
    await Promise.all(workers.map((w) => w.exited));
    throw err;
  }

  const description: ExtractorDescription = { ...base, threads: options.workers };
  const [h, w, c] = description.inputShape;
  const perImage = h * w * c;
  const dim = description.featureDim;
  let disposed = false;
  const dispose = (): void => {
    if (disposed) return;
    disposed = true;
    workers.forEach((wk) => wk.terminate());
  };
  return {
    description,
    async extract(pixels: Float32Array, count: number): Promise<Float32Array> {
      checkExtractInput(description, pixels, count, disposed);
      if (count === 0) return new Float32Array(0);
      // Contiguous slices, as even as possible: the first `count % n` workers take one image more.
      const n = Math.min(workers.length, count);
      const base = Math.floor(count / n);
      const extra = count % n;
      const out = new Float32Array(count * dim);
      let start = 0;
      const jobs: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        const size = base + (i < extra ? 1 : 0);
        const first = start;
        // slice() copies: the copy's buffer is transferred, the caller keeps its own.
        const chunk = pixels.slice(first * perImage, (first + size) * perImage);
        jobs.push(
          workers[i].run(chunk, size).then((features) => {
            if (features.length !== size * dim) {
              throw new WorkerPoolError(`${source}: a tfjs pool worker returned ${features.length} values for ${size} images, expected ${size * dim}`, source);
            }
            out.set(features, first * dim);
          }),
        );
        start += size;
      }
      await Promise.all(jobs);
      return out;
    },
    dispose,
    liveWorkers: () => workers.filter((wk) => wk.running).length,
    async close(): Promise<void> {
      dispose();
      await Promise.all(workers.map((wk) => wk.exited));
    },
  };
}
