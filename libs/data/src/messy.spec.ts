import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import {
  BadImageError,
  checkImages,
  decodeToRgb,
  fingerprintImages,
  scanDataset,
  withoutBadImages,
  DatasetError,
  type DatasetScan,
} from './index';

// Real-world dataset mess, every file generated here with sharp (never downloaded).

let root: string;
let scan: DatasetScan;
const size = { width: 8, height: 8, resize: 'nearest' as const, fit: 'fill' as const };

const solid = (width: number, height: number, channels: 1 | 3 | 4, value: number[]): Sharp => {
  const data = Buffer.alloc(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = value[i % channels];
  return sharp(data, { raw: { width, height, channels } });
};
const at = (...parts: string[]): string => path.join(root, ...parts);

/** A valid PNG whose header claims 30000 x 30000 pixels (CRC fixed, so only the size is wrong). */
async function hugePng(): Promise<Buffer> {
  const png = Buffer.from(await solid(4, 4, 3, [1, 2, 3]).png().toBuffer());
  png.writeUInt32BE(30000, 16);
  png.writeUInt32BE(30000, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)) >>> 0, 29);
  return png;
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'messy-'));
  await fs.mkdir(at('cats', 'nested', 'deeper'), { recursive: true });
  await fs.mkdir(at('dogs'), { recursive: true });
  await solid(32, 24, 3, [200, 40, 40]).jpeg().toFile(at('cats', 'good.jpg'));
  await solid(32, 24, 3, [190, 50, 40]).jpeg().toFile(at('cats', 'with space ünïcödé 猫.jpg'));
  await solid(20, 20, 3, [180, 30, 60]).png().toFile(at('cats', 'nested', 'deeper', 'nested.png'));
  await solid(20, 20, 4, [0, 128, 255, 200]).png().toFile(at('cats', 'alpha.png'));
  await solid(20, 20, 1, [77]).toColourspace('b-w').jpeg().toFile(at('cats', 'gray.jpg'));
  await solid(20, 20, 3, [200, 40, 40]).toColourspace('cmyk').jpeg().toFile(at('cats', 'cmyk.jpg'));
  await solid(20, 20, 3, [10, 200, 90]).toColourspace('rgb16').png().toFile(at('cats', 'sixteen.png'));
  // 40x20: left half red, right half blue; orientation 6 = displayed rotated 90° clockwise (20x40).
  const halves = Buffer.alloc(40 * 20 * 3);
  for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) halves.set(x < 20 ? [255, 0, 0] : [0, 0, 255], (y * 40 + x) * 3);
  await sharp(halves, { raw: { width: 40, height: 20, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(at('cats', 'rotated.jpg'));
  const jpeg = await solid(64, 64, 3, [1, 2, 3]).jpeg().toBuffer();
  await fs.writeFile(at('cats', 'truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  await fs.writeFile(at('cats', 'empty.jpg'), Buffer.alloc(0));
  await fs.writeFile(at('cats', 'notes-not-an-image.png'), 'this is text with an image extension\n');
  await fs.writeFile(at('cats', 'huge.png'), await hugePng());
  await fs.symlink('good.jpg', at('cats', 'link-to-good.jpg'));
  await fs.symlink('.', at('cats', 'loop')); // folder loop
  await fs.symlink('..', at('cats', 'up')); // back to the root
  await fs.symlink('self.jpg', at('cats', 'self.jpg')); // a link to itself
  await fs.symlink('missing.jpg', at('cats', 'dangling.jpg'));
  await fs.writeFile(at('cats', 'README.txt'), 'not an image, ignored');
  for (let i = 0; i < 3; i++) await solid(16, 16, 3, [20, 40, 200 + i]).jpeg().toFile(at('dogs', `dog ${i}.jpg`));
  await fs.symlink(path.join('..', 'cats'), at('dogs', 'link-to-cats')); // must not relabel cats as dogs
  scan = await scanDataset(root);
});
afterAll(() => fs.rm(root, { recursive: true, force: true }));

describe('a messy dataset', () => {
  it('is scanned without hanging on link loops, following file links, nested folders and any file name', () => {
    expect(scan.classes).toEqual(['cats', 'dogs']);
    const cats = scan.images.filter((i) => i.label === 0).map((i) => i.relPath);
    expect(cats).toEqual([
      'cats/alpha.png', 'cats/cmyk.jpg', 'cats/empty.jpg', 'cats/good.jpg', 'cats/huge.png', 'cats/gray.jpg',
      'cats/link-to-good.jpg', 'cats/nested/deeper/nested.png', 'cats/notes-not-an-image.png', 'cats/rotated.jpg',
      'cats/sixteen.png', 'cats/truncated.jpg', 'cats/with space ünïcödé 猫.jpg',
    ].sort((a, b) => (a < b ? -1 : 1)));
    expect(scan.images.filter((i) => i.label === 1).map((i) => i.relPath)).toEqual(['dogs/dog 0.jpg', 'dogs/dog 1.jpg', 'dogs/dog 2.jpg']);
    expect(scan.unreadable.map((u) => [u.relPath, u.reason])).toEqual([
      ['cats/dangling.jpg', expect.stringMatching(/broken symbolic link/)],
      ['cats/self.jpg', expect.stringMatching(/symbolic link loop/)],
    ]);
    const link = scan.images.find((i) => i.relPath === 'cats/link-to-good.jpg');
    expect(link?.sha256).toBe(scan.images.find((i) => i.relPath === 'cats/good.jpg')?.sha256);
  });

  it('finds every undecodable file with a reason, and decodes every readable one', async () => {
    const { good, bad } = await checkImages(scan.images);
    expect(Object.fromEntries(bad.map((b) => [b.relPath, b.reason]))).toEqual({
      'cats/empty.jpg': 'empty file (0 bytes)',
      'cats/huge.png': expect.stringMatching(/^image too large \(more than 268402689 pixels/),
      'cats/notes-not-an-image.png': expect.stringMatching(/^not an image/),
      'cats/truncated.jpg': expect.stringMatching(/^truncated file \(premature end of JPEG/),
    });
    expect(good).toHaveLength(scan.images.length - 4);
    for (const b of bad) expect(b.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('decodes alpha, grayscale, CMYK, 16-bit and EXIF-rotated images to 8-bit RGB', async () => {
    const first = async (name: string): Promise<number[]> => Array.from((await decodeToRgb(at('cats', name), size)).slice(0, 3));
    const near = (actual: number[], expected: number[], tolerance: number): void =>
      expected.forEach((v, i) => expect(Math.abs(actual[i] - v)).toBeLessThanOrEqual(tolerance));
    near(await first('alpha.png'), [0, 128, 255], 1); // alpha dropped, colour kept
    near(await first('gray.jpg'), [77, 77, 77], 2);
    const cmyk = await first('cmyk.jpg');
    near(cmyk, [200, 40, 40], 30); // through the CMYK profile and back
    expect(await first('sixteen.png')).toEqual([10, 200, 90]);
    // Displayed 20 wide x 40 high: red on top, blue below.
    const rotated = await decodeToRgb(at('cats', 'rotated.jpg'), { width: 20, height: 40, resize: 'nearest', fit: 'fill' });
    const pixel = (x: number, y: number): number[] => Array.from(rotated.slice((y * 20 + x) * 3, (y * 20 + x) * 3 + 3));
    expect(pixel(10, 5)[0]).toBeGreaterThan(200);
    expect(pixel(10, 5)[2]).toBeLessThan(60);
    expect(pixel(10, 35)[2]).toBeGreaterThan(200);
    expect(pixel(10, 35)[0]).toBeLessThan(60);
  });

  it('names the file and the reason when decoding fails', async () => {
    const error = await decodeToRgb(at('cats', 'truncated.jpg'), size).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadImageError);
    expect((error as Error).message).toContain(at('cats', 'truncated.jpg'));
    expect((error as Error).message).toMatch(/truncated file .*dataset\.onBadImage: skip/);
  });

  it('applies a lower pixel limit when asked', async () => {
    await expect(decodeToRgb(at('cats', 'good.jpg'), { ...size, maxInputPixels: 100 })).rejects.toThrow(/image too large \(more than 100 pixels/);
  });

  it('skipping bad images recomputes counts and the fingerprint over what is used', async () => {
    const { good, bad } = await checkImages(scan.images);
    const used = withoutBadImages(scan, bad);
    expect(used.images).toEqual(good);
    expect(used.classCounts).toEqual({ cats: good.filter((g) => g.label === 0).length, dogs: 3 });
    expect(used.fingerprint).toBe(fingerprintImages(good));
    expect(used.fingerprint).not.toBe(scan.fingerprint);
    // A class with nothing left is an error naming it.
    const allDogs = scan.images.filter((i) => i.label === 1).map((i) => ({ ...i, reason: 'x' }));
    expect(() => withoutBadImages(scan, allDogs)).toThrow(DatasetError);
    expect(() => withoutBadImages(scan, allDogs)).toThrow(/class "dogs" .* has no usable images/);
  });
});

