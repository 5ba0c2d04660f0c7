import { createHash } from 'node:crypto';
import { createReadStream, promises as fs, readFileSync, statSync } from 'node:fs';
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

/** A file that looks like an image (by extension) but cannot be used, and why. */
export interface BadImage {
  relPath: string;
  absPath: string;
  /** Index into `DatasetScan.classes`. */
  label: number;
  /** sha256 of the bytes, when the file could be read. */
  sha256: string | null;
  /** Human-readable reason, e.g. `truncated or corrupt JPEG (premature end of JPEG image)`. */
  reason: string;
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
  /**
   * Files with an image extension that could not even be read (broken or looping symbolic
   * links, permission denied). Not in `images`, counts or fingerprint; the caller applies
   * `dataset.onBadImage` to them.
   */
  unreadable: BadImage[];
}

export interface ScanOptions {
  /** Called after each file is hashed. */
  onProgress?: (done: number, total: number) => void;
  /** Files over SYNC_HASH_MAX_BYTES hashed at once (as streams). */
  concurrency?: number;
  /**
   * Follow symbolic links whose target is outside the dataset root (config
   * `dataset.followLinksOutside`). Off by default: such links are reported as unusable (file or
   * folder links inside a class) or refused (a class folder), so a link like `b/up -> ../..`
   * cannot pull in files from elsewhere on the disk.
   */
  followLinksOutside?: boolean;
}

/** Code-point order, independent of the machine's locale. */
export const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const isHidden = (name: string): boolean => name.startsWith('.');

const isImageName = (name: string): boolean => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());

interface Walk {
  /** Real paths of folders already listed (or about to be): loops and aliases are listed once. */
  visited: Set<string>;
  /** Image-named entries that cannot be followed, and links out of the root. */
  broken: { absPath: string; reason: string }[];
  /** Real path of the dataset root. */
  realRoot: string;
  followLinksOutside: boolean;
}

/** Whether `real` (a resolved path) is the root or inside it. */
const isInside = (realRoot: string, real: string): boolean => real === realRoot || real.startsWith(realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep);

const outsideReason = (target: string, kind: 'file' | 'folder'): string =>
  `symbolic link to a ${kind} outside the dataset root (${target}); set dataset.followLinksOutside: true to use it`;

/**
 * Image files under `dir`, recursively, in code-point order. Symbolic links are followed; a
 * link to a folder already listed (a loop, or another path to the same folder) is not listed
 * again, so a link cycle cannot hang the scan.
 */
async function listImageFiles(dir: string, walk: Walk): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => !isHidden(e.name)).sort((a, b) => byCodePoint(a.name, b.name));
  const files: string[] = [];
  for (const entry of names) {
    const full = path.join(dir, entry.name);
    let isDirectory = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      let real: string;
      try {
        const target = await fs.stat(full);
        isDirectory = target.isDirectory();
        isFile = target.isFile();
        real = await fs.realpath(full);
      } catch (error) {
        if (isImageName(entry.name)) walk.broken.push({ absPath: full, reason: linkProblem(error) });
        continue;
      }
      if (!walk.followLinksOutside && !isInside(walk.realRoot, real) && (isDirectory || (isFile && isImageName(entry.name)))) {
        walk.broken.push({ absPath: full, reason: outsideReason(real, isDirectory ? 'folder' : 'file') });
        continue;
      }
    }
    if (isDirectory) {
      const real = await fs.realpath(full);
      if (walk.visited.has(real)) continue;
      walk.visited.add(real);
      // A loop, not push(...): a folder of more than ~125k images overflows a spread's arguments.
      for (const file of await listImageFiles(full, walk)) files.push(file);
    } else if (isFile && isImageName(entry.name)) {
      files.push(full);
    }
  }
  return files;
}

function linkProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return 'symbolic link loop (the link points back to itself)';
  if (code === 'ENOENT') return 'broken symbolic link (its target does not exist)';
  return `cannot follow symbolic link (${code ?? String(error)})`;
}

function readProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return `cannot read the file: permission denied (${code})`;
  return `cannot read the file (${code ?? String(error)})`;
}

/** Files up to this size are hashed from one synchronous read; larger ones are streamed. */
const SYNC_HASH_MAX_BYTES = 16 * 1024 * 1024;
/** Files hashed between two turns of the event loop. */
const HASH_SLICE = 128;

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
  const realRoot = await fs.realpath(absRoot);
  const followLinksOutside = options.followLinksOutside === true;
  const classDirs: { name: string; real: string }[] = [];
  for (const entry of rootEntries) {
    if (isHidden(entry.name)) continue;
    const full = path.join(absRoot, entry.name);
    // A class folder may itself be a symbolic link to a folder (inside the root, unless allowed).
    const isDirectory = entry.isDirectory() || (entry.isSymbolicLink() && (await fs.stat(full).then((s) => s.isDirectory(), () => false)));
    if (!isDirectory) continue;
    const real = await fs.realpath(full);
    if (!followLinksOutside && !isInside(realRoot, real)) {
      throw new DatasetError(
        `class folder ${full} is a symbolic link to ${real}, outside the dataset root ${absRoot}; ` +
          'move or copy the images inside, or set dataset.followLinksOutside: true to read it',
        full,
      );
    }
    classDirs.push({ name: entry.name, real });
  }
  classDirs.sort((a, b) => byCodePoint(a.name, b.name));
  const classes = classDirs.map((c) => c.name);
  refuseLookalikeClasses(absRoot, classes);
  // The root and every class folder count as visited up front: a link from one class into
  // another (or back to the root) must not pull the other class's images in under a wrong label.
  const walk: Walk = { visited: new Set([realRoot, ...classDirs.map((c) => c.real)]), broken: [], realRoot, followLinksOutside };

  const files: { absPath: string; label: number }[] = [];
  const broken: { absPath: string; label: number; reason: string }[] = [];
  // A Map, not an object: a class folder may be named `__proto__` or `constructor`.
  const listed = new Map<string, number>();
  for (const [label, name] of classes.entries()) {
    walk.broken = [];
    const classFiles = await listImageFiles(path.join(absRoot, name), walk);
    listed.set(name, classFiles.length + walk.broken.length);
    for (const absPath of classFiles) files.push({ absPath, label });
    for (const b of walk.broken) broken.push({ ...b, label });
  }
  const usable = classes.filter((c) => (listed.get(c) ?? 0) > 0);
  if (usable.length < 2) {
    throw new DatasetError(
      `dataset folder ${absRoot} has ${usable.length} class folder(s) with images (${classes.join(', ') || 'none'}); ` +
        'a classification dataset needs at least two sub-folders of images, one per class',
      absRoot,
    );
  }

  const relative = (absPath: string): string => path.relative(absRoot, absPath).split(path.sep).join('/');
  let done = 0;
  // Photos are read whole with synchronous reads in slices (a warm run hashes thousands of small
  // files: one libuv round trip per stream chunk, open, stat and close cost more than the hashing);
  // the event loop still turns between slices. Larger files are streamed, a few at once.
  const hashed = new Array<ImageRecord | BadImage>(files.length);
  /** Files to stream, with the size their stat already gave. */
  const large: { index: number; size: number }[] = [];
  for (let start = 0; start < files.length; start += HASH_SLICE) {
    if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    for (let i = start; i < Math.min(start + HASH_SLICE, files.length); i++) {
      const { absPath, label } = files[i];
      try {
        const stat = statSync(absPath);
        if (!stat.isFile() || stat.size > SYNC_HASH_MAX_BYTES) {
          large.push({ index: i, size: stat.size });
          continue;
        }
        const sha256 = createHash('sha256').update(readFileSync(absPath)).digest('hex');
        hashed[i] = { relPath: relative(absPath), absPath, label, sizeBytes: stat.size, sha256 };
      } catch (error) {
        hashed[i] = { relPath: relative(absPath), absPath, label, sha256: null, reason: readProblem(error) };
      }
      options.onProgress?.(++done, files.length);
    }
  }
  await mapLimit(large, options.concurrency ?? 16, async ({ index: i, size }): Promise<void> => {
    const { absPath, label } = files[i];
    try {
      const sha256 = await hashFile(absPath);
      hashed[i] = { relPath: relative(absPath), absPath, label, sizeBytes: size, sha256 };
    } catch (error) {
      hashed[i] = { relPath: relative(absPath), absPath, label, sha256: null, reason: readProblem(error) };
    } finally {
      options.onProgress?.(++done, files.length);
    }
  });
  const images = hashed.filter((h): h is ImageRecord => 'sizeBytes' in h);
  const unreadable = [
    ...hashed.filter((h): h is BadImage => 'reason' in h),
    ...broken.map((b) => ({ relPath: relative(b.absPath), absPath: b.absPath, label: b.label, sha256: null, reason: b.reason })),
  ].sort((a, b) => byCodePoint(a.relPath, b.relPath));
  const classCounts = countClasses(classes, images);
  return { root: absRoot, classes, images, classCounts, fingerprint: fingerprintImages(images), unreadable };
}

