/**
 * The feature cache shared through the PostgreSQL store (migration 9), against a real throwaway
 * PostgreSQL server: entries round-trip bit for bit, writes are idempotent, a vector of the wrong
 * length reads as missing, and the per-key extraction lock is held by one session at a time and
 * freed when its holder's process dies.
 */
import { spawn } from 'node:child_process';
import { openPostgresStore } from './postgres-store';
import type { TrackingStore } from './store';
import { startPostgres, type PostgresServer } from './testing';

jest.setTimeout(120_000);

let pg: PostgresServer;
let url: string;
let store: TrackingStore;

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('features');
  store = await openPostgresStore(url);
});
afterAll(async () => {
  await store?.close();
  await pg?.stop();
});

const vector = (seed: number, dim: number): Float32Array => Float32Array.from({ length: dim }, (_, i) => Math.sin(seed * 1000 + i) * 1e3);

it('stores vectors under key and image hash, bit for bit; adding again keeps the first; other keys and lengths read as missing', async () => {
  const cache = store.sharedFeatures;
  if (!cache) throw new Error('a PostgreSQL store shares its feature cache');
  const entries = Array.from({ length: 1200 }, (_, i) => ({ imageSha256: `${i}`.padStart(64, 'a'), features: vector(i, 16) }));
  expect(await cache.putMany('k1', entries)).toBe(1200);
  expect(await cache.putMany('k1', [{ imageSha256: entries[0].imageSha256, features: vector(99, 16) }])).toBe(0);
  const read = await cache.getMany('k1', 16, [...entries.map((e) => e.imageSha256), 'missing']);
  expect(read.size).toBe(1200);
  expect(entries.every((e) => Buffer.from(read.get(e.imageSha256)?.buffer ?? new ArrayBuffer(0)).equals(Buffer.from(e.features.buffer)))).toBe(true);
  expect((await cache.getMany('k2', 16, [entries[0].imageSha256])).size).toBe(0);
  expect((await cache.getMany('k1', 8, [entries[0].imageSha256])).size).toBe(0);
});

it('the lock of a key is held by one session at a time, not by other keys; a holder whose process dies frees it', async () => {
  const cache = store.sharedFeatures;
  if (!cache) throw new Error('a PostgreSQL store shares its feature cache');
  const release = await cache.tryLock('0123456789abcdef');
  expect(release).not.toBeNull();
  expect(await cache.tryLock('0123456789abcdef')).toBeNull();
  const other = await cache.tryLock('fedcba9876543210');
  expect(other).not.toBeNull();
  await other?.();
  await release?.();
  const again = await cache.tryLock('0123456789abcdef');
  expect(again).not.toBeNull();
  await again?.();

  // Another process takes the lock, then is killed with SIGKILL: the server ends its session and the lock with it.
  const script = `
    const { openPostgresStore } = require('./libs/tracking/src/postgres-store');
    openPostgresStore(process.argv[1]).then(async (s) => { const r = await s.sharedFeatures.tryLock('0123456789abcdef'); console.log(r ? 'held' : 'busy'); });
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, url], { cwd: `${__dirname}/../../..`, stdio: ['ignore', 'pipe', 'inherit'] });
  const said = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  expect(said).toBe('held');
  expect(await cache.tryLock('0123456789abcdef')).toBeNull();
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('close', resolve));
  let freed: (() => Promise<void>) | null = null;
  for (let i = 0; i < 50 && !freed; i++) {
    freed = await cache.tryLock('0123456789abcdef');
    if (!freed) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(freed).not.toBeNull();
  await freed?.();
});
