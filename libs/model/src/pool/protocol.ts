/** Messages between the tfjs worker pool (main thread) and its workers. */
import type { ExtractorDescription } from '../extractor';

/** `workerData` of every pool worker: what to load, on the WebAssembly backend. */
export interface PoolWorkerData {
  /** Local model file (a downloaded URL source is already in the download cache). */
  file: string;
  /** Feature layer as resolved by the main thread (never `auto`), so every worker picks the same tensor. */
  featureLayer: string;
}

export interface ExtractRequest {
  id: number;
  /** NHWC float32; its buffer is transferred. */
  pixels: Float32Array;
  count: number;
}

export interface SerializedError {
  name: string;
  message: string;
}

export type WorkerMessage =
  | { type: 'ready'; description: ExtractorDescription }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'result'; id: number; features: Float32Array }
  | { type: 'error'; id: number; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  return err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
}