/** `U+0065 U+0301`: the code points of a name, to tell look-alike names apart in a message. */
const codePoints = (name: string): string => [...name].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`).join(' ');

/**
 * Class folders whose names are the same text in another Unicode normalisation (`é` as one code
 * point, NFC, or as `e` plus a combining accent, NFD, as macOS writes it) would look like one class
 * and count as two: refused, naming both.
 */
function refuseLookalikeClasses(root: string, classes: readonly string[]): void {
  const seen = new Map<string, string>();
  for (const name of classes) {
    const key = name.normalize('NFC');
    const other = seen.get(key);
    if (other !== undefined) {
      throw new DatasetError(
        `class folders "${other}" (${codePoints(other)}) and "${name}" (${codePoints(name)}) in ${root} have the same name in different ` +
          'Unicode normalisations (NFC and NFD) and would be two classes; rename or merge them into one folder',
        path.join(root, name),
      );
    }
    seen.set(key, name);
  }
}

function countClasses(classes: readonly string[], images: readonly Pick<ImageRecord, 'label'>[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(classes.map((c) => [c, 0]));
  for (const image of images) counts[classes[image.label]]++;
  return counts;
}

/**
 * The scan without `bad` images: what a run with `dataset.onBadImage: skip` actually uses.
 * Counts and fingerprint are recomputed, so the record says exactly which bytes were used.
 * Throws DatasetError if a class is left without images.
 */
export function withoutBadImages(scan: DatasetScan, bad: readonly BadImage[]): DatasetScan {
  const dropped = new Set(bad.map((b) => b.relPath));
  const images = scan.images.filter((image) => !dropped.has(image.relPath));
  const classCounts = countClasses(scan.classes, images);
  const empty = scan.classes.filter((c) => classCounts[c] === 0);
  if (empty.length > 0) {
    throw new DatasetError(
      `class ${empty.map((c) => `"${c}"`).join(', ')} in ${scan.root} has no usable images once the bad ones are skipped; ` +
        'add readable images to it or remove the folder',
      path.join(scan.root, empty[0]),
    );
  }
  return { ...scan, images, classCounts, fingerprint: fingerprintImages(images) };
}

/** Content hash over (relative path, file hash) pairs in scan order. */
export function fingerprintImages(images: readonly Pick<ImageRecord, 'relPath' | 'sha256'>[]): string {
  const hash = createHash('sha256');
  for (const image of images) hash.update(`${image.relPath}\0${image.sha256}\n`);
  return hash.digest('hex');
}
