// `keepsake doctor -c FILE`: the job queue a server configuration names, SQLite's or
// BullMQ's on Redis, and whether that Redis answers.

const BUILT_IN = { line: 'queue: built in (SQLite, engine.db)', data: { backend: 'sqlite' } };

export async function queueReport(
  configFile: string | undefined,
): Promise<{ line: string; data: Record<string, unknown> }> {
  if (!configFile) return BUILT_IN;
  const { readServeConfig, redisSettings, describeRedis, pingRedis } =
    await import('./server-runtime');
  const redis = await redisSettings(await readServeConfig(configFile));
  if (!redis) return BUILT_IN;
  // Reported, not thrown: doctor exists to say what is wrong.
  const ping = await pingRedis(redis);
  const where = describeRedis(redis);
  return {
    line: ping.ok
      ? `queue: BullMQ on Redis at ${where} (answers in ${ping.ms} ms)`
      : `queue: BullMQ on Redis at ${where}: DOES NOT ANSWER (${ping.problem}); the server will not start`,
    data: { backend: 'redis', redis: where, reachable: ping.ok, problem: ping.problem ?? null },
  };
}
