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

/** Largest single allocation (bytes) Node allows for a typed array on this machine. */
export const MAX_ALLOCATION_BYTES = bufferConstants.MAX_LENGTH;

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
