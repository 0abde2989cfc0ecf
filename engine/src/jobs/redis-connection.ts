// How the engine reaches Redis (or Valkey) for the BullMQ queue: the settings, the
// connection options BullMQ is given, and a short PING for `keepsake validate`, the
// server's start and /healthz.
//
// The password never travels in the URL (it would show in logs and `ps`): it comes from
// the configuration's `queue.password`, `queue.passwordFile` or KEEPSAKE_REDIS_PASSWORD.

import { Queue, type ConnectionOptions } from 'bullmq';
import { KeepsakeError } from '../core/errors';

export interface RedisSettings {
  /** `redis://host:port[/db]` or `rediss://…` (TLS). */
  url: string;
  password?: string;
}

/** What BullMQ is told: parsed from the URL, so a bad one fails here with a clear message. */
export function redisConnection(settings: RedisSettings): ConnectionOptions {
  const url = parseRedisUrl(settings.url);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 6379,
    db,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: settings.password,
    tls: url.protocol === 'rediss:' ? { servername: url.hostname } : undefined,
    // BullMQ's workers wait on Redis rather than fail a command while it reconnects.
    maxRetriesPerRequest: null,
    // Redis gone: try again every second at most, for ever (jobs resume when it returns).
    retryStrategy: (times: number) => Math.min(times * 200, 1_000),
  };
}

/** Checks a queue URL's form: scheme, host, port, database number, no password in it. */
export function parseRedisUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not echoed: a mistyped URL may still carry a password.
    throw new KeepsakeError('USAGE', 'queue.redis is not a URL (redis://host:6379)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new KeepsakeError(
      'USAGE',
      `queue.redis must start with redis:// or rediss:// (TLS), not ${url.protocol}//`,
    );
  }
  if (!url.hostname) throw new KeepsakeError('USAGE', 'queue.redis names no host');
  if (url.password) {
    throw new KeepsakeError(
      'USAGE',
      'queue.redis must not carry the password: put it in queue.passwordFile, queue.password or KEEPSAKE_REDIS_PASSWORD',
    );
  }
  if (url.pathname.length > 1 && !/^\/\d{1,2}$/.test(url.pathname)) {
    throw new KeepsakeError('USAGE', `queue.redis: "${url.pathname}" is not a database number`);
  }
  return url;
}

/** The URL as logs and reports may show it (it holds no password, see parseRedisUrl). */
export function describeRedis(settings: RedisSettings): string {
  const url = parseRedisUrl(settings.url);
  return `${url.protocol}//${url.host}${url.pathname.length > 1 ? url.pathname : ''}`;
}

export interface RedisPing {
  ok: boolean;
  /** Round trip of the PING, when it answered. */
  ms?: number;
  /** Why it did not, in words. */
  problem?: string;
}

/**
 * One PING with a short timeout, on a connection of its own that does not retry: a
 * server that is down or refuses the password answers in `timeoutMs`, not never.
 */
export async function pingRedis(settings: RedisSettings, timeoutMs = 2_000): Promise<RedisPing> {
  const started = Date.now();
  let queue: Queue | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    queue = new Queue('keepsake-ping', {
      connection: {
        ...redisConnection(settings),
        connectTimeout: timeoutMs,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: true,
        retryStrategy: () => null,
        lazyConnect: true,
      },
      skipVersionCheck: true,
    } as never);
    queue.on('error', () => undefined);
    const client = await queue.client;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([pingClient(client), timeout]);
    return { ok: true, ms: Date.now() - started };
  } catch (err) {
    return { ok: false, problem: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
    await queue?.close().catch(() => undefined);
  }
}

/** Start-up's check: Redis must answer, or the server does not start (no silent fallback). */
export async function requireRedis(settings: RedisSettings, timeoutMs = 3_000): Promise<void> {
  const ping = await pingRedis(settings, timeoutMs);
  if (!ping.ok) {
    throw new KeepsakeError(
      'QUEUE_UNAVAILABLE',
      `the job queue's Redis at ${describeRedis(settings)} does not answer (${ping.problem}); the server will not start without it (remove "queue" from the configuration to use the built-in queue)`,
    );
  }
}

/** PING on BullMQ's client (ioredis underneath; BullMQ's own client type leaves it out). */
export function pingClient(client: unknown): Promise<string> {
  return (client as { ping(): Promise<string> }).ping();
}
