import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import seedrandom from 'seedrandom';
import sharp from 'sharp';

export interface SyntheticDatasetOptions {
  classes: readonly string[];
  imagesPerClass: number;
  width?: number;
  height?: number;
  seed?: string;
}

/**
 * Writes a small class-per-folder JPEG dataset for tests and demos. Each class has its own
 * dominant colour and stripe direction plus seeded noise, so a frozen extractor separates them
 * easily but not trivially.
 */
export async function writeSyntheticDataset(root: string, options: SyntheticDatasetOptions): Promise<void> {
  const width = options.width ?? 64;
  const height = options.height ?? 48;
  const rng = seedrandom(options.seed ?? 'synthetic');
  for (const [c, name] of options.classes.entries()) {
    const dir = path.join(root, name);
    await fs.mkdir(dir, { recursive: true });
    const hue = (c * 360) / options.classes.length;
    const [r, g, b] = hslToRgb(hue, 0.7, 0.5);
    for (let i = 0; i < options.imagesPerClass; i++) {
      const pixels = Buffer.alloc(width * height * 3);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const stripe = ((c % 2 === 0 ? x : y) + i) % 8 < 4 ? 1 : 0.6;
          const noise = () => (rng() - 0.5) * 60;
          const o = (y * width + x) * 3;
          pixels[o] = clamp(r * stripe + noise());
          pixels[o + 1] = clamp(g * stripe + noise());
          pixels[o + 2] = clamp(b * stripe + noise());
        }
      }
      await sharp(pixels, { raw: { width, height, channels: 3 } })
        .jpeg({ quality: 90 })
        .toFile(path.join(dir, `img_${String(i).padStart(3, '0')}.jpg`));
    }
  }
}

const clamp = (v: number): number => Math.max(0, Math.min(255, Math.round(v)));

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    return 255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1)));
  };
  return [f(0), f(8), f(4)];
}
