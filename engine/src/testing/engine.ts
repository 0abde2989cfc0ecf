// A local job engine with a fresh vault and a private RAM scratch, polling fast, for tests.
import { join } from 'node:path';
import { openScratch } from '../ffmpeg/scratch';
import { openJobEngine, type JobEngineOptions } from '../jobs/job-engine';
import { runRemote } from '../remote/remote-runner';
import type { WorkerOptions } from '../jobs/worker';
import { createVault } from '../vault/keyring';
import { testScratch } from './media';
import { TEST_SCRYPT, freshDir } from './tmp';

export async function testEngine(
  worker: Partial<Omit<WorkerOptions, 'concurrency' | 'cleanup'>> = {},
  extra: Pick<JobEngineOptions, 'remoteChunkBytes' | 'ffmpeg'> = {},
) {
  const dir = await freshDir();
  const dataDir = join(dir, 'data');
  const { vault } = await createVault(join(dataDir, 'vault'), 'pw', {
    scrypt: TEST_SCRYPT,
    recovery: false,
  });
  const scratchOptions = await testScratch();
  const engine = await openJobEngine({
    dataDir,
    keys: { vault },
    runRemote,
    scratch: scratchOptions,
    concurrency: 1,
    worker: { pollMs: 50, heartbeatMs: 100, ...worker },
    ...extra,
  });
  const scratchRoot = (await openScratch(scratchOptions)).root;
  return { dir, dataDir, vault, engine, scratchRoot };
}
