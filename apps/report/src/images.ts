import { createHash } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '@mlbench/common';

/**
 * An image a page wants to show, as recorded with a run: its content hash and its path relative
 * to the run's dataset root. Both come from the store, so both are untrusted: the writer only
 * reads files inside `root` (after resolving symbolic links) and only shows bytes whose sha256 is
 * the recorded one.
 */
export interface ImageSource {
  /** sha256 of the original file, 64 lowercase hex digits (the thumbnail's name). */
  sha256: string;
  /** The run's dataset root (`dataset.path`). */
  root: string;
  /** Path of the original relative to `root`, `/`-separated. */
  path: string;
}

/** Thumbnail file name (relative to the thumbnails folder) by image sha256; absent = no thumbnail (placeholder). */
export type ThumbnailIndex = ReadonlyMap<string, string>;

export const THUMBNAIL_SIZE = 144;
/** Originals larger than this are not read for a thumbnail (a placeholder is shown). */
export const THUMBNAIL_SOURCE_MAX_BYTES = 64 * 1024 * 1024;

export interface ThumbnailStats {
  created: number;
  reused: number;
  /** Originals that are gone, unreadable or not decodable. */
  missing: number;
  /** Image references refused: a path outside the dataset root, or bytes that do not match the recorded sha256. */
  refused: number;
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Writes small WebP thumbnails named by the image's sha256, so an image shown by many runs
 * and pages is encoded once and regenerating reuses them. A thumbnail is written, or an existing
 * one reused, only after the original (read once, from inside its dataset root) hashed to that
 * name: an imported run cannot put another picture under a real image's hash, nor show a file
 * from elsewhere on the disk. Missing, undecodable or refused originals are left out of the
 * index (pages show a placeholder) instead of failing the report.
 */
export class ThumbnailWriter {
  readonly stats: ThumbnailStats = { created: 0, reused: 0, missing: 0, refused: 0 };
  /** Outcome per image reference (hash, root and path): the thumbnail name, or null (missing or refused). */
  private readonly verified = new Map<string, string | null>();
  /** Thumbnails written or found during this generation, by sha256. */
  private readonly present = new Set<string>();

  constructor(readonly dir: string) {}

  async ensure(images: readonly ImageSource[], concurrency = 4): Promise<ThumbnailIndex> {
    await fs.mkdir(this.dir, { recursive: true });
    const unique = [...new Map(images.map((i) => [referenceKey(i), i])).values()];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < unique.length) {
        const image = unique[next++];
        const key = referenceKey(image);
        if (!this.verified.has(key)) this.verified.set(key, await this.one(image));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, unique.length) }, worker));
    // A hash gets a thumbnail on this page only through a reference of this page that verified.
    const index = new Map<string, string>();
    for (const image of unique) {
      const name = this.verified.get(referenceKey(image));
      if (name) index.set(image.sha256, name);
    }
    return index;
  }

  private async one(image: ImageSource): Promise<string | null> {
    // Never build a file name from something that is not a hash.
    if (!SHA256.test(image.sha256)) return this.refuse();
    const bytes = await readConfined(image.root, image.path);
    if (bytes === 'outside') return this.refuse();
    if (bytes === null) return this.miss();
    if (createHash('sha256').update(bytes).digest('hex') !== image.sha256) return this.refuse();

    // The size in the name: a thumbnail written by an earlier generator (which trusted claimed
    // hashes) is never taken for a verified one.
    const name = `${image.sha256}-${THUMBNAIL_SIZE}.webp`;
    const target = path.join(this.dir, name);
    if (this.present.has(image.sha256) || (await isFile(target))) {
      this.present.add(image.sha256);
      this.stats.reused++;
      return name;
    }
    try {
      const data = await sharp(bytes, { failOn: 'none' })
        .rotate()
        .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'cover', position: 'attention' })
        .webp({ quality: 70, effort: 4 })
        .toBuffer();
      // Write then rename, so an interrupted report never leaves a truncated thumbnail behind.
      await writeFileAtomic(target, data);
      this.present.add(image.sha256);
      this.stats.created++;
      return name;
    } catch {
      return this.miss();
    }
  }

  private refuse(): null {
    this.stats.refused++;
    return null;
  }

  private miss(): null {
    this.stats.missing++;
    return null;
  }
}

const referenceKey = (image: ImageSource): string => JSON.stringify([image.sha256, image.root, image.path]);

/** True when `child` is `parent` or inside it (both absolute and normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
}

/**
 * The bytes of `relPath` under `root`, read only if the file, with every symbolic link resolved,
 * is a regular file inside the resolved root and not larger than THUMBNAIL_SOURCE_MAX_BYTES.
 * 'outside' for a path that leaves the root; null for one that is missing, unreadable or too large.
 */
export async function readConfined(root: string, relPath: string): Promise<Buffer | 'outside' | null> {
  // A recorded path is relative and made of plain segments: no absolute paths, no "..", no NUL.
  const segments = relPath.split('/');
  if (relPath === '' || path.isAbsolute(relPath) || relPath.includes('\\') || relPath.includes('\0') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    return 'outside';
  }
  let realRoot: string;
  let realFile: string;
  try {
    realRoot = await fs.realpath(path.resolve(root));
  } catch {
    return null;
  }
  try {
    realFile = await fs.realpath(path.join(realRoot, ...segments));
  } catch {
    return null;
  }
  // A symbolic link inside the dataset that points elsewhere is refused like "../".
  if (!isInside(realRoot, realFile)) return 'outside';
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(realFile, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    // Checked on the open file, so a FIFO or device swapped in after realpath is not read either.
    const info = await handle.stat();
    if (!info.isFile() || info.size > THUMBNAIL_SOURCE_MAX_BYTES) return null;
    const buffer = Buffer.alloc(info.size);
    const { bytesRead } = await handle.read(buffer, 0, info.size, 0);
    return buffer.subarray(0, bytesRead);
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
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
