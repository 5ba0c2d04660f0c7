import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { InterruptedError } from '@mlbench/experiment';
import type { SharedFeatureCache } from '@mlbench/tracking';
import type { LockKeeper } from './lock-keeper';

// Compare-and-act on the holder's token, so a lock that expired and was taken by another worker is never renewed or released by the old holder.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface FeatureLockOptions {
  /** The lock expires this long after its holder stops renewing it (killed, or cut off from Redis). */
  ttlMs?: number;
  pollMs?: number;
  /** Give up waiting after this long (the point fails and is retried). */
  maxWaitMs?: number;
  /** Renews the held lock from a worker thread (see lock-keeper.ts), so a busy main thread does not lose it; else a timer here. */
  keeper?: LockKeeper;
}

/** Takes the lock of a feature-cache key, waiting while another worker holds it; resolves to its release. */
export type FeatureLock = (cacheKey: string, signal?: AbortSignal, onWait?: () => void) => Promise<() => Promise<void>>;

/**
 * A per-feature-cache-key advisory lock in Redis (SET NX PX with a random token, renewed while held),
 * so two workers starting on a cold cache do not extract the same images: the second waits, then
 * finds the features in the shared cache. A holder that dies releases it by expiry.
 */
export function redisFeatureLock(redis: Redis, prefix: string, options: FeatureLockOptions = {}): FeatureLock {
  const ttlMs = options.ttlMs ?? 30_000;
  return (cacheKey, signal, onWait) => {
    const key = `${prefix}:feature-lock:${cacheKey}`;
    const token = randomUUID();
    const tryOnce = async (): Promise<(() => Promise<void>) | null> => {
      if ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return null;
      const keeper = options.keeper;
      let stopRenewing: () => void;
      if (keeper) {
        stopRenewing = keeper.hold({ key, token, ttlMs });
      } else {
        const renew = setInterval(() => void redis.eval(RENEW, 1, key, token, String(ttlMs)).catch(() => undefined), Math.max(100, Math.floor(ttlMs / 3)));
        renew.unref();
        stopRenewing = () => clearInterval(renew);
      }
      return async () => {
        stopRenewing();
        await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
      };
    };
    return pollLock(cacheKey, tryOnce, options, signal, onWait);
  };
}

/**
 * The lock of the feature cache shared through the store (PostgreSQL: an advisory lock per key,
 * see PostgresFeatureCache), for workers on machines that share no disk: one of them extracts and
 * shares, the others wait, then read. It needs no renewal: it lasts as long as its holder's connection.
 */
export function sharedFeatureLock(shared: SharedFeatureCache, options: Omit<FeatureLockOptions, 'ttlMs' | 'keeper'> = {}): FeatureLock {
  return (cacheKey, signal, onWait) => pollLock(cacheKey, () => shared.tryLock(cacheKey), options, signal, onWait);
}

async function pollLock(
  cacheKey: string,
  tryOnce: () => Promise<(() => Promise<void>) | null>,
  options: FeatureLockOptions,
  signal: AbortSignal | undefined,
  onWait: (() => void) | undefined,
): Promise<() => Promise<void>> {
  const pollMs = options.pollMs ?? 250;
  const maxWaitMs = options.maxWaitMs ?? 4 * 3600_000;
  const deadline = Date.now() + maxWaitMs;
  let waited = false;
  for (;;) {
    if (signal?.aborted) throw new InterruptedError(String(signal.reason ?? 'signal'));
    const release = await tryOnce();
    if (release) return release;
    if (Date.now() > deadline) throw new Error(`waited ${Math.round(maxWaitMs / 1000)} s for another worker extracting features ${cacheKey}; giving up`);
    if (!waited) onWait?.();
    waited = true;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
