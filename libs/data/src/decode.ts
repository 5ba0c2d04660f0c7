import sharp from 'sharp';
import { promises as fs } from 'node:fs';
import { BadImageError } from './errors';
import type { BadImage, ImageRecord } from './scan';

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

/** SCALE of every byte value, as float32: a table lookup per pixel gives the same values, faster. */
const SCALE_TABLES = Object.fromEntries(
  Object.entries(SCALE).map(([name, scale]) => [name, Float32Array.from({ length: 256 }, (_, p) => scale(p))]),
) as Record<PixelScaling, Float32Array>;

/**
 * Largest image decoded, in pixels (width x height): sharp's own default, 0x3FFF², about 268
 * megapixels (a 16384 x 16384 photo). Larger files are reported as bad images instead of
 * exhausting memory: a decoded 268 MP RGB image already takes 800 MB.
 */
export const MAX_INPUT_PIXELS = 0x3fff * 0x3fff;

export interface DecodeLimits {
  /** Default MAX_INPUT_PIXELS. */
  maxInputPixels?: number;
}

/** libvips repeats itself over several lines with prefixes; one line of distinct messages. */
function tidy(message: string): string {
  const lines = message
    .split('\n')
    .map((l) => l.replace(/^Input file has corrupt header: /, '').replace(/^Vips\w+: /, '').trim())
    .filter((l) => l.length > 0);
  return [...new Set(lines)].join('; ');
}

/** sharp's error text, in words a user can act on. */
export function describeDecodeFailure(rawMessage: string, sizeBytes: number | null, maxInputPixels = MAX_INPUT_PIXELS): string {
  const message = tidy(rawMessage);
  if (sizeBytes === 0) return 'empty file (0 bytes)';
  if (/unsupported image format/i.test(message)) return 'not an image, or a format that cannot be decoded (unsupported image format)';
  if (/exceeds pixel limit/i.test(message)) return `image too large (more than ${maxInputPixels} pixels; decoding it would exhaust memory)`;
  if (/premature end|truncated|unexpected end/i.test(message)) return `truncated file (${message})`;
  if (/ENOENT|no such file/i.test(message)) return 'the file disappeared during the run';
  return `corrupt or unreadable image (${message})`;
}

async function sizeOf(file: string): Promise<number | null> {
  return fs.stat(file).then(
    (s) => s.size,
    () => null,
  );
}

/**
 * Decodes one image file to `height x width x 3` RGB uint8: EXIF orientation applied, alpha
 * dropped (as Keras/PIL `convert('RGB')` does), grayscale, CMYK and 16-bit converted to 8-bit sRGB.
 * Throws BadImageError naming the file and the reason.
 */
export async function decodeToRgb(
  file: string,
  options: Pick<PreprocessOptions, 'width' | 'height' | 'resize' | 'fit'> & DecodeLimits,
): Promise<Uint8Array> {
  const maxInputPixels = options.maxInputPixels ?? MAX_INPUT_PIXELS;
  try {
    const { data, info } = await sharp(file, { failOn: 'error', limitInputPixels: maxInputPixels })
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
    const message = error instanceof Error ? error.message : String(error);
    // libvips keeps its error text per thread; under concurrent decodes it can come back empty or
    // as "Unknown error". Then look at the bytes: a JPEG without its end marker was cut off.
    const clear = /\w/.test(message) && !/unknown error/i.test(message);
    const detail = clear ? message : ((await jpegTruncation(file)) ?? message);
    throw new BadImageError(file, describeDecodeFailure(detail, await sizeOf(file), maxInputPixels));
  }
}

/** 'premature end of JPEG image' if `file` is a JPEG (SOI marker) without the EOI marker at its end. */
async function jpegTruncation(file: string): Promise<string | null> {
  try {
    const bytes = await fs.readFile(file);
    const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8;
    if (!isJpeg) return null;
    const tail = bytes.subarray(Math.max(0, bytes.length - 64));
    return tail.includes(Buffer.from([0xff, 0xd9])) ? null : 'premature end of JPEG image (no end-of-image marker)';
  } catch {
    return null;
  }
}

export interface CheckImagesOptions extends DecodeLimits {
  /** Images decoded at once. Default 4. */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /** Checked between images; the check stops early when it returns true. */
  aborted?: () => boolean;
}

/**
 * Fully decodes every image (to a small thumbnail: JPEG shrink-on-load keeps this cheap, and a
 * truncated scan is still detected), so unusable files are found before anything is recorded.
 */
