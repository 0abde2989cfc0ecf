// A server that leaves every job to its pool's workers (concurrency 0) refuses a tape's
// analysis at once, in words: its workers run presets only, and the job would otherwise
// wait in the queue for ever.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TAPE_ANALYSIS } from '../../jobs/tape-job';
import { jobOutputVault } from '../../vault/keyring';
import { startServe } from '../../serve/serve';
import { makeClip, testScratch } from '../../testing/media';
import { testEngine } from '../../testing/engine';
import { paired, stopAll, stopLater } from '../../testing/pool';
import { freshDir } from '../../testing/tmp';
import { encryptFile } from '../../vault/file-ops';
import { VaultFile } from '../../vault/vault-file';
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
    const local = await testEngine();
    stopLater(() => local.engine.close());
    const { client } = await paired(server, 'client', 'laptop');
    const sealed = join(local.dir, 'tape.ksv');
    await encryptFile(await makeClip(local.dir, 'tape.mp4'), sealed, local.vault);
    const file = await VaultFile.open(sealed, { vault: local.vault });
    const inputKey = file.fileKey.toString('base64');
    await file.close();
    const upload = await client.uploadFile(sealed);
    const out = jobOutputVault(local.vault, 'j-tape');
    const created = client.createJob({
      input: { upload: upload.id },
      preset: TAPE_ANALYSIS,
      params: {},
      mode: 'automated',
      priority: 0,
      thorough: false,
      keys: {
        input: inputKey,
        output: {
          vaultId: out.vaultId,
          keyId: out.masterKeyId,
          key: out.masterKey.toString('base64'),
        },
      },
    });
    await expect(created).rejects.toMatchObject({
      code: 'FEATURE_UNAVAILABLE',
      message: expect.stringMatching(/cannot look through a tape yet/),
    });
    expect(await client.jobs()).toEqual([]);
  }, 60_000);
});
