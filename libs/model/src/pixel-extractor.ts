/**
 * The identity "extractor": a feature vector is the preprocessed image itself, flattened (NHWC).
 * It lets the floor arm (softmax on raw pixels) and the CNN trained from scratch run through the
 * same pipeline and feature cache as the frozen networks.
 */
import { createHash } from 'node:crypto';
import { ModelError, ModelInputError } from './errors';
import type { ExtractorDescription, FeatureExtractor } from './extractor';

/** Stable identity of the pixel extractor: bump the version if what it returns ever changes. */
export const PIXEL_EXTRACTOR_ID = 'mlbench-pixels-v1';
export const PIXEL_EXTRACTOR_SOURCE = 'none';

/**
 * An extractor that returns its input: `height * width * channels` values per image, as scaled by
 * preprocessing. Its description (sha256 of the id, engine `pixels`, backend `none`) does not
 * depend on the tfjs backend, so cached pixels are shared by every backend.
 */
export function createPixelExtractor(inputShape: readonly [number, number, number]): FeatureExtractor {
  const [h, w, c] = inputShape;
  if (![h, w, c].every((v) => Number.isInteger(v) && v > 0)) {
    throw new ModelInputError(`pixel extractor: input shape must be three positive integers, got [${inputShape.join(', ')}]`, PIXEL_EXTRACTOR_SOURCE);
  }
  const description: ExtractorDescription = {
    source: PIXEL_EXTRACTOR_SOURCE,
    format: 'pixels',
    sha256: createHash('sha256').update(PIXEL_EXTRACTOR_ID).digest('hex'),
    featureLayer: 'pixels',
    featureDim: h * w * c,
    inputShape: [h, w, c],
    engine: 'pixels',
    backend: 'none',
    engineVersion: '1',
  };
  let disposed = false;
  return {
    description,
    async extract(pixels: Float32Array, count: number): Promise<Float32Array> {
      if (disposed) throw new ModelError('pixel extractor: extract() called after dispose()', PIXEL_EXTRACTOR_SOURCE);
      if (!Number.isInteger(count) || count < 0) throw new ModelInputError(`count must be a non-negative integer, got ${count}`, PIXEL_EXTRACTOR_SOURCE);
      if (pixels.length !== count * description.featureDim) {
        throw new ModelInputError(
          `pixel extractor expects ${count} x ${h}x${w}x${c} = ${count * description.featureDim} float values, got ${pixels.length}. ` +
            `Resize images to ${w}x${h} with ${c} channels (preprocess.size) before extracting.`,
          PIXEL_EXTRACTOR_SOURCE,
        );
      }
      return pixels.slice();
    },
    dispose(): void {
      disposed = true;
    },
  };
}
