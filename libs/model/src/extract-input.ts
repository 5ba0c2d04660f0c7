import { ModelError, ModelInputError } from './errors';
import type { ExtractorDescription } from './extractor';

/**
 * The checks every engine's `extract` makes before running: not disposed, a pixel buffer of the
 * right size. Free of tfjs, so the ONNX engine can use it without loading tfjs.
 */
export function checkExtractInput(description: ExtractorDescription, pixels: Float32Array, count: number, disposed: boolean): void {
  const [h, w, c] = description.inputShape;
  if (disposed) throw new ModelError(`${description.source}: extract() called after dispose()`, description.source);
  if (!Number.isInteger(count) || count < 0) {
    throw new ModelInputError(`count must be a non-negative integer, got ${count}`, description.source);
  }
  if (pixels.length !== count * h * w * c) {
    throw new ModelInputError(
      `${description.source} expects ${count} x ${h}x${w}x${c} = ${count * h * w * c} float values, got ${pixels.length}. ` +
        `Resize images to ${w}x${h} with ${c} channels before extracting.`,
      description.source,
    );
  }
}
