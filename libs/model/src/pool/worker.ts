/**
 * One worker of the tfjs WebAssembly pool: its own tfjs instance on the wasm backend (single
 * threaded in Node) running the same model as the main thread. Started by `bootstrap.js`.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { initBackend } from '../backend';
import type { FeatureExtractor } from '../extractor';
import { loadExtractor } from '../load';
import { serializeError, type ExtractRequest, type PoolWorkerData, type WorkerMessage } from './protocol';

if (!parentPort) throw new Error('libs/model/src/pool/worker.ts runs inside a worker thread (see pool/tfjs-pool.ts)');
const port: MessagePort = parentPort;

const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

async function start(data: PoolWorkerData): Promise<void> {
  let extractor: FeatureExtractor;
  try {
    await initBackend('wasm');
    extractor = await loadExtractor({ source: data.file, featureLayer: data.featureLayer, engine: 'tfjs', workers: 1 });
  } catch (err) {
    post({ type: 'init-error', error: serializeError(err) });
    return;
  }
  // Requests run one at a time, in the order they arrive.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (request: ExtractRequest) => {
    queue = queue.then(async () => {
      try {
        const features = await extractor.extract(request.pixels, request.count);
        post({ type: 'result', id: request.id, features }, [features.buffer as ArrayBuffer]);
      } catch (err) {
        post({ type: 'error', id: request.id, error: serializeError(err) });
      }
    });
  });
  post({ type: 'ready', description: extractor.description });
}

void start(workerData as PoolWorkerData);
