/**
 * A throwaway Redis server for tests, benchmarks and the demo: Debian's `redis-server` (installed by
 * scripts/install-test-deps.sh), on a free 127.0.0.1 port, with its data in a temp folder, AOF
 * persistence on (`appendfsync always`, so a killed server loses nothing acknowledged) and
 * `maxmemory-policy noeviction`, as BullMQ requires. Never a mock. Beside tracking's PostgreSQL twin
 * (libs/tracking/src/testing), whose free-port helper it shares; Redis runs fine as root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { freePort } from '@mlbench/tracking/src/testing';

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Data folder (AOF files); removed by stop(). */
  readonly dir: string;
  /** Kills the server with SIGKILL (no shutdown save) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops the server and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

const binary = (): string => process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

/** Whether the Redis binary is installed (tests say how to install it when it is not). */
export const redisServerAvailable = (): boolean => existsSync(binary());

export async function startRedisServer(): Promise<RedisServer> {
  if (!redisServerAvailable()) {
    throw new Error(`${binary()} is missing: run scripts/install-test-deps.sh (Debian package redis-server) or set REDIS_SERVER`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlbench-redis-'));
  let port = 0;
  let child: ChildProcess | null = null;
  const launch = async (): Promise<void> => {
    child = spawn(
      binary(),
      [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no',
        '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction',
        '--logfile', path.join(dir, 'redis.log'), '--protected-mode', 'yes',
      ],
      { stdio: 'ignore' },
    );
    await waitUntilReady(port, child);
  };
  // The free port may be taken between the probe and the bind: a few tries with a fresh port.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      killNow(child);
      if (attempt >= 2) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async restart() {
      await killAndWait(child);
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await killAndWait(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitUntilReady(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`redis-server exited before accepting connections on port ${port}`);
    const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      // While loading the AOF Redis answers PING with LOADING: wait until it says PONG.
      if ((await client.ping()) === 'PONG') return;
    } catch {
      // not yet
    } finally {
      client.disconnect();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not accept connections on 127.0.0.1:${port} within 15 s`);
}

function killNow(child: ChildProcess | null): void {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function killAndWait(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}
