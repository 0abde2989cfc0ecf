// A server that leaves every job to its pool's workers (concurrency 0) refuses a tape's
// analysis at once, in words: its workers run presets only, and the job would otherwise
// wait in the queue for ever.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TAPE_ANALYSIS } from '../../jobs/tape-job';
import { startServe } from '../../serve/serve';
import { testScratch } from '../../testing/media';
import { stopAll, stopLater, submitted } from '../../testing/pool';
import { freshDir } from '../../testing/tmp';
import { parseServeConfig } from '../serve-config';

afterEach(stopAll);

describe('a tape analysis sent to a server that runs no job itself', () => {
  it('is refused in words, and nothing is queued', async () => {
    const server = await startServe({
      config: parseServeConfig({ port: 0, concurrency: 0 }),
      dataDir: join(await freshDir(), 'server'),
      kek: randomBytes(32),
      scratch: await testScratch(),
      logError: () => undefined,
    });
    stopLater(() => server.close());
    const created = submitted(server, undefined, {}, TAPE_ANALYSIS);
    await expect(created).rejects.toMatchObject({
      code: 'FEATURE_UNAVAILABLE',
      message: expect.stringMatching(/cannot look through a tape yet/),
    });
    expect(await server.engine.queue.list()).toEqual([]);
  }, 60_000);
});
