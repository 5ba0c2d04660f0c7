/**
 * What `model.extractor` and `model.head` of a config turn into: a frozen network or the pixel
 * extractor (`extractor: none`), and a softmax layer or a CNN trained from scratch (`head.type: cnn`).
 */
import * as path from 'node:path';
import {
  createPixelExtractor,
  loadExtractor,
  trainCnnHead,
  trainSoftmaxHead,
  type BackendPreference,
  type EpochMetrics,
  type FeatureExtractor,
  type FeatureSet,
  type TrainHeadHooks,
} from '@mlbench/model';
import type { ExperimentConfig } from './config-schema';

/** Images per decode (and inference) batch when the config names no extractor batch size. */
export const PIXEL_BATCH_SIZE = 64;

/** The tfjs backend the run asks for (`auto` for the pixel extractor, which runs no network). */
export function backendPreference(config: ExperimentConfig): BackendPreference {
  return config.model.extractor === 'none' ? 'auto' : config.model.extractor.backend;
}

/** Images per extraction batch. */
export function extractionBatchSize(config: ExperimentConfig): number {
  return config.model.extractor === 'none' ? PIXEL_BATCH_SIZE : config.model.extractor.batchSize;
}

/** The frozen network of a resolved config, or the pixel extractor for `extractor: none`. */
export async function openExtractor(resolved: ExperimentConfig, cacheDir: string): Promise<FeatureExtractor> {
  const extractor = resolved.model.extractor;
  if (extractor === 'none') {
    const [height, width] = resolved.preprocess.size;
    return createPixelExtractor([height, width, 3]);
  }
  return loadExtractor({
    source: extractor.source,
    featureLayer: extractor.featureLayer,
    sha256: extractor.sha256,
    downloadCacheDir: path.join(cacheDir, 'models'),
    engine: extractor.engine,
    precision: extractor.precision,
    onnxCacheDir: path.join(cacheDir, 'onnx'),
    workers: extractor.workers,
  });
}

/** A trained classifier over feature rows, whatever its kind. */
export interface TrainedHead {
  predict(features: Float32Array, count: number): Float32Array;
  /** Parameters trained for this run (the softmax layer, or the whole CNN). */
  readonly parameterCount: number;
  dispose(): void;
}

/** Trains the configured head on the train rows, reporting each epoch through `hooks`. */
export async function trainConfiguredHead(
  config: ExperimentConfig,
  inputShape: readonly [number, number, number],
  train: FeatureSet,
  val: FeatureSet | null,
  numClasses: number,
  hooks: TrainHeadHooks,
): Promise<{ head: TrainedHead; history: EpochMetrics[] }> {
  const head = config.model.head;
  const common = {
    numClasses,
    dropout: head.dropout,
    optimizer: config.train.optimizer,
    learningRate: config.train.learningRate,
    epochs: config.train.epochs,
    batchSize: config.train.batchSize,
    seed: config.seed,
  };
  if (head.type === 'cnn') {
    return trainCnnHead(train, val, { ...common, inputShape, blocks: head.blocks, dense: head.dense }, hooks);
  }
  return trainSoftmaxHead(train, val, { ...common, l2: head.l2 }, hooks);
}
