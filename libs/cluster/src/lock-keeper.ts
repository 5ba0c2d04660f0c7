import { Worker as Thread } from 'node:worker_threads';
import type { RedisConnectionOptions } from './connection';

/**
 * Renews Redis locks (BullMQ job locks, feature-extraction locks) from a worker thread with its own
 * Redis connection, so a lock stays held while the worker's main thread is busy: a long synchronous
 * stretch of feature extraction, decoding or training blocks the event loop, and with it BullMQ's
 * own renewal timer; the lock would then expire and the stalled check give the point to another
 * worker while this one still runs it. The thread dies with the process (kill -9, crash), so a dead
 * worker's locks still expire as before. It also stops renewing when the main thread has not
 * answered for `hangMs` (a worker stuck for good gives its points back).
 */
export interface LockKeeper {
  /**
   * Keeps `key` (whose value must be `token`) alive with TTL `ttlMs` until released; `onLost` runs
   * (on the main thread) if the key was found gone or held by another token. With `stalledSet`,
   * every renewal also removes `member` from that set, as BullMQ's own extendLock does.
   */
  hold(hold: { key: string; token: string; ttlMs: number; stalledSet?: string; member?: string }, onLost?: () => void): () => void;
  close(): Promise<void>;
}

export interface LockKeeperOptions {
  /** The main thread is considered stuck after this long without a word (default 10 min). */
  hangMs?: number;
}

// Plain JavaScript: runs in a fresh thread without the TypeScript loader.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Redis = require(workerData.ioredis);
const redis = new Redis({ ...workerData.connection, enableOfflineQueue: true });
redis.on('error', () => undefined);
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]); if ARGV[3] ~= '' then redis.call('srem', KEYS[2], ARGV[3]) end; return 1 else return 0 end";
const held = new Map();
let alive = Date.now();
parentPort.on('message', (m) => {
  alive = Date.now();
  if (m.type === 'hold') held.set(m.id, { ...m.hold, last: 0, busy: false });
  else if (m.type === 'release') held.delete(m.id);
  else if (m.type === 'close') { clearInterval(timer); redis.disconnect(); parentPort.close(); }
});
const timer = setInterval(() => {
  const now = Date.now();
  if (now - alive > workerData.hangMs) return;
  for (const [id, h] of held) {
    if (h.busy || now - h.last < h.ttlMs / 3) continue;
    h.busy = true;
    redis.eval(RENEW, 2, h.key, h.stalledSet || h.key, h.token, String(h.ttlMs), h.member || '').then(
      (ok) => {
        h.busy = false;
        h.last = Date.now();
        if (ok === 0 && held.has(id)) { held.delete(id); parentPort.postMessage({ type: 'lost', id }); }
      },
      () => { h.busy = false; },
    );
  }
}, workerData.tickMs);
`;

export function startLockKeeper(connection: RedisConnectionOptions, options: LockKeeperOptions = {}): LockKeeper {
  const hangMs = options.hangMs ?? 10 * 60_000;
  const thread = new Thread(THREAD, { eval: true, workerData: { ioredis: require.resolve('ioredis'), connection, hangMs, tickMs: 100 } });
  thread.unref();
  const lost = new Map<number, () => void>();
  thread.on('message', (m: { type: 'lost'; id: number }) => {
    const onLost = lost.get(m.id);
    lost.delete(m.id);
    onLost?.();
  });
  thread.on('error', () => undefined);
  // Tells the thread the main thread is alive (it does not keep the process running).
  const ping = setInterval(() => thread.postMessage({ type: 'ping' }), 1000);
  ping.unref();
  let next = 0;
  return {
    hold(hold, onLost) {
      const id = ++next;
      if (onLost) lost.set(id, onLost);
      thread.postMessage({ type: 'hold', id, hold });
      return () => {
        lost.delete(id);
        thread.postMessage({ type: 'release', id });
      };
    },
    async close() {
      clearInterval(ping);
      thread.postMessage({ type: 'close' });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => void thread.terminate().then(() => resolve()), 2000);
        thread.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
