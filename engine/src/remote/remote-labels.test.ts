// A job run on a paired server writes the item's title and date into its outputs as a
// local job does. They travel with the job's keys and, like them, live in the server's
// memory only: a server restarted mid-job gets them again with the keys, and its data
// folder (engine.db, uploads) and scratch never hold them.

import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { openScratch } from '../ffmpeg/scratch';
import { serveLoopback, vaultByteSource } from '../ffmpeg/input-source';
import { parseServeConfig } from '../http/serve-config';
import type { JobEngine } from '../jobs/job-engine';
import { sealJobLabels } from '../jobs/job-labels';
import type { Job } from '../jobs/queue';
import { submitJob } from '../jobs/worker';
import { pairWithServer } from '../net/pair-client';
import { createPairingCode } from '../net/pairing';
import { startServe } from '../serve/serve';
import { testEngine } from '../testing/engine';
import { filesContaining } from '../testing/marker';
import { makeClip, testScratch } from '../testing/media';
import { freshDir } from '../testing/tmp';
import { VaultFile } from '../vault/vault-file';
import { saveRemote } from './remotes';

const run = promisify(execFile);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function remoteServer(dir: string, kek: Buffer, port = 0) {
  const scratch = await testScratch();
  const server = await startServe({
    config: parseServeConfig({ port }),
    dataDir: dir,
    kek,
    scratch,
    logError: () => undefined,
    worker: { pollMs: 50, heartbeatMs: 100 },
  });
  let closed = false;
  const close = async () => {
    if (!closed) await server.close();
    closed = true;
  };
  cleanup.push(close);
  return { server, close, scratchRoot: (await openScratch(scratch)).root };
}

function finished(engine: JobEngine, id: string): Promise<Job> {
  return new Promise((resolve) => {
    const on = (job: Job) => {
      if (job.id !== id) return;
      engine.worker.off('finished', on);
      resolve(job);
    };
    engine.worker.on('finished', on);
  });
}

describe('a remote job’s title and date', () => {
  it('are written into its outputs, resent with the keys after a restart, and never at rest on the server', async () => {
    const dir = join(await freshDir(), 'server');
    const kek = randomBytes(32);
    const first = await remoteServer(dir, kek);
    const local = await testEngine({ retryBaseMs: 200, retryMaxMs: 400 });
    cleanup.push(() => local.engine.close());
    const { code } = createPairingCode(first.server.db);
    await saveRemote(
      local.dataDir,
      local.vault,
      await pairWithServer(first.server.url, code, 'laptop', 'lxc'),
    );

    const title = `Christmas KSMARK${randomBytes(8).toString('hex')}`;
    const fileId = 'fi0123456789abcdef';
    // Held on the server, so that it restarts with the job there, not yet run.
    await first.server.engine.queue.pause();
    const job = await submitJob(local.engine.queue, {
      preset: 'web-h264',
      params: { maxHeight: '360' },
      input: { kind: 'plain', path: await makeClip(local.dir, 'tape.mp4', { seconds: 1 }) },
      outputDir: local.engine.outputRoot,
      options: {
        remote: 'lxc',
        libraryFile: fileId,
        labels: sealJobLabels(local.vault, fileId, { title, date: '1989-12-24' }),
      },
    });
    const done = finished(local.engine, job.id);
    await local.engine.worker.start();
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    for (let i = 0; i < 200 && (await first.server.engine.queue.list()).length === 0; i++) {
      await sleep(50);
    }
    expect(await first.server.engine.queue.list()).toHaveLength(1);
    const port = first.server.port;
    await first.close();
    const searched = [dir, first.scratchRoot];
    const marker = Buffer.from(title);
    expect(await filesContaining(dir, Buffer.from('web-h264'))).not.toEqual([]); // the search finds what is there
    expect(await filesContaining(dir, marker)).toEqual([]);

    // Back with the same data and no keys: the desktop resends them, with the labels.
    const second = await remoteServer(dir, kek, port);
    searched.push(second.scratchRoot);
    await second.server.engine.queue.resume();
    const result = await done;
    expect(result.state, JSON.stringify(result.lastError)).toBe('succeeded');
    expect(result.attempts).toBe(1);
    expect(result.outputs.map((o) => o.labels)).toEqual([['title', 'date']]);

    const file = await VaultFile.open(result.outputs[0]!.path, { vault: local.vault });
    const served = await serveLoopback(vaultByteSource(file));
    try {
      const { stdout } = await run(
        local.engine.env.ffmpeg.ffprobePath,
        [
          ...['-v', 'error', '-protocol_whitelist', 'http,tcp'],
          ...['-show_entries', 'format_tags', '-of', 'json', served.url],
        ],
        { env: { ...served.env } },
      );
      const tags = (JSON.parse(stdout) as { format: { tags: Record<string, string> } }).format.tags;
      expect(tags).toMatchObject({
        title,
        date: '1989-12-24',
        creation_time: '1989-12-24T00:00:00.000000Z',
      });
    } finally {
      await served.close();
      await file.close();
    }

    await second.close();
    const found: string[] = [];
    for (const root of searched) found.push(...(await filesContaining(root, marker)));
    expect(found).toEqual([]);
  });
});
