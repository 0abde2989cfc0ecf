// A pool on loopback, with real engines: a coordinator (`keepsake serve`, its own job
// worker stopped so every job goes to the pool), workers paired with it like desktops,
// real FFmpeg on tiny clips. A desktop's job runs on a worker and comes back decryptable
// by the desktop alone; the worker keeps neither the marker nor a key; and the worker
// API refuses what it must (a worker as a client, keys of a job not held, outputs that
// do not decrypt or verify), resumes a cut upload and discards a dead worker's outputs.

import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobEngine } from '../jobs/job-engine';
import type { Job } from '../jobs/queue';
import { submitJob } from '../jobs/worker';
import { RemoteClient } from '../net/client';
import type { JobKeysBody } from '../net/contract';
import { pairWithServer } from '../net/pair-client';
import { createPairingCode } from '../net/pairing';
import { pinnedAgent } from '../net/pinning';
import { signedHeaders } from '../net/signing';
import { WORKER_PATHS } from '../net/worker-contract';
import { saveRemote } from '../remote/remotes';
import { filesContaining } from '../testing/marker';
import { testEngine } from '../testing/engine';
import { makeClip } from '../testing/media';
import {
  capabilities,
  codeOf,
  coordinator,
  poolWorker,
  paired,
  rawWorker,
  stopAll,
  stopLater,
  submitted,
  until,
} from '../testing/pool';
import { freshDir } from '../testing/tmp';
import { decryptFile, encryptFile } from '../vault/file-ops';
import { keysFromLease, sendOutput } from './leased-job';
import { type JobSource } from './worker-loop';

afterEach(stopAll);

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

