// A worker's settings file: a heartbeat slower than a third of the BullMQ lock would lose
// every job it takes to the stalled-job check, so it is refused when read.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDir } from '../testing/tmp';
import { readWorkerConfig } from './worker-config';

const base = {
  coordinator: 'https://coordinator.lan:8443',
  clientId: 'cattic',
  key: 'k'.repeat(43),
  caFingerprint: 'ab'.repeat(32),
};

async function written(config: object): Promise<string> {
  const path = join(await freshDir(), 'worker.json');
  await writeFile(path, JSON.stringify(config));
  return path;
}

describe('readWorkerConfig', () => {
  it('takes a heartbeat of up to 5 s and refuses a slower one, naming the field', async () => {
    expect(await readWorkerConfig(await written({ ...base, heartbeatSeconds: 5 }))).toMatchObject({
      heartbeatSeconds: 5,
    });
    await expect(
      readWorkerConfig(await written({ ...base, heartbeatSeconds: 30 })),
    ).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/heartbeatSeconds/) });
  });
});
