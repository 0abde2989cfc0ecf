// A SIGHUP reload cannot move the job queue: the engine's queue (SQLite's or BullMQ's) is
// opened once at start, so a reload that changes `queue` is refused, saying to restart,
// rather than reported as applied while the old queue keeps running.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { parseServeConfig } from '../http/serve-config';
import { pinnedAgent } from '../net/pinning';
import { testScratch } from '../testing/media';
import { freshDir } from '../testing/tmp';
import { startServe, type RunningServer } from './serve';

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

describe('reloading the configuration', () => {
  it('refuses a change of queue and keeps serving with the old settings', async () => {
    const s = await startServe({
      config: parseServeConfig({ port: 0 }),
      dataDir: join(await freshDir(), 'server'),
      kek: randomBytes(32),
      scratch: await testScratch(),
      logError: () => undefined,
    });
    running.push(s);
    const before = s.url;
    await expect(
      s.reload(parseServeConfig({ port: 0, queue: { redis: 'redis://127.0.0.1:6379' } })),
    ).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/queue.*restart/) });
    expect(s.url).toBe(before);
    const live = await request(new URL('/live', s.url), {
      dispatcher: pinnedAgent(s.tls.caCertPem, s.caFingerprint),
    });
    await live.body.dump();
    expect(live.statusCode).toBe(200);
    // Other settings still reload.
    await s.reload(parseServeConfig({ port: 0 }));
  });
});
