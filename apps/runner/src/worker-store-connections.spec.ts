/**
 * A worker running N points at once on a PostgreSQL store: each point extracting features holds
 * its key's advisory lock on a pooled connection for the whole extraction, so the worker's pool
 * has room for N held locks and the store's queries besides (a real throwaway server).
 */
import { openTrackingStore, type TrackingStore } from '@mlbench/tracking';
import { startPostgres, type PostgresServer } from '@mlbench/tracking/src/testing';
import { workerStoreConnections } from './commands/worker';

jest.setTimeout(120_000);

let pg: PostgresServer;
let url: string;
beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('pool');
});
afterAll(() => pg?.stop());

/** Holds one feature lock per point (distinct keys), then asks the store for its runs while they are held. */
async function queryWhileLocked(store: TrackingStore, points: number): Promise<'answered' | 'starved'> {
  const shared = store.sharedFeatures;
  if (!shared) throw new Error('a PostgreSQL store shares its feature cache');
  const releases = await Promise.all(Array.from({ length: points }, (_, k) => shared.tryLock(`${k}`.padStart(8, '0') + 'f'.repeat(24))));
  try {
    expect(releases.every((r) => r !== null)).toBe(true);
    // The pool waits 10 s for a free connection before failing; 3 s is plenty when one is free.
    const query = store.searchRuns().then(() => 'answered' as const, () => 'starved' as const);
    return await Promise.race([query, new Promise<'starved'>((resolve) => setTimeout(() => resolve('starved'), 3000).unref())]);
  } finally {
    await Promise.all(releases.map((r) => r?.()));
  }
}

it('sizes the pool for the points: 4 held feature locks leave the store answering (a default pool of 4 starves)', async () => {
  expect([1, 2, 4, 8].map(workerStoreConnections)).toEqual([4, 4, 6, 10]);
  const sized = await openTrackingStore(url, { maxConnections: workerStoreConnections(4) });
  try {
    expect(await queryWhileLocked(sized, 4)).toBe('answered');
  } finally {
    await sized.close();
  }
  const defaultPool = await openTrackingStore(url);
  try {
    expect(await queryWhileLocked(defaultPool, 4)).toBe('starved');
  } finally {
    await defaultPool.close();
  }
});
