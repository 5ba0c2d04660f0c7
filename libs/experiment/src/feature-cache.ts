import { createHash } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { canonicalJson, writeFileAtomic } from '@mlbench/common';
import { CacheWriteError } from './errors';

/**
 * Content-addressed store of feature vectors: one file per image under a key made of
 * everything that determines the features (model bytes, feature layer, engine and backend,
 * preprocessing). Entries are written to a temp file and renamed, so a crash never leaves a
 * partial vector behind; a file of the wrong size is treated as missing. A failed write (full
 * disk, read-only folder) removes its temp file and throws CacheWriteError naming the file.
 */
export class FeatureCache {
  readonly dir: string;

  constructor(
    root: string,
    readonly key: string,
    readonly dim: number,
  ) {
    this.dir = path.join(root, 'features', key);
  }

  static keyFor(parts: Record<string, unknown>): string {
    return createHash('sha256').update(canonicalJson(parts)).digest('hex').slice(0, 32);
  }

  private fileFor(imageSha256: string): string {
    return path.join(this.dir, imageSha256.slice(0, 2), `${imageSha256}.f32`);
  }

  async describe(parts: Record<string, unknown>): Promise<void> {
    const file = path.join(this.dir, 'key.json');
    await cacheWrite(file, () => writeFileAtomic(file, `${JSON.stringify({ ...parts, dim: this.dim }, null, 2)}\n`));
  }

  /** Whether a complete entry exists, without reading it. */
  async has(imageSha256: string): Promise<boolean> {
    return fs.stat(this.fileFor(imageSha256)).then(
      (s) => s.isFile() && s.size === this.dim * 4,
      () => false,
    );
  }

  async get(imageSha256: string): Promise<Float32Array | null> {
    try {
      const bytes = await fs.readFile(this.fileFor(imageSha256));
      if (bytes.byteLength !== this.dim * 4) return null;
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    } catch {
      return null;
    }
  }

  /**
   * Entries of many images at once, null where missing or incomplete. A warm run reads thousands of
   * small files: synchronous reads in slices cost a fraction of one libuv round trip per file, and
   * the event loop still turns between slices (signals, progress).
   */
  async getMany(imageSha256s: readonly string[]): Promise<(Float32Array | null)[]> {
    const out: (Float32Array | null)[] = [];
    const SLICE = 256;
    for (let start = 0; start < imageSha256s.length; start += SLICE) {
      if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      for (const sha of imageSha256s.slice(start, start + SLICE)) out.push(this.readEntry(sha));
    }
    return out;
  }

  private readEntry(imageSha256: string): Float32Array | null {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.fileFor(imageSha256));
    } catch {
      return null;
    }
    if (bytes.byteLength !== this.dim * 4) return null;
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }

  async put(imageSha256: string, features: Float32Array): Promise<void> {
    if (features.length !== this.dim) throw new Error(`feature vector has ${features.length} values, expected ${this.dim}`);
    const file = this.fileFor(imageSha256);
    await cacheWrite(file, () => writeFileAtomic(file, new Uint8Array(features.buffer, features.byteOffset, features.byteLength)));
  }
}

async function cacheWrite(file: string, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string') throw new CacheWriteError(file, code, { cause: error });
    throw error;
  }
}
