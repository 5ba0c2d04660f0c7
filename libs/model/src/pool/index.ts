export { createWorkerPoolExtractor, WorkerPoolError } from './tfjs-pool';
export type { WorkerPoolExtractor, WorkerPoolOptions } from './tfjs-pool';
