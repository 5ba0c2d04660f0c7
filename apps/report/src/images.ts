import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '@mlbench/common';

/** An image a page wants to show: identified by content, found under the dataset root. */
export interface ImageSource {
  sha256: string;
  /** Absolute path of the original file. */
  file: string;
}

/** Thumbnail file name (relative to the thumbnails folder) by image sha256; absent = original missing. */
export type ThumbnailIndex = ReadonlyMap<string, string>;

export const THUMBNAIL_SIZE = 144;

export interface ThumbnailStats {
  created: number;
  reused: number;
  missing: number;
}

/**
 * Writes small WebP thumbnails named by the image's sha256, so an image shown by many runs
 * and pages is encoded once and regenerating reuses them. Missing or undecodable originals
 * are left out of the index (pages show a placeholder) instead of failing the report.
 */
export class ThumbnailWriter {
  readonly stats: ThumbnailStats = { created: 0, reused: 0, missing: 0 };
  private readonly known = new Map<string, string | null>();

  constructor(readonly dir: string) {}

  async ensure(images: readonly ImageSource[], concurrency = 4): Promise<ThumbnailIndex> {
    await fs.mkdir(this.dir, { recursive: true });
    const unique = [...new Map(images.map((i) => [i.sha256, i])).values()];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < unique.length) await this.one(unique[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, unique.length) }, worker));
    const index = new Map<string, string>();
    for (const image of unique) {
      const name = this.known.get(image.sha256);
      if (name) index.set(image.sha256, name);
    }
    return index;
  }

  private async one(image: ImageSource): Promise<void> {
    if (this.known.has(image.sha256)) return;
    if (!/^[0-9a-f]{16,}$/i.test(image.sha256)) {
      // Never build a file name from something that is not a hash.
      this.known.set(image.sha256, null);
      this.stats.missing++;
      return;
    }
    const name = `${image.sha256.toLowerCase()}.webp`;
    const target = path.join(this.dir, name);
    try {
      await fs.access(target);
      this.known.set(image.sha256, name);
      this.stats.reused++;
      return;
    } catch {
      // not there yet
    }
    try {
      const data = await sharp(image.file, { failOn: 'none' })
        .rotate()
        .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'cover', position: 'attention' })
        .webp({ quality: 70, effort: 4 })
        .toBuffer();
      // Write then rename, so an interrupted report never leaves a truncated thumbnail behind.
      await writeFileAtomic(target, data);
      this.known.set(image.sha256, name);
      this.stats.created++;
    } catch {
      this.known.set(image.sha256, null);
      this.stats.missing++;
    }
  }
}

/** Mulberry32: a tiny seeded PRNG, so "random" sample grids are the same on every regeneration. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` items drawn without replacement, in a seeded order (independent of input order). */
export function seededSample<T>(items: readonly T[], count: number, seed: number, key: (item: T) => string): T[] {
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const random = seededRandom(seed);
  const n = Math.min(count, sorted.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (sorted.length - i));
    [sorted[i], sorted[j]] = [sorted[j], sorted[i]];
  }
  return sorted.slice(0, n);
}
