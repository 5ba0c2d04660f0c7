import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { z } from 'zod';
import { canonicalJson, readFileBounded, writeFileAtomic } from '@mlbench/common';

/**
 * Bump when the audit's computation changes (fold assignment, fold training, clamping, the head's
 * training code): entries written by the old code are then never read again.
 */
export const AUDIT_CODE_VERSION = 1;

/** Everything a label audit's out-of-fold probabilities are a function of. */
export interface AuditCacheInput {
  /** One row of `dim` values per image, in dataset order. */
  features: Float32Array;
  dim: number;
  labels: readonly number[];
  /** The audit's settings (AuditOptions: folds, seed, head and training). */
  options: object;
  /** The tfjs backend and version that train the fold heads (wasm and cpu differ in the last bits). */
  backend: string;
  engineVersion: string;
}

/** What an entry holds: the audit's folds and out-of-fold probabilities, and what computing them cost. */
export interface CachedAudit {
  folds: number[];
  probabilities: number[][];
  /** Seconds the audit took when it was computed. */
  computedSeconds: number;
}

const entrySchema = z.object({
  version: z.literal(AUDIT_CODE_VERSION),
  key: z.string(),
  folds: z.array(z.number().int().min(0)),
  probabilities: z.array(z.array(z.number().min(0).max(1))),
  computedSeconds: z.number().nonnegative(),
});

/**
 * Content-addressed store of label audits under `<cache>/audit/`, beside the feature cache: the
 * audit is a seeded, deterministic function of the feature matrix, the labels, its settings and the
 * training backend, so a warm run with the same inputs reads it instead of training its folds again.
 * The key hashes the feature values themselves (not how they were made). Entries are written
 * atomically and not trusted on read: anything that does not parse, has the wrong shape or folds
 * other than the seeded assignment is a miss, and the audit is computed again.
 */
export class AuditCache {
  readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(root, 'audit');
  }

  static keyFor(input: AuditCacheInput): string {
    const { features, dim, labels, options, backend, engineVersion } = input;
    const featureHash = createHash('sha256').update(new Uint8Array(features.buffer, features.byteOffset, features.byteLength)).digest('hex');
    const parts = { version: AUDIT_CODE_VERSION, featureHash, dim, labels, options, backend, engineVersion };
    return createHash('sha256').update(canonicalJson(parts)).digest('hex').slice(0, 32);
  }

  /**
   * The most bytes an entry of `images` rows of `numClasses` probabilities can take as written by
   * put: a double in JSON is at most 24 characters, plus its comma; a row's brackets and its fold
   * index fit in 16; 1 KiB covers the rest. A larger file is not an entry (and is not read).
   */
  static maxEntryBytes(images: number, numClasses: number): number {
    return 1024 + images * (16 + numClasses * 25);
  }

  fileFor(key: string): string {
    return path.join(this.dir, `${key}.json`);
  }

  /**
   * The entry of `key` if it is complete and fits the audit it stands for: one fold per image equal
   * to `expectedFolds`, one row of `numClasses` probabilities in [0, 1] per image. Null otherwise.
   */
  async get(key: string, expectedFolds: readonly number[], numClasses: number): Promise<CachedAudit | null> {
    let text: string;
    try {
      // Any error (missing, a pipe, over the bound) is a miss: the audit is computed again.
      text = (await readFileBounded(this.fileFor(key), AuditCache.maxEntryBytes(expectedFolds.length, numClasses), 'the audit entry bound')).toString('utf8');
    } catch {
      return null;
    }
    let parsed: z.infer<typeof entrySchema>;
    try {
      const result = entrySchema.safeParse(JSON.parse(text));
      if (!result.success) return null;
      parsed = result.data;
    } catch {
      return null;
    }
    const { folds, probabilities } = parsed;
    if (parsed.key !== key || folds.length !== expectedFolds.length || probabilities.length !== expectedFolds.length) return null;
    if (folds.some((f, i) => f !== expectedFolds[i])) return null;
    if (probabilities.some((row) => row.length !== numClasses)) return null;
    return { folds, probabilities, computedSeconds: parsed.computedSeconds };
  }

  /** Writes the entry of `key` (temp file and rename: a reader never sees half of it). */
  async put(key: string, audit: CachedAudit): Promise<void> {
    const entry: z.infer<typeof entrySchema> = { version: AUDIT_CODE_VERSION, key, ...audit };
    await writeFileAtomic(this.fileFor(key), JSON.stringify(entry));
  }
}