describe('a pool of encoding workers', () => {
  it("runs a desktop's job on a worker; the result decrypts on the desktop; the worker keeps no marker or key", async () => {
    const { server } = await coordinator();
    const before = new Set(await readdir(tmpdir()));
    const pool = await poolWorker(server, 'garage-pc');

    const local = await testEngine({ retryBaseMs: 200, retryMaxMs: 400 });
    stopLater(() => local.engine.close());
    const { code } = createPairingCode(server.db);
    await saveRemote(
      local.dataDir,
      local.vault,
      await pairWithServer(server.url, code, 'laptop', 'home'),
    );
    const marker = `KSMARK${randomBytes(10).toString('hex')}`;
    const clip = await makeClip(local.dir, 'tape.mp4', { comment: marker });
    const job = await submitJob(local.engine.queue, {
      preset: 'web-h264',
      params: { maxHeight: '360' },
      input: { kind: 'plain', path: clip },
      outputDir: local.engine.outputRoot,
      options: { remote: 'home' },
    });
    const done = finished(local.engine, job.id);
    await local.engine.worker.start();
    const result = await done;
    expect(result.state, JSON.stringify(result.lastError)).toBe('succeeded');
    // Recorded once the coordinator has answered: possibly after the job reads as done.
    await until('the worker to record the end', () => pool.ended.length > 0);
    expect(pool.ended.map((e) => e.err)).toEqual([undefined]);
    expect(pool.client.leases).toHaveLength(1);

    const plain = join(local.dir, 'web.mp4');
    await decryptFile(result.outputs[0]!.path, plain, { vault: local.vault });
    expect((await readFile(plain)).includes(Buffer.from(marker))).toBe(true);

    // The coordinator saw the worker and what it can run.
    const seen = server.pool.seen();
    expect(seen.map((w) => w.name)).toEqual(['garage-pc']);
    expect(seen[0]!.capabilities.encoders).toContain('libx264');

    // Neither the marker nor the job's keys anywhere the worker writes.
    await pool.worker.stop();
    const lease = pool.client.leases[0]!;
    const secrets = [
      Buffer.from(marker),
      Buffer.from(lease.input, 'base64'),
      Buffer.from(lease.input),
      Buffer.from(lease.output.key, 'base64'),
      Buffer.from(lease.output.key),
    ];
    // Every folder made in the temporary folder meanwhile, but the desktop's own (which
    // holds the clip and the decrypted result on purpose).
    const created = (await readdir(tmpdir()))
      .filter((name) => !before.has(name))
      .map((name) => join(tmpdir(), name))
      .filter((path) => !local.dir.startsWith(path) && !local.dataDir.startsWith(path));
    for (const secret of secrets) {
      const hits: string[] = [];
      for (const root of [pool.dataDir, pool.scratchRoot, ...created]) {
        hits.push(...(await filesContaining(root, secret)));
      }
      expect(hits).toEqual([]);
    }
  });

  it('refuses a worker credential used as a client, and a client or admin on the worker API', async () => {
    const { server } = await coordinator();
    const worker = await rawWorker(server, 'w1');
    expect(await codeOf(worker.client.jobs())).toBe('FORBIDDEN');
    expect(await codeOf(worker.client.createUpload(10))).toBe('FORBIDDEN');
    expect(await codeOf(worker.client.call('GET', '/v1/presets'))).toBe('FORBIDDEN');

    const { client } = await paired(server, 'client', 'laptop');
    expect(await codeOf(client.call('POST', WORKER_PATHS.claim))).toBe('FORBIDDEN');
    const admin = server.credentials.add('root', 'admin');
    const asAdmin = new RemoteClient({
      url: server.url,
      clientId: admin.clientId,
      key: admin.key,
      caCertPem: server.tls.caCertPem,
      caFingerprint: server.caFingerprint,
    });
    stopLater(() => asAdmin.close());
    expect(await codeOf(asAdmin.call('POST', WORKER_PATHS.claim))).toBe('FORBIDDEN');
  });

  it('refuses and audits a lease, a read or an upload for a job the worker does not hold', async () => {
    const { server } = await coordinator();
    const { id } = await submitted(server);
    const thief = await rawWorker(server, 'thief');
    expect(await codeOf(thief.client.call('POST', WORKER_PATHS.lease(id)))).toBe('FORBIDDEN');
    expect(await codeOf(thief.client.bytes('GET', WORKER_PATHS.input(id)))).toBe('FORBIDDEN');
    expect(thief.client.leases).toEqual([]);

    // Held by another worker: still refused to this one.
    const holder = await rawWorker(server, 'holder');
    expect((await holder.claim())?.id).toBe(id);
    expect(await codeOf(thief.client.call('POST', WORKER_PATHS.lease(id)))).toBe('FORBIDDEN');
    expect(await codeOf(holder.client.call('POST', WORKER_PATHS.lease(id)))).toBe('ok');

    const denied = server.audit
      .query({ limit: 100 })
      .filter((e) => e.action === 'worker.lease' && e.outcome === 'denied');
    expect(denied.map((e) => [e.actor, e.target])).toEqual([
      ['thief', id],
      ['thief', id],
    ]);
  });

  it('hands a job only to a worker that can run it; progress and cancels travel by heartbeat', async () => {
    const { server } = await coordinator();
    const { id, client } = await submitted(server);
    const full = await capabilities();
    const lacking = await rawWorker(server, 'no-x264', {
      ...full,
      encoders: full.encoders.filter((e) => e !== 'libx264'),
    });
    expect(await lacking.claim()).toBeUndefined();
    const able = await rawWorker(server, 'able');
    expect((await able.claim())?.id).toBe(id);

    expect(await able.heartbeat([{ id, percent: 42, fps: 30 }])).toEqual({ stop: [] });
    const view = await client.job(id);
    expect(view.state).toBe('running');
    expect(view.progress?.percent).toBe(42);

    await client.cancel(id);
    expect(await able.heartbeat([{ id, percent: 50 }])).toEqual({ stop: [id] });
    // Someone else's job in a heartbeat is not renewed for it, and it is told to stop.
    expect(await lacking.heartbeat([{ id, percent: 1 }])).toEqual({ stop: [id] });
    // The worker says it stopped: the job ends cancelled.
    await able.client.call('POST', WORKER_PATHS.fail(id), {
      json: { code: 'JOB_CANCELLED', message: 'stopped' },
    });
    expect((await client.job(id)).state).toBe('cancelled');
  });

  it('refuses outputs that do not decrypt or do not verify, and the job is finished by another worker', async () => {
    const { server } = await coordinator();
    const { id, client } = await submitted(server);

    // One worker sends bytes that are not ciphertext of the job's key at all.
    const garbage = await rawWorker(server, 'garbage');
    expect((await garbage.claim())?.id).toBe(id);
    const junk = randomBytes(4096);
    await garbage.client.call('PUT', WORKER_PATHS.output(id, 'web.mp4'), {
      body: junk,
      headers: { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
    });
    const refusal = garbage.client.call('POST', WORKER_PATHS.finish(id), {
      json: { outputs: [{ name: 'web.mp4', size: junk.length }], notes: [] },
    });
    expect(await codeOf(refusal)).toBe('OUTPUT_CHECK_FAILED');
    expect((await server.engine.queue.get(id)).state).toBe('queued');
    // The refused worker is not handed the job again.
    expect(await garbage.claim()).toBeUndefined();

    // Another encrypts under the job's own key, but something that is not the video.
    const liar = await rawWorker(server, 'liar');
    expect((await liar.claim())?.id).toBe(id);
    const keys = keysFromLease(
      (await liar.client.call<JobKeysBody>('POST', WORKER_PATHS.lease(id))).body,
    );
    const dir = await freshDir();
    await writeFile(join(dir, 'web.mp4'), 'not a video at all');
    const sealed = join(dir, 'web.mp4.ksv');
    const { storedSize } = await encryptFile(join(dir, 'web.mp4'), sealed, keys.output);
    const abort = new AbortController();
    await sendOutput({ client: liar.client }, id, 'web.mp4', sealed, abort.signal);
    const lie = liar.client.call('POST', WORKER_PATHS.finish(id), {
      json: { outputs: [{ name: 'web.mp4', size: storedSize }], notes: [] },
    });
    expect(await codeOf(lie)).toBe('OUTPUT_CHECK_FAILED');

    const refused = server.audit
      .query({ limit: 100 })
      .filter((e) => e.action === 'worker.finish' && e.outcome === 'denied');
    expect(refused.map((e) => e.actor).sort()).toEqual(['garbage', 'liar']);

    // An honest worker then runs it, and the client's result is the real one.
    const honest = await poolWorker(server, 'honest');
    const view = await client.waitFor(id, undefined, 100);
    expect(view.state).toBe('succeeded');
    // Recorded once the coordinator has answered: possibly after the job reads as done.
    await until('the worker to record the end', () => honest.ended.length > 0);
    expect(honest.ended.map((e) => e.err)).toEqual([undefined]);
  });

  it('resumes an output upload cut mid-chunk from where the coordinator says it stands', async () => {
    const { server } = await coordinator();
    const { id } = await submitted(server);
    const worker = await rawWorker(server, 'flaky');
    expect((await worker.claim())?.id).toBe(id);
    const dir = await freshDir();
    const file = join(dir, 'out.ksv');
    const bytes = randomBytes(200 * 1024);
    await writeFile(file, bytes);
    const put = (offset: number, body: Buffer) =>
      worker.client.call('PUT', WORKER_PATHS.output(id, 'web.mp4'), {
        body,
        headers: {
          'content-type': 'application/offset+octet-stream',
          'upload-offset': String(offset),
        },
      });
    await put(0, bytes.subarray(0, 50 * 1024));
    // A chunk at the wrong offset is refused, not written.
    expect(await codeOf(put(10, bytes.subarray(10, 20)))).toBe('UPLOAD_OFFSET_MISMATCH');

    // The connection drops halfway through the next chunk.
    const chunk = bytes.subarray(50 * 1024, 150 * 1024);
    const path = `${WORKER_PATHS.output(id, 'web.mp4')}?nonce=${randomBytes(9).toString('base64url')}`;
    const sha256Hex = createHash('sha256').update(chunk).digest('hex');
    const agent = pinnedAgent(server.tls.caCertPem, server.caFingerprint);
    stopLater(() => agent.close());
    const cut = new Readable({ read() {} });
    cut.push(chunk.subarray(0, chunk.length / 2));
    setTimeout(() => cut.destroy(new Error('cable pulled')), 100);
    await request(new URL(path, server.url), {
      method: 'PUT',
      dispatcher: agent,
      body: cut,
      headers: {
        ...signedHeaders(
          worker.remote.clientId,
          worker.remote.key,
          'PUT',
          path,
          { sha256Hex },
          Math.floor(Date.now() / 1000),
        ),
        'content-type': 'application/offset+octet-stream',
        'content-length': String(chunk.length),
        'upload-offset': String(50 * 1024),
      },
    }).catch(() => undefined);
    const state = await until('the cut chunk to be let go', async () => {
      const s = await worker.client.call<{ offset: number }>(
        'GET',
        WORKER_PATHS.output(id, 'web.mp4'),
      );
      return s.body;
    });
    expect(state.offset).toBe(50 * 1024);

    // The worker's own upload resumes from there and the coordinator holds the whole file.
    await sendOutput(
      { client: worker.client, chunkBytes: 64 * 1024 },
      id,
      'web.mp4',
      file,
      new AbortController().signal,
    );
    expect((await readFile(server.pool.outputs.path(id, 'web.mp4'))).equals(bytes)).toBe(true);
  });

  it("discards a dead worker's partial outputs when its job goes to another", async () => {
    const { server } = await coordinator(1500);
    const { id } = await submitted(server);
    const dead = await rawWorker(server, 'dead');
    expect((await dead.claim())?.id).toBe(id);
    await dead.client.call('PUT', WORKER_PATHS.output(id, 'web.mp4'), {
      body: randomBytes(1000),
      headers: { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
    });
    expect(await server.pool.outputs.offset(id, 'web.mp4')).toBe(1000);
    // It stops sending heartbeats; once its hold runs out the job is free again.
    await new Promise((r) => setTimeout(r, 1700));
    expect(await server.pool.holds(dead.remote.clientId, id)).toBe(false);
    expect(await codeOf(dead.client.call('POST', WORKER_PATHS.lease(id)))).toBe('FORBIDDEN');
    const next = await rawWorker(server, 'next');
    expect((await next.claim())?.id).toBe(id);
    expect(await server.pool.outputs.offset(id, 'web.mp4')).toBe(0);
  });

  it('takes no job while the coordinator cannot be reached', async () => {
    const { server, close } = await coordinator();
    let asked = 0;
    const source: JobSource = {
      next: async () => {
        asked += 1;
        return undefined;
      },
    };
    const pool = await poolWorker(server, 'cut-off', source);
    expect(pool.worker.reachable).toBe(true);
    await until('the worker to ask for a job', () => asked > 0);
    await close();
    await until('the worker to notice', () => !pool.worker.reachable);
    const asksThen = asked;
    await new Promise((r) => setTimeout(r, 600));
    expect(asked).toBe(asksThen);
  });
});
