// The headless server's configuration file (JSON), checked against one schema. Flags
// override it; `keepsake validate -c FILE` runs exactly this check without starting.

import { readFile } from 'node:fs/promises';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { KeepsakeError } from '../core/errors';
import { parseRedisUrl, type RedisSettings } from '../jobs/redis-connection';
import { Allowlist, type AllowlistEntry } from '../proxy/allowlist';
import { parseUpstreamProxy } from '../proxy/upstream-proxy';

export const ServeConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'Address to listen on' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8443 }),
    dataDir: Type.Optional(Type.String({ minLength: 1 })),
    /** Names and addresses clients use: the certificate's SANs and the Host allowlist. */
    hostnames: Type.Array(Type.String({ minLength: 1 }), { default: ['localhost'] }),
    addresses: Type.Array(Type.String({ minLength: 1 }), { default: ['127.0.0.1', '::1'] }),
    /** Proxies whose X-Forwarded-For is believed (CIDRs). */
    trustedProxies: Type.Array(Type.String(), { default: [] }),
    /** Who may read /metrics without signing (CIDRs). */
    metricsCidrs: Type.Array(Type.String(), { default: ['127.0.0.1/32', '::1/128'] }),
    kekFile: Type.Optional(Type.String({ minLength: 1 })),
    maxUploadBytes: Type.Integer({ minimum: 1, default: 64 * 1024 ** 3 }),
    reserveBytes: Type.Integer({ minimum: 0, default: 1024 ** 3 }),
    /**
     * An upload no chunk reached for this long, a finished job nobody collected, and a
     * job that waited this long for keys nobody sent are removed with their files
     * (expiry.ts). A day by default.
     */
    uploadExpirySeconds: Type.Integer({ minimum: 60, maximum: 90 * 86_400, default: 86_400 }),
    keyTtlSeconds: Type.Integer({ minimum: 60, maximum: 30 * 86_400, default: 86_400 }),
    rateLimit: Type.Object(
      {
        perClient: Type.Integer({ minimum: 1, default: 600 }),
        perAddress: Type.Integer({ minimum: 1, default: 1200 }),
        windowSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 60 }),
      },
      { default: {}, additionalProperties: false },
    ),
    /**
     * Request bodies must keep arriving (body-deadline.ts): cut off after this long
     * without a byte, or below this average rate once the grace period is over.
     */
    bodyTimeouts: Type.Object(
      {
        idleSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 600, default: 20 }),
        minBytesPerSecond: Type.Integer({ minimum: 0, default: 8192 }),
        graceSeconds: Type.Number({ minimum: 0, maximum: 600, default: 10 }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** Jobs this server runs itself at once; 0: none, every job goes to its pool's workers. */
    concurrency: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 })),
    scratch: Type.Optional(Type.String({ minLength: 1 })),
    allowDiskScratch: Type.Boolean({ default: false }),
    /**
     * The job queue on Redis or Valkey (BullMQ), for a pool of workers; without it the
     * queue is SQLite's, in engine.db. The password comes from `password`,
     * `passwordFile` or KEEPSAKE_REDIS_PASSWORD, never from the URL.
     */
    queue: Type.Optional(
      Type.Object(
        {
          redis: Type.String({ minLength: 1, description: 'redis://host:6379 or rediss://…' }),
          password: Type.Optional(Type.String({ minLength: 1 })),
          passwordFile: Type.Optional(Type.String({ minLength: 1 })),
          /** At most `max` jobs started per `durationSeconds`, across the pool. */
          rateLimit: Type.Optional(
            Type.Object(
              {
                max: Type.Integer({ minimum: 1 }),
                durationSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 86_400 }),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    /** What /proxy/stream may fetch (docs/stream-proxy.md); nothing by default. */
    proxyAllow: Type.Array(Type.Record(Type.String(), Type.Unknown()), { default: [] }),
    /** `socks5://user:pass@host:port` or `http://host:port`: /proxy/stream goes through it. */
    upstreamProxy: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

export type ServeConfig = Static<typeof ServeConfigSchema>;

/** Fills defaults and checks a config object; errors name the setting. */
export function parseServeConfig(raw: unknown, file = 'configuration'): ServeConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new KeepsakeError('USAGE', `${file}: must hold one JSON object`);
  }
  const value = Value.Default(ServeConfigSchema, structuredClone(raw));
  // An extra key is reported once, by its name (not also as "schema is false" at its path).
  const errors = [...Value.Errors(ServeConfigSchema, value)].filter((e) => e.keyword !== 'boolean');
  if (errors.length) {
    const lines = errors.map((e) => {
      const where = e.instancePath || '/';
      const extra = (e.params as { additionalProperties?: string[] }).additionalProperties;
      return extra
        ? `unknown setting ${extra.map((k) => `"${k}"`).join(', ')}`
        : `${where} ${e.message}`;
    });
    throw new KeepsakeError('USAGE', `${file}: ${[...new Set(lines)].join('; ')}`);
  }
  const queue = (value as ServeConfig).queue;
  if (queue) {
    try {
      parseRedisUrl(queue.redis);
    } catch (err) {
      throw new KeepsakeError('USAGE', `${file}: ${(err as Error).message}`);
    }
    if (queue.password && queue.passwordFile) {
      throw new KeepsakeError('USAGE', `${file}: queue: give password or passwordFile, not both`);
    }
  }
  try {
    new Allowlist((value as ServeConfig).proxyAllow as unknown as AllowlistEntry[]);
  } catch (err) {
    throw new KeepsakeError('USAGE', `${file}: proxyAllow: ${(err as Error).message}`);
  }
  const { upstreamProxy } = value as ServeConfig;
  if (upstreamProxy !== undefined) {
    try {
      parseUpstreamProxy(upstreamProxy);
    } catch (err) {
      // The message never holds the password (upstream-proxy.ts).
      throw new KeepsakeError('USAGE', `${file}: upstreamProxy: ${(err as Error).message}`);
    }
  }
  return value as ServeConfig;
}

export async function readServeConfig(path: string | undefined): Promise<ServeConfig> {
  if (!path) return parseServeConfig({});
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new KeepsakeError('NOT_FOUND', 'cannot read the configuration file', {
      file: path,
      cause: err,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new KeepsakeError('USAGE', `${path}: is not valid JSON (${(err as Error).message})`);
  }
  return parseServeConfig(raw, path);
}

/**
 * Where the queue's Redis is and its password: `queue.password`, else `queue.passwordFile`
 * (first line), else KEEPSAKE_REDIS_PASSWORD, which is then removed from the environment
 * so FFmpeg and other children never inherit it. Undefined without a `queue` setting.
 */
export async function redisSettings(
  config: ServeConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RedisSettings | undefined> {
  const fromEnv = env.KEEPSAKE_REDIS_PASSWORD || undefined;
  delete env.KEEPSAKE_REDIS_PASSWORD;
  const queue = config.queue;
  if (!queue) return undefined;
  let password = queue.password ?? fromEnv;
  if (queue.passwordFile) {
    try {
      password = (await readFile(queue.passwordFile, 'utf8')).split(/\r?\n/)[0] || undefined;
    } catch (err) {
      throw new KeepsakeError('NOT_FOUND', 'cannot read the queue password file', {
        file: queue.passwordFile,
        cause: err,
      });
    }
  }
  return { url: queue.redis, password };
}
