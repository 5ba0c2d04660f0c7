/**
 * A FeatureExtractor over a tfjs forward function: checks the pixel buffer, wraps it in a
 * tensor, runs the forward function and copies the features out, freeing every tensor it made.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelError } from './errors';
import { checkExtractInput } from './extract-input';
import type { ExtractorDescription, FeatureExtractor } from './extractor';

export interface ForwardSpec {
  description: ExtractorDescription;
  /** Returns [n, ...] features for an [n, h, w, c] batch; runs inside tf.tidy. */
  forward(x: tf.Tensor4D): tf.Tensor;
  /** Frees the model's weights. */
  release(): void;
}

export function makeExtractor(spec: ForwardSpec): FeatureExtractor {
  let disposed = false;
  const { description } = spec;
  const [h, w, c] = description.inputShape;
  return {
    description,
    async extract(pixels: Float32Array, count: number): Promise<Float32Array> {
      checkExtractInput(description, pixels, count, disposed);
      if (count === 0) return new Float32Array(0);
      const features = tf.tidy(() => {
        const x = tf.tensor4d(pixels, [count, h, w, c], 'float32');
        return tf.reshape(spec.forward(x), [count, -1]);
      });
      try {
        const data = await features.data();
        if (data.length !== count * description.featureDim) {
          throw new ModelError(
            `${description.source}: feature layer ${description.featureLayer} gave ${data.length / count} values per image, expected ${description.featureDim}`,
            description.source,
          );
        }
        // data() may return a view the backend reuses; hand the caller its own copy.
        return data instanceof Float32Array ? data.slice() : Float32Array.from(data);
      } finally {
        features.dispose();
      }
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      spec.release();
    },
  };
}