export async function checkImages(
  images: readonly ImageRecord[],
  options: CheckImagesOptions = {},
): Promise<{ good: ImageRecord[]; bad: BadImage[] }> {
  const verdicts = new Array<string | null>(images.length).fill(null);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < images.length && !options.aborted?.()) {
      const i = next++;
      try {
        await decodeToRgb(images[i].absPath, { width: 16, height: 16, resize: 'nearest', fit: 'fill', maxInputPixels: options.maxInputPixels });
      } catch (error) {
        if (!(error instanceof BadImageError)) throw error;
        verdicts[i] = error.reason;
      }
      options.onProgress?.(++done, images.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, images.length) }, worker));
  const good: ImageRecord[] = [];
  const bad: BadImage[] = [];
  images.forEach((image, i) => {
    const reason = verdicts[i];
    if (reason === null) good.push(image);
    else bad.push({ relPath: image.relPath, absPath: image.absPath, label: image.label, sha256: image.sha256, reason });
  });
  return { good, bad };
}

/** Writes scaled float pixels of one RGB image into `target` at `offset`. */
export function scalePixels(rgb: Uint8Array, scaling: PixelScaling, target: Float32Array, offset = 0): void {
  const table = SCALE_TABLES[scaling];
  for (let i = 0; i < rgb.length; i++) target[offset + i] = table[rgb[i]];
}

/** An item whose image could not be decoded, and why in words (see `BatchQueueOptions.badImages`). */
export interface BadItem<T> {
  item: T;
  reason: string;
}

export interface ImageBatch<T> {
  /** The items decoded, in order. */
  items: T[];
  /** NHWC float32, `items.length * height * width * 3` values. */
  pixels: Float32Array;
  /** Items of this batch that could not be decoded (only with `badImages: 'collect'`, else always empty). */
  bad: BadItem<T>[];
}

/** Batches decoded ahead of the one being consumed, by default (see `imageBatches`). */
export const DEFAULT_PREFETCH = 1;

export interface BatchQueueOptions {
  /**
   * Batches decoded ahead of the one the consumer holds: the queue's bound. At most `prefetch + 1`
   * batches are decoding or waiting, plus the consumer's. Default DEFAULT_PREFETCH.
   */
  prefetch?: number;
  /** Diagnostics and tests: called whenever the number of batches held by the queue (decoding or decoded, not yet taken) changes. */
  onQueueSize?: (held: number) => void;
  /**
   * `throw` (default): an image that cannot be decoded rejects its batch with BadImageError.
   * `collect`: it is left out of the batch's `items` and `pixels` and listed in `bad`, so one pass
   * both screens the images and feeds the network.
   */
  badImages?: 'throw' | 'collect';
}

/**
 * Streams preprocessed batches through a bounded queue: sharp decodes and resizes on libuv threads
 * (all images of a batch at once) while the consumer runs inference, and a new batch is started
 * only when the consumer takes one, so at most `prefetch + 1` batches are held by the queue
 * (back-pressure) and memory stays at a few batches whatever the dataset size.
 */
export async function* imageBatches<T extends { absPath: string }>(
  items: readonly T[],
  options: PreprocessOptions,
  batchSize: number,
  queue: number | BatchQueueOptions = {},
): AsyncGenerator<ImageBatch<T>> {
  const { prefetch = DEFAULT_PREFETCH, onQueueSize, badImages = 'throw' } = typeof queue === 'number' ? { prefetch: queue } : queue;
  if (!Number.isInteger(prefetch) || prefetch < 0) throw new RangeError(`prefetch must be a non-negative integer, got ${prefetch}`);
  const pixelsPerImage = options.width * options.height * 3;
  const decodeBatch = async (start: number): Promise<ImageBatch<T>> => {
    const batchItems = items.slice(start, start + batchSize);
    const pixels = new Float32Array(batchItems.length * pixelsPerImage);
    const reasons = new Array<string | null>(batchItems.length).fill(null);
    await Promise.all(
      batchItems.map(async (item, i) => {
        try {
          scalePixels(await decodeToRgb(item.absPath, options), options.scaling, pixels, i * pixelsPerImage);
        } catch (error) {
          if (badImages === 'throw' || !(error instanceof BadImageError)) throw error;
          reasons[i] = error.reason;
        }
      }),
    );
    if (reasons.every((r) => r === null)) return { items: batchItems, pixels, bad: [] };
    // Close the gaps of the bad images, keeping the good ones in order.
    const good: T[] = [];
    const bad: BadItem<T>[] = [];
    batchItems.forEach((item, i) => {
      const reason = reasons[i];
      if (reason !== null) {
        bad.push({ item, reason });
        return;
      }
      if (good.length !== i) pixels.copyWithin(good.length * pixelsPerImage, i * pixelsPerImage, (i + 1) * pixelsPerImage);
      good.push(item);
    });
    return { items: good, pixels: pixels.subarray(0, good.length * pixelsPerImage), bad };
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
      onQueueSize?.(pending.length);
    }
  };
  fill();
  while (pending.length > 0) {
    const batch = await (pending[0] as Promise<ImageBatch<T>>);
    pending.shift();
    onQueueSize?.(pending.length);
    fill();
    yield batch;
  }
}
