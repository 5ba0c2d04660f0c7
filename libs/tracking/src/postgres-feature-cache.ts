import type { PostgresDb } from './database/postgres/postgres-database';
import type { FeatureEntry, SharedFeatureCache } from './shared-feature-cache';

/** 'MLFC' as a big-endian int32: the first key of the feature-cache advisory locks (the migration lock uses the one-key form). */
const LOCK_SPACE = 0x4d4c4643;
/** Images per query and per insert statement: a few MB of vectors at 1280 dimensions. */
const CHUNK = 500;

/**
 * The shared feature cache in the PostgreSQL store (table feature_vectors, migration 9). Entries
 * are written one statement per chunk, so a reader sees every vector of a chunk or none; a vector of the
 * wrong length is treated as missing, as in the local folder. Extraction of one key is serialised
 * by a session-level advisory lock (pg_try_advisory_lock) on a connection held for the duration:
 * a worker whose process dies releases it with its connection.
 */
export class PostgresFeatureCache implements SharedFeatureCache {
  constructor(private readonly db: PostgresDb) {}

  get location(): string {
    return this.db.location;
  }

  async getMany(cacheKey: string, dim: number, imageSha256s: readonly string[]): Promise<Map<string, Float32Array>> {
    const found = new Map<string, Float32Array>();
    const wanted = [...new Set(imageSha256s)];
    for (let start = 0; start < wanted.length; start += CHUNK) {
      const shas = wanted.slice(start, start + CHUNK);
      const rows = await this.db.all<{ image_sha256: string; vector: Buffer }>(
        `SELECT image_sha256, vector FROM feature_vectors WHERE cache_key = ? AND image_sha256 IN (${shas.map(() => '?').join(', ')})`,
        [cacheKey, ...shas],
      );
      for (const row of rows) {
        if (row.vector.byteLength !== dim * 4) continue;
        // A copy: a Float32Array needs an aligned offset, and the vector outlives the driver's buffer.
        found.set(row.image_sha256, new Float32Array(row.vector.buffer.slice(row.vector.byteOffset, row.vector.byteOffset + row.vector.byteLength)));
      }
    }
    return found;
  }

  async putMany(cacheKey: string, entries: readonly FeatureEntry[]): Promise<number> {
    let added = 0;
    for (let start = 0; start < entries.length; start += CHUNK) {
      const chunk = entries.slice(start, start + CHUNK);
      // One statement is atomic on its own: a reader sees all of a chunk or none of it.
      const { changes } = await this.db.run(
        `INSERT INTO feature_vectors (cache_key, image_sha256, vector) VALUES ${chunk.map(() => '(?, ?, ?)').join(', ')}
         ON CONFLICT (cache_key, image_sha256) DO NOTHING`,
        chunk.flatMap((e) => [cacheKey, e.imageSha256, Buffer.from(e.features.buffer, e.features.byteOffset, e.features.byteLength)]),
      );
      added += changes;
    }
    return added;
  }

  tryLock(cacheKey: string): Promise<(() => Promise<void>) | null> {
    return this.db.tryAdvisoryLock(LOCK_SPACE, lockKeyOf(cacheKey));
  }
}

/** The lock's second key: the first 32 bits of the (hex) cache key, as PostgreSQL's signed int4. Two keys sharing it only wait for each other. */
export function lockKeyOf(cacheKey: string): number {
  const hex = /^[0-9a-f]{8}/i.test(cacheKey) ? cacheKey.slice(0, 8) : Buffer.from(cacheKey).toString('hex').padEnd(8, '0').slice(0, 8);
  return Number.parseInt(hex, 16) | 0;
}
