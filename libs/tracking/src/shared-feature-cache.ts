/** One image's feature vector under a feature-cache key. */
export interface FeatureEntry {
  imageSha256: string;
  features: Float32Array;
}

/**
 * A feature cache shared by the workers of a cluster through the tracking store (PostgreSQL; see
 * postgres-feature-cache.ts), keyed exactly as the local folder cache (FeatureCache in
 * @mlbench/experiment): a cache key and the image's sha256.
 */
export interface SharedFeatureCache {
  /** Where the entries live, as shown to people (the store's location). */
  readonly location: string;
  /** The entries present for these images (complete vectors of `dim` values only), by image sha256. */
  getMany(cacheKey: string, dim: number, imageSha256s: readonly string[]): Promise<Map<string, Float32Array>>;
  /** Adds entries in chunks, each atomic (all of a chunk or none; an earlier chunk stays if a later one fails); an entry already present is kept. Resolves to the number added. */
  putMany(cacheKey: string, entries: readonly FeatureEntry[]): Promise<number>;
  /**
   * One try at the key's extraction lock (held by one process of the whole cluster at a time):
   * its release, or null while another process holds it. A holder that dies loses it.
   */
  tryLock(cacheKey: string): Promise<(() => Promise<void>) | null>;
}
