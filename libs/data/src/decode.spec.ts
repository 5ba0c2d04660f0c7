import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { DatasetError } from './errors';
import { decodeToRgb, imageBatches, scalePixels } from './decode';

let dir: string;
const size = { width: 8, height: 6, resize: 'bilinear' as const, fit: 'fill' as const };

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'decode-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

const solid = (width: number, height: number, channels: 1 | 3 | 4, value: number[]): Sharp => {
  const data = Buffer.alloc(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = value[i % channels];
  return sharp(data, { raw: { width, height, channels } });
};

describe('decodeToRgb', () => {
  it('resizes to the input size as RGB', async () => {
    const file = path.join(dir, 'red.png');
    await solid(40, 30, 3, [250, 10, 20]).png().toFile(file);
    const rgb = await decodeToRgb(file, size);
    expect(rgb.length).toBe(8 * 6 * 3);
    expect([rgb[0], rgb[1], rgb[2]]).toEqual([250, 10, 20]);
  });

  it('drops alpha and expands grayscale to three channels', async () => {
    const rgba = path.join(dir, 'alpha.png');
    await solid(10, 10, 4, [0, 128, 255, 100]).png().toFile(rgba);
    const colour = Array.from((await decodeToRgb(rgba, size)).slice(0, 3));
    // Resampling premultiplies alpha, so allow one level of rounding.
    [0, 128, 255].forEach((expected, i) => expect(Math.abs(colour[i] - expected)).toBeLessThanOrEqual(1));
    const gray = path.join(dir, 'gray.png');
    await solid(10, 10, 1, [77]).toColourspace('b-w').png().toFile(gray);
    const out = await decodeToRgb(gray, size);
    expect(out.length).toBe(8 * 6 * 3);
    expect(Array.from(out.slice(0, 3))).toEqual([77, 77, 77]);
  });

  it('applies EXIF orientation', async () => {
    // 20x10 landscape stored with orientation 6 (rotate 90 clockwise) displays as 10x20 portrait:
    // with `contain`, a portrait image leaves padding at the left/right of a square target.
    const file = path.join(dir, 'rotated.jpg');
    await solid(20, 10, 3, [255, 255, 255]).jpeg().withMetadata({ orientation: 6 }).toFile(file);
    const rgb = await decodeToRgb(file, { width: 10, height: 10, resize: 'nearest', fit: 'contain' });
    const pixel = (x: number, y: number): number => rgb[(y * 10 + x) * 3];
    expect(pixel(5, 0)).toBeGreaterThan(200); // image content at the top centre
    expect(pixel(0, 5)).toBeLessThan(50); // black padding at the left
  });

  it('names the file that cannot be decoded', async () => {
    const file = path.join(dir, 'broken.jpg');
    await fs.writeFile(file, Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01]));
    await expect(decodeToRgb(file, size)).rejects.toThrow(DatasetError);
    await expect(decodeToRgb(file, size)).rejects.toThrow(/broken\.jpg/);
  });
});

describe('scalePixels', () => {
  it('maps 0..255 to the configured range', () => {
    const out = new Float32Array(3);
    scalePixels(Uint8Array.from([0, 127.5 as number, 255]), 'minus_one_to_one', out);
    expect(out[0]).toBeCloseTo(-1, 6);
    expect(out[2]).toBeCloseTo(1, 6);
    scalePixels(Uint8Array.from([0, 51, 255]), 'zero_to_one', out);
    expect(Array.from(out)).toEqual([0, 0.2, 1].map(Math.fround));
  });
});

