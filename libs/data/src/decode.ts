import sharp from 'sharp';
import { DatasetError } from './errors';

/** Resampling kernels offered by the config, mapped to sharp's (libvips) kernels. */
export const RESIZE_METHODS = {
  nearest: 'nearest',
  bilinear: 'linear',
  bicubic: 'cubic',
  lanczos3: 'lanczos3',
} as const;
export type ResizeMethod = keyof typeof RESIZE_METHODS;

/** How the image is brought to the input size: `fill` stretches (Keras/TF default), `cover` crops the centre. */
export type ResizeFit = 'fill' | 'cover' | 'contain';

/** Pixel scaling: `minus_one_to_one` = p/127.5-1 (MobileNet/TF), `zero_to_one` = p/255, `raw` = 0..255. */
export type PixelScaling = 'minus_one_to_one' | 'zero_to_one' | 'raw';

export interface PreprocessOptions {
  width: number;
  height: number;
  resize: ResizeMethod;
  fit: ResizeFit;
  scaling: PixelScaling;
}

const SCALE: Record<PixelScaling, (p: number) => number> = {
  minus_one_to_one: (p) => p / 127.5 - 1,
  zero_to_one: (p) => p / 255,
  raw: (p) => p,
};

/**
 * Decodes one image file to `height x width x 3` RGB uint8: EXIF orientation applied, alpha
 * dropped, grayscale and CMYK converted to sRGB.
 */
export async function decodeToRgb(file: string, options: Pick<PreprocessOptions, 'width' | 'height' | 'resize' | 'fit'>): Promise<Uint8Array> {
  try {
    const { data, info } = await sharp(file, { failOn: 'error' })
      .rotate()
      .resize(options.width, options.height, { fit: options.fit, kernel: RESIZE_METHODS[options.resize] })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== options.width || info.height !== options.height) {
      throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${options.width}x${options.height}x3`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DatasetError(`cannot decode image ${file}: ${reason}; remove or replace the file`, file);
  }
}

/** Writes scaled float pixels of one RGB image into `target` at `offset`. */
export function scalePixels(rgb: Uint8Array, scaling: PixelScaling, target: Float32Array, offset = 0): void {
  const scale = SCALE[scaling];
  for (let i = 0; i < rgb.length; i++) target[offset + i] = scale(rgb[i]);
}

export interface ImageBatch<T> {
  items: T[];
  /** NHWC float32, `items.length * height * width * 3` values. */
  pixels: Float32Array;
}

/**
 * Streams preprocessed batches. Only `prefetch` batches beyond the one being consumed are
 * decoded ahead (sharp decodes on libuv threads while the consumer runs inference), so memory
 * stays bounded by a few batches whatever the dataset size.
 */
export async function* imageBatches<T extends { absPath: string }>(
  items: readonly T[],
  options: PreprocessOptions,
  batchSize: number,
  prefetch = 1,
): AsyncGenerator<ImageBatch<T>> {
  const pixelsPerImage = options.width * options.height * 3;
  const decodeBatch = async (start: number): Promise<ImageBatch<T>> => {
    const batchItems = items.slice(start, start + batchSize);
    const pixels = new Float32Array(batchItems.length * pixelsPerImage);
    await Promise.all(
      batchItems.map(async (item, i) => scalePixels(await decodeToRgb(item.absPath, options), options.scaling, pixels, i * pixelsPerImage)),
    );
    return { items: batchItems, pixels };
  };
  const pending: Promise<ImageBatch<T>>[] = [];
  let nextStart = 0;
  const fill = (): void => {
    while (pending.length <= prefetch && nextStart < items.length) {
      const p = decodeBatch(nextStart);
      // Rejections surface when the batch is awaited; avoid an unhandled-rejection crash before that.
      p.catch(() => undefined);
      pending.push(p);
      nextStart += batchSize;
    }
  };
  fill();
  while (pending.length > 0) {
    const batch = await (pending.shift() as Promise<ImageBatch<T>>);
    fill();
    yield batch;
  }
}
