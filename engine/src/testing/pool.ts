// Shared by the pool's tests: a coordinator on loopback (`keepsake serve`, its own job
// worker stopped so every job goes to the pool), workers and clients paired with it, a
// job submitted as a paired desktop would, and a raw worker that does only what a test
// makes it do.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { isKeepsakeError } from '../core/errors';
import { locateFfmpeg } from '../ffmpeg/locate';
import { openScratch } from '../ffmpeg/scratch';
import { parseServeConfig } from '../http/serve-config';
import { RemoteClient } from '../net/client';
import type { JobKeysBody } from '../net/contract';
import { pairWithServer } from '../net/pair-client';
import { createPairingCode } from '../net/pairing';
import {
  WORKER_PATHS,
  type ClaimReply,
  type HeartbeatBody,
  type HeartbeatReply,
  type WorkerCapabilities,
} from '../net/worker-contract';
import { detectCapabilities } from '../pool/capabilities';
import { leasedJobRunner } from '../pool/leased-job';
import { PoolWorker, type JobSource } from '../pool/worker-loop';
import { startServe, type RunningServer } from '../serve/serve';
import { encryptFile } from '../vault/file-ops';
import { jobOutputVault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import { testEngine } from './engine';
import { makeClip, testScratch, type ClipOptions } from './media';
import { freshDir } from './tmp';

/** What the helpers started, stopped in reverse by the test file's afterEach (`stopAll`). */
const cleanup: (() => Promise<void>)[] = [];
export async function stopAll(): Promise<void> {
  for (const c of cleanup.splice(0).reverse()) await c();
}

/** Stops this too at the end of the test. */
export const stopLater = (stop: () => Promise<void>) => cleanup.push(stop);

let caps: WorkerCapabilities | undefined;
export async function capabilities(): Promise<WorkerCapabilities> {
  caps ??= await detectCapabilities((await locateFfmpeg()).ffmpegPath, { threads: 1 });
  return caps;
}

export async function coordinator(leaseMs = 20_000) {
  const dir = join(await freshDir(), 'server');
  const server = await startServe({
    config: parseServeConfig({ port: 0 }),
    dataDir: dir,
    kek: randomBytes(32),
    scratch: await testScratch(),
    logError: () => undefined,
    worker: { pollMs: 50, heartbeatMs: 100 },
    pool: { leaseMs },
  });
  let closed = false;
  const close = async () => {
    if (!closed) await server.close();
    closed = true;
  };
  cleanup.push(close);
  // The coordinator runs nothing itself here: every job must go to the pool.
  await server.engine.worker.stop();
  return { server, dir, close };
}

/** A client that remembers every lease it was answered (the job keys to search for). */
export class LeaseSpy extends RemoteClient {
  readonly leases: JobKeysBody[] = [];
  override async call<T>(...args: Parameters<RemoteClient['call']>) {
    const answer = await super.call<T>(...args);
    if (args[0] === 'POST' && args[1].endsWith('/lease')) {
      this.leases.push(answer.body as JobKeysBody);
    }
    return answer;
  }
}

export async function paired(server: RunningServer, role: 'worker' | 'client', name: string) {
  const { code } = createPairingCode(server.db, { role });
  const remote = await pairWithServer(server.url, code, name, name);
  const client = new LeaseSpy(remote);
  cleanup.push(() => client.close());
  return { remote, client };
}

export async function poolWorker(server: RunningServer, name: string, source?: JobSource) {
  const { client } = await paired(server, 'worker', name);
  const dataDir = join(await freshDir(), 'worker');
  const scratch = await openScratch(await testScratch());
  const capabilities_ = await capabilities();
  const ended: { id: string; err?: unknown }[] = [];
  const worker = new PoolWorker({
    client,
    capabilities: capabilities_,
    run: leasedJobRunner({
      client,
      dataDir,
      ffmpeg: await locateFfmpeg(),
      capabilities: capabilities_,
      scratch,
      rangeBytes: 64 * 1024,
      chunkBytes: 64 * 1024,
    }),
    source,
    heartbeatMs: 200,
    pollMs: 50,
    onJobEnd: (id, err) => ended.push({ id, err }),
  });
  await worker.start();
  cleanup.push(() => worker.stop());
  return { worker, client, dataDir, scratchRoot: scratch.root, ended };
}

/** A job submitted to the coordinator by a client, as a paired desktop would. */
export async function submitted(
  server: RunningServer,
  clipOptions?: ClipOptions,
  params: Record<string, string> = { maxHeight: '360' },
  preset = 'web-h264',
) {
  const local = await testEngine();
  cleanup.push(() => local.engine.close());
  const { client } = await paired(server, 'client', `laptop-${randomBytes(3).toString('hex')}`);
  const clip = await makeClip(local.dir, 'tape.mp4', clipOptions);
  const sealed = join(local.dir, 'tape.ksv');
  await encryptFile(clip, sealed, local.vault);
  const file = await VaultFile.open(sealed, { vault: local.vault });
  const inputKey = file.fileKey.toString('base64');
  await file.close();
  const upload = await client.uploadFile(sealed);
  const out = jobOutputVault(local.vault, 'j-pool-test');
  const view = await client.createJob({
    input: { upload: upload.id },
    preset,
    params,
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
  return { id: view.id, client, local };
}

export const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (isKeepsakeError(e) ? e.code : String(e)),
  );

export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A raw worker: announces itself, then does only what the test makes it do. */
export async function rawWorker(server: RunningServer, name: string, caps?: WorkerCapabilities) {
  const { remote, client } = await paired(server, 'worker', name);
  const announced = caps ?? (await capabilities());
  const heartbeat = async (running: HeartbeatBody['running'] = []) =>
    (
      await client.call<HeartbeatReply>('POST', WORKER_PATHS.heartbeat, {
        json: { capabilities: announced, running },
      })
    ).body;
  await heartbeat();
  const claim = async () =>
    (await client.call<ClaimReply>('POST', WORKER_PATHS.claim)).body.job ?? undefined;
  return { remote, client, claim, heartbeat };
}
