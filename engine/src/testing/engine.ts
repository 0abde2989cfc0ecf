// A local job engine with a fresh vault and a private RAM scratch, polling fast, for tests.
import { join } from 'node:path';
import { openScratch } from '../ffmpeg/scratch';
import { openJobEngine, type JobEngine, type JobEngineOptions } from '../jobs/job-engine';
import type { Job, JobSpec } from '../jobs/queue';
import { runRemote } from '../remote/remote-runner';
import { submitJob, type WorkerOptions } from '../jobs/worker';
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

/** Waits for a submitted job to finish, however it ends; starts the worker if it is idle. */
export async function jobFinished(engine: JobEngine, id: string): Promise<Job> {
  const finished = new Promise<Job>((resolve) => {
    const on = (j: Job) => {
      if (j.id !== id) return;
      engine.worker.off('finished', on);
      resolve(j);
    };
    engine.worker.on('finished', on);
  });
  if (engine.worker.activeJobs.length === 0) await engine.worker.start();
  return finished;
}

/** Submits a job into the engine's own output folder and waits for it to finish. */
export async function finishJob(engine: JobEngine, spec: Omit<JobSpec, 'outputDir'>): Promise<Job> {
  const job = await submitJob(engine.queue, { ...spec, outputDir: engine.outputRoot });
  return jobFinished(engine, job.id);
}