describe('imageBatches', () => {
  it('yields every image once, in order, in batches of the requested size', async () => {
    const items = [];
    for (let i = 0; i < 5; i++) {
      const file = path.join(dir, `b${i}.png`);
      await solid(4, 4, 3, [i * 40, 0, 0]).png().toFile(file);
      items.push({ absPath: file, id: i });
    }
    const seen: number[][] = [];
    for await (const batch of imageBatches(items, { ...size, scaling: 'raw' }, 2)) {
      expect(batch.pixels.length).toBe(batch.items.length * 8 * 6 * 3);
      seen.push(batch.items.map((it) => it.id));
      expect(batch.pixels[0]).toBe(batch.items[0].id * 40);
    }
    expect(seen).toEqual([[0, 1], [2, 3], [4]]);
  });

  it.each([0, 1, 3])('never holds more than prefetch + 1 = %p + 1 batches, even for a slow consumer', async (prefetch) => {
    const items = [];
    for (let i = 0; i < 12; i++) {
      const file = path.join(dir, `q${i}.png`);
      await solid(4, 4, 3, [i * 20, 0, 0]).png().toFile(file);
      items.push({ absPath: file, id: i });
    }
    const sizes: number[] = [];
    let held = 0;
    const onQueueSize = (n: number): void => {
      held = n;
      sizes.push(n);
    };
    // Lets the event loop turn (file reads, libuv decodes completing) until the queue stops changing.
    const settle = async (): Promise<void> => {
      let last = -1;
      let stable = 0;
      while (stable < 20) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        await fs.stat(dir); // a round trip through the libuv threadpool, where sharp decodes
        stable = sizes.length === last ? stable + 1 : 0;
        last = sizes.length;
      }
    };
    const seen: number[] = [];
    const heldWhileConsuming: number[] = [];
    for await (const batch of imageBatches(items, { ...size, scaling: 'raw' }, 2, { prefetch, onQueueSize })) {
      // A slow consumer: the decoders get all the time they want before the batch is "processed".
      await settle();
      heldWhileConsuming.push(held);
      seen.push(...batch.items.map((it) => it.id));
      expect(batch.pixels[0]).toBe(batch.items[0].id * 20);
    }
    expect(seen).toEqual(items.map((it) => it.id));
    expect(Math.max(...sizes)).toBe(prefetch + 1);
    // The queue fills up to its bound while the consumer works, and no further: 6 batches in all.
    expect(heldWhileConsuming).toEqual([0, 1, 2, 3, 4, 5].map((i) => Math.min(prefetch + 1, 6 - (i + 1))));
  });

  it('rejects a negative prefetch', async () => {
    await expect(imageBatches([], { ...size, scaling: 'raw' }, 2, -1).next()).rejects.toThrow(RangeError);
  });
});

describe('imageBatches with badImages: collect', () => {
  it('leaves undecodable images out of items and pixels, in order, and lists them with their reason', async () => {
    const items = [];
    for (let i = 0; i < 5; i++) {
      const file = path.join(dir, `c${i}.png`);
      if (i === 1 || i === 2) await fs.writeFile(file, i === 1 ? 'not an image' : Buffer.alloc(0));
      else await solid(4, 4, 3, [i * 40, 0, 0]).png().toFile(file);
      items.push({ absPath: file, id: i });
    }
    const good: number[] = [];
    const bad: [number, string][] = [];
    for await (const batch of imageBatches(items, { ...size, scaling: 'raw' }, 4, { badImages: 'collect' })) {
      expect(batch.pixels.length).toBe(batch.items.length * 8 * 6 * 3);
      batch.items.forEach((item, k) => expect(batch.pixels[k * 8 * 6 * 3]).toBe(item.id * 40));
      good.push(...batch.items.map((it) => it.id));
      bad.push(...batch.bad.map((b): [number, string] => [b.item.id, b.reason]));
    }
    expect(good).toEqual([0, 3, 4]);
    expect(bad).toEqual([
      [1, expect.stringMatching(/not an image/)],
      [2, 'empty file (0 bytes)'],
    ]);
    // The default still rejects the batch, naming a bad file (whichever decode fails first).
    await expect(imageBatches(items, { ...size, scaling: 'raw' }, 4).next()).rejects.toThrow(/c[12]\.png/);
  });

  it('scales through a table with exactly the values of the formulas', () => {
    const all = Uint8Array.from({ length: 256 }, (_, p) => p);
    const out = new Float32Array(256);
    scalePixels(all, 'minus_one_to_one', out);
    expect(Array.from(out)).toEqual(Array.from(all, (p) => Math.fround(p / 127.5 - 1)));
    scalePixels(all, 'zero_to_one', out);
    expect(Array.from(out)).toEqual(Array.from(all, (p) => Math.fround(p / 255)));
  });
});
