import { ConfigError } from '@mlbench/experiment';

/** The BullMQ queue every submitter and worker of a cluster shares (one Redis may hold several, see --queue-name). */
export const DEFAULT_QUEUE_NAME = 'mlbench-points';

/** Connection options both ioredis and BullMQ accept. */
export interface RedisConnectionOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: Record<string, never>;
  maxRetriesPerRequest: null;
}

/**
 * ioredis options for `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS).
 * `maxRetriesPerRequest: null` is what BullMQ requires of a worker's connection: commands wait
 * for Redis to come back (a restart) instead of failing. Throws ConfigError for anything else.
 */
export function redisOptions(url: string): RedisConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`--queue: expected redis://host:port, got "${url}"`, '(command line)');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(`--queue: expected a redis:// or rediss:// URL, got "${parsed.protocol}//…"`, '(command line)');
  }
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new ConfigError(`--queue: the database after the port must be a number, got "/${db}"`, '(command line)');
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/** The URL without its password, for messages and logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable URL)';
  }
}
