// `keepsake validate` and `keepsake doctor` on a server configuration that names a Redis
// queue, through the real CLI and a real redis-server.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli';
import { NO_REDIS, freePort, startRedis } from '../testing/redis-server';
import { freshDir } from '../testing/tmp';

async function configFile(queue: Record<string, unknown>): Promise<string> {
  const file = join(await freshDir(), 'serve.json');
  await writeFile(file, JSON.stringify({ port: 0, queue }));
  return file;
}

describe.skipIf(NO_REDIS)('the queue in validate and doctor', () => {
  it('validate checks that Redis answers, and says so when it does not', async () => {
    const redis = await startRedis();
    const good = await configFile({ redis: redis.url });
    const ok = await runCli(['validate', '-c', good]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`queue: Redis at ${redis.url} answers`));

    const down = await configFile({ redis: `redis://127.0.0.1:${await freePort()}` });
    const refused = await runCli(['validate', '-c', down]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/QUEUE_UNAVAILABLE|does not answer/);
  });

  it('validate refuses a bad queue URL and a password inside it', async () => {
    for (const [queue, message] of [
      [{ redis: 'http://127.0.0.1:6379' }, /must start with redis:\/\/ or rediss:\/\//],
      [{ redis: 'redis://:hunter2@127.0.0.1:6379' }, /must not carry the password/],
      // A URL that does not parse (port out of range) is not echoed: it may hold a password.
      [{ redis: 'redis://:hunter2@127.0.0.1:99999' }, /queue\.redis is not a URL/],
      [{ redis: 'redis://127.0.0.1', password: 'a', passwordFile: '/x' }, /not both/],
      [{ redis: 'redis://127.0.0.1', extra: 1 }, /unknown setting "extra"/],
    ] as const) {
      const res = await runCli(['validate', '-c', await configFile(queue)]);
      expect(res.code, JSON.stringify(queue)).toBe(2);
      expect(res.stderr).toMatch(message);
      expect(res.stderr).not.toContain('hunter2');
    }
  });

  it('takes the Redis password from a file or KEEPSAKE_REDIS_PASSWORD, never the URL', async () => {
    const password = 'correct horse battery';
    const redis = await startRedis({ password });
    const dir = await freshDir();
    const secret = join(dir, 'redis-password');
    await writeFile(secret, `${password}\n`, { mode: 0o600 });
    const fromFile = await runCli([
      'validate',
      '-c',
      await configFile({ redis: redis.url, passwordFile: secret }),
    ]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const plain = await configFile({ redis: redis.url });
    const fromEnv = await runCli(['validate', '-c', plain], {
      env: { KEEPSAKE_REDIS_PASSWORD: password },
    });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    const without = await runCli(['validate', '-c', plain]);
    expect(without.code).toBe(5);
    expect(without.stderr).toMatch(/NOAUTH|does not answer/);
    expect(without.stderr + fromEnv.stdout + fromFile.stdout).not.toContain(password);
  });

  it('doctor reports the queue backend and whether Redis answers', async () => {
    const redis = await startRedis();
    const good = await runCli(['doctor', '-c', await configFile({ redis: redis.url })]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(new RegExp(`queue: BullMQ on Redis at ${redis.url} \\(answers`));
    await redis.kill();
    const down = await runCli(['doctor', '-c', await configFile({ redis: redis.url })]);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/queue: BullMQ on Redis at .*DOES NOT ANSWER/);
    const builtIn = await runCli(['doctor']);
    expect(builtIn.stdout).toMatch(/queue: built in \(SQLite/);
  });
});
