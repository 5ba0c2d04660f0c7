/**
 * What can be known to fail before the run row exists, checked then: the model input against
 * `preprocess.size`, whether the pixel batches and the feature matrix fit in what Node can
 * allocate, and whether the head can be built (a CNN with more pooling blocks than the input
 * allows). Each problem is a ConfigError naming the field, so nothing is recorded.
 */
import { constants as bufferConstants } from 'node:buffer';
import { cnnArchitectureProblems, type ExtractorDescription } from '@mlbench/model';
import type { LoadedConfig } from './config';
import { ConfigError } from './errors';
import { extractionBatchSize } from './model-setup';

/**
 * WebAssembly memory is 32-bit addressed: the tfjs wasm backend, where the head trains on the
 * feature matrix (and the tfjs engines extract from the pixel batches), holds at most 4 GiB in
 * all, whatever Node allows for a typed array.
 */
const WASM_MEMORY_BYTES = 2 ** 32;

/**
 * Largest single allocation (bytes) a run may need: what Node allows for a typed array on this
 * machine (4 GiB on Node 20; 2^53 - 1 from Node 22 on), but never more than WebAssembly memory
 * holds, so a batch or feature matrix too large for the backend is refused up front on every
 * Node instead of aborting the WebAssembly module mid-run.
 */
export const MAX_ALLOCATION_BYTES = Math.min(bufferConstants.MAX_LENGTH, WASM_MEMORY_BYTES);

const gib = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

export function checkRunInputs(loaded: LoadedConfig, description: ExtractorDescription, images: number, numClasses: number): void {
  const { config, file } = loaded;
  const [height, width] = config.preprocess.size;
  const [modelHeight, modelWidth, channels] = description.inputShape;
  if (modelHeight !== height || modelWidth !== width) {
    throw new ConfigError(`${file}: preprocess.size: expected [${modelHeight}, ${modelWidth}] (the input of ${description.source}), got [${height}, ${width}]`, file);
  }
  const batch = extractionBatchSize(config);
  const batchBytes = batch * height * width * channels * 4;
  if (batchBytes > MAX_ALLOCATION_BYTES) {
    throw new ConfigError(
      `${file}: preprocess.size: a batch of ${batch} images of ${height}x${width} needs ${gib(batchBytes)} of pixels, more than one ` +
        `allocation may hold (${gib(MAX_ALLOCATION_BYTES)}); use a smaller preprocess.size or model.extractor.batchSize`,
      file,
    );
  }
  const featureBytes = images * description.featureDim * 4;
  if (featureBytes > MAX_ALLOCATION_BYTES) {
    throw new ConfigError(
      `${file}: ${images} images x ${description.featureDim} features need ${gib(featureBytes)}, more than one allocation may hold ` +
        `(${gib(MAX_ALLOCATION_BYTES)})${config.model.extractor === 'none' ? '; use a smaller preprocess.size (the features are the pixels)' : ''}`,
      file,
    );
  }
  const head = config.model.head;
  if (head.type === 'cnn') {
    const problems = cnnArchitectureProblems({ inputShape: description.inputShape, blocks: head.blocks, dense: head.dense, numClasses });
    if (problems.length > 0) throw new ConfigError(`${file}: model.head: ${problems.join('; ')}`, file, problems.map((p) => `model.head: ${p}`));
  }
}
