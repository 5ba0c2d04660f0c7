/** Public entry of @mlbench/cluster: sweeps and studies over many machines, on BullMQ and Redis. */
export { DEFAULT_QUEUE_NAME, redactedUrl, redisOptions } from './connection';
export { redisFeatureLock, type FeatureLockOptions } from './feature-lock';
export { extractedKey, pointJobId, settledKey, type PointJobData, type PointJobResult } from './point-job';
export { commonFolder, submitFile, type SubmitEvent, type SubmitOptions, type SubmitResult, type SubmittedSweep } from './submit';
export { runWorker, type PointRef, type PointTiming, type WorkerEvent, type WorkerOptions, type WorkerSummary } from './worker';
