import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DatasetError } from './errors';

/** File extensions decoded as images; anything else in a class folder is ignored. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff', '.avif',
]);

export interface ImageRecord {
  /** Path relative to the dataset root, always '/'-separated (stable across OSes). */
  relPath: string;
  absPath: string;
  /** Index into `DatasetScan.classes`. */
  label: number;
  sizeBytes: number;
  /** sha256 of the file bytes, hex. */
  sha256: string;
}

export interface DatasetScan {
  root: string;
  /** Class names = folder names, sorted by code point. */
  classes: string[];
  /** Every image, sorted by class then relative path. */
  images: ImageRecord[];
  classCounts: Record<string, number>;
  /** sha256 over every image's relative path and content hash, in order. */
  fingerprint: string;
}

export interface ScanOptions {
  /** Called after each file is hashed. */
  onProgress?: (done: number, total: number) => void;
  /** Files hashed at once. */
  concurrency?: number;
}

/** Code-point order, independent of the machine's locale. */
export const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const isHidden = (name: string): boolean => name.startsWith('.');

async function listImageFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => !isHidden(e.name)).sort((a, b) => byCodePoint(a.name, b.name));
  const files: string[] = [];
  for (const entry of names) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listImageFiles(full)));
    else if (entry.isFile() && IMAGE_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) files.push(full);
  }
  return files;
}

export function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Scans a class-per-folder dataset (`root/<class>/**\/<image>`) deterministically and
 * fingerprints it by content, so the record says exactly which bytes a run saw.
 */
export async function scanDataset(root: string, options: ScanOptions = {}): Promise<DatasetScan> {
  const absRoot = path.resolve(root);
  let rootEntries;
  try {
    rootEntries = await fs.readdir(absRoot, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a folder' : `cannot be read (${code})`;
    throw new DatasetError(
      `dataset folder ${absRoot} ${why}; set dataset.path to a folder with one sub-folder of images per class`,
      absRoot,
    );
  }
  const classes = rootEntries
    .filter((e) => e.isDirectory() && !isHidden(e.name))
    .map((e) => e.name)
    .sort(byCodePoint);

  const files: { absPath: string; label: number }[] = [];
  const classCounts: Record<string, number> = {};
  for (const [label, name] of classes.entries()) {
    const classFiles = await listImageFiles(path.join(absRoot, name));
    classCounts[name] = classFiles.length;
    for (const absPath of classFiles) files.push({ absPath, label });
  }
  const usable = classes.filter((c) => classCounts[c] > 0);
  if (usable.length < 2) {
    throw new DatasetError(
      `dataset folder ${absRoot} has ${usable.length} class folder(s) with images (${classes.join(', ') || 'none'}); ` +
        'a classification dataset needs at least two sub-folders of images, one per class',
      absRoot,
    );
  }

  let done = 0;
  const images = await mapLimit(files, options.concurrency ?? 16, async ({ absPath, label }) => {
    const [sha256, stat] = await Promise.all([hashFile(absPath), fs.stat(absPath)]);
    options.onProgress?.(++done, files.length);
    const relPath = path.relative(absRoot, absPath).split(path.sep).join('/');
    return { relPath, absPath, label, sizeBytes: stat.size, sha256 };
  });

  return { root: absRoot, classes, images, classCounts, fingerprint: fingerprintImages(images) };
}

/** Content hash over (relative path, file hash) pairs in scan order. */
export function fingerprintImages(images: readonly Pick<ImageRecord, 'relPath' | 'sha256'>[]): string {
  const hash = createHash('sha256');
  for (const image of images) hash.update(`${image.relPath}\0${image.sha256}\n`);
  return hash.digest('hex');
}
