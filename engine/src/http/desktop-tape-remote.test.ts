// A tape on a paired server, through the desktop API, with a real `keepsake serve` on
// loopback and real FFmpeg on a generated tape (testing/tape-media.ts):
// - its analysis runs there, from the encrypted upload, and finds what one on this
//   computer finds; the server's data folder never holds the tape or the analysis in the
//   clear, only the analysis sealed with the job's output key;
// - a whole-tape copy made there carries the saved clips as chapters, whose titles reach
//   the server with the job's keys (memory only) and never its disk.
//
// The server's folders are searched at the moment its job finishes, synchronously (both
// engines share this process, so nothing can move on while it runs), and again at the end.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { serveLoopback, vaultByteSource } from '../ffmpeg/input-source';
import { openScratch } from '../ffmpeg/scratch';
import type { Job } from '../jobs/queue';
import type { DesktopJob, LibraryItem } from '../net/desktop-contract';
import type { TapeAnalysisView } from '../net/desktop-tape-contract';
import { RemoteClient } from '../net/client';
import { pairWithServer } from '../net/pair-client';
import { createPairingCode } from '../net/pairing';
import { getRemote, saveRemote } from '../remote/remotes';
import { startServe } from '../serve/serve';
import { TEST_PASSWORD, startTestDesktop, until, type TestDesktop } from '../testing/desktop';
import { filesContaining } from '../testing/marker';
import { testScratch } from '../testing/media';
import { makeTape } from '../testing/tape-media';
import { freshDir } from '../testing/tmp';
import { VaultFile } from '../vault/vault-file';
import { parseServeConfig } from './serve-config';

const run = promisify(execFile);
const analysisPath = (id: string) => `/v1/library/files/${id}/tape-analysis`;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Every file under `roots` holding `needle`, read synchronously (see the top). */
function holdingNow(roots: string[], needle: Buffer): string[] {
  const hits: string[] = [];
  for (const root of roots) {
    for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
      const path = join(e.parentPath, e.name);
      if (e.isFile() && readFileSync(path).includes(needle)) hits.push(path);
    }
  }
  return hits;
}

/** A desktop with a tape in its library, paired with a fresh server named `lxc`. */
async function desktopAndServer() {
  const serverDir = join(await freshDir(), 'server');
  const scratch = await testScratch();
  const server = await startServe({
    config: parseServeConfig({ port: 0 }),
    dataDir: serverDir,
    kek: randomBytes(32),
    scratch,
    logError: () => undefined,
    worker: { pollMs: 50, heartbeatMs: 100 },
  });
  closers.push(() => server.close());
  const serverRoots = [serverDir, (await openScratch(scratch)).root];

  const desktop: TestDesktop = await startTestDesktop();
  const { api } = desktop;
  await api.post('/v1/vault', { password: TEST_PASSWORD });
  const { code } = createPairingCode(server.db);
  await saveRemote(
    desktop.session.dataDir,
    desktop.session.requireVault(),
    await pairWithServer(server.url, code, 'laptop', 'lxc'),
  );
  const media = join(await freshDir(), 'Tapes');
  await mkdir(media);
  const tapePath = await makeTape(media, 'christmas.ts');
  await api.post('/v1/library', { path: media });
  const [tape] = await until(
    () => api.get<{ items: LibraryItem[] }>('/v1/library/items').then((r) => r.items),
    (list) => list.length === 1 && list[0]!.capturedAt !== undefined,
  );
  return { server, serverRoots, desktop, api, media, tapePath, tape: tape! };
}

/** What the server's folders hold when its next job finishes. */
function atServerFinish(
  server: Awaited<ReturnType<typeof startServe>>,
  look: (job: Job) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const on = (job: Job) => {
      server.engine.worker.off('finished', on);
      try {
        look(job);
        resolve();
      } catch (err) {
        reject(err as Error);
      }
    };
    server.engine.worker.on('finished', on);
  });
}

describe('a tape on a paired server', () => {
  it('is analysed there from its ciphertext, finding what this computer finds', async () => {
    const { server, serverRoots, desktop, api, media, tapePath, tape } = await desktopAndServer();
    // A stretch of the tape's own bytes: any plaintext copy of the tape holds it.
    const bytes = await readFile(tapePath);
    const plaintext = bytes.subarray(bytes.length >> 1, (bytes.length >> 1) + 64);
    expect(await filesContaining(media, plaintext)).toEqual([tapePath]); // the search can find it
    const clear = Buffer.from('"fieldOrder":"tff"');

    let sealedOnServer: string[] = [];
    const seen = atServerFinish(server, (job) => {
      expect(job.state, JSON.stringify(job.lastError)).toBe('succeeded');
      expect(job.preset).toBe('tape-analysis');
      sealedOnServer = job.outputs.map((o) => o.path);
      expect(holdingNow(serverRoots, plaintext)).toEqual([]);
      expect(holdingNow(serverRoots, clear)).toEqual([]);
    });

    // The server takes a tape analysis as it is: no parameters ride along.
    const client = new RemoteClient(
      await getRemote(desktop.session.dataDir, desktop.session.requireVault(), 'lxc'),
    );
    const withParams = client.createJob({
      input: { upload: `u${'a'.repeat(20)}` },
      preset: 'tape-analysis',
      params: { threads: 2 },
      mode: 'manual',
      priority: 0,
      thorough: false,
      keys: {
        input: randomBytes(32).toString('base64'),
        output: {
          vaultId: randomBytes(16).toString('hex'),
          keyId: 'k1',
          key: randomBytes(32).toString('base64'),
        },
      },
    });
    await expect(withParams).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
    await client.close();

    const unknown = await api.post(analysisPath(tape.id), { remote: 'attic' });
    expect(unknown.body).toMatchObject({ code: 'NOT_FOUND' });
    const started = await api.post(analysisPath(tape.id), { remote: 'lxc' });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const remote = await until(
      () => api.get<TapeAnalysisView>(analysisPath(tape.id)),
      (v) => v.state !== 'queued' && v.state !== 'running',
      120_000,
    );
    await seen;
    expect(remote.state, JSON.stringify(remote.error)).toBe('succeeded');
    // It was the server's: its sealed analysis was there, and the job says where it ran.
    expect(sealedOnServer.map((p) => p.endsWith('analysis.json.ksv'))).toEqual([true]);
    const ran = await api.get<DesktopJob>(`/v1/jobs/${remote.jobId!}`);
    expect(ran.notes.join(' ')).toContain('ran on lxc');
    expect(remote.analysis!.cuts.map((c) => Math.round(c.at))).toEqual([9, 19, 25]);
    expect(JSON.stringify(remote.analysis)).toContain(clear.toString()); // the needle is apt

    // The same tape analysed on this computer finds the same.
    const again = await api.post(analysisPath(tape.id));
    expect((again.body as TapeAnalysisView).jobId).not.toBe(remote.jobId);
    const local = await until(
      () => api.get<TapeAnalysisView>(analysisPath(tape.id)),
      (v) => v.jobId !== remote.jobId && v.state !== 'queued' && v.state !== 'running',
      120_000,
    );
    expect(local.state, JSON.stringify(local.error)).toBe('succeeded');
    const { cuts, fieldOrder, crop } = local.analysis!;
    expect({ fieldOrder, crop }).toEqual({
      fieldOrder: remote.analysis!.fieldOrder,
      crop: remote.analysis!.crop,
    });
    expect(cuts.map((c) => c.reasons)).toEqual(remote.analysis!.cuts.map((c) => c.reasons));
    for (const [i, cut] of cuts.entries()) {
      expect(Math.abs(cut.at - remote.analysis!.cuts[i]!.at)).toBeLessThanOrEqual(0.05);
    }

    // The server kept nothing of it.
    await server.close();
    for (const needle of [plaintext, clear]) {
      for (const root of serverRoots) expect(await filesContaining(root, needle)).toEqual([]);
    }
    expect(await readdir(join(serverRoots[0]!, 'outputs')).catch(() => [])).toEqual([]);
  }, 300_000);

  it('copies a whole tape there with its saved clips as chapters, titles never on its disk', async () => {
    const { server, serverRoots, desktop, api, tape } = await desktopAndServer();
    const mark = `KSMARK${randomBytes(8).toString('hex')}`;
    const titles = [`Christmas ${mark}`, `Beach ${mark}`, `Birthday; "candles" = 3 ${mark}`];
    const saved = await api.call('PUT', `/v1/library/files/${tape.id}/clips`, {
      basedOn: 0,
      clips: [
        { start: 0, end: 8, title: titles[0] },
        { start: 9.6, end: 17.6, title: titles[1] },
        { start: 19, end: 25, title: titles[2] },
        { start: 25, end: 32.4 },
      ],
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);

    const needle = Buffer.from(mark);
    const seen = atServerFinish(server, (job) => {
      expect(job.state, JSON.stringify(job.lastError)).toBe('succeeded');
      expect(holdingNow(serverRoots, needle)).toEqual([]);
    });
    const made = await api.post('/v1/jobs', {
      fileId: tape.id,
      preset: 'remux',
      params: { container: 'mkv' },
      remote: 'lxc',
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const job = await until(
      () => api.get<DesktopJob>(`/v1/jobs/${(made.body as DesktopJob).id}`),
      (j) => j.state !== 'queued' && j.state !== 'running',
      120_000,
    );
    await seen;
    expect(job.state, JSON.stringify(job.lastError)).toBe('succeeded');
    expect(job.notes.join(' ')).toContain('ran on lxc');

    const full = await desktop.session.requireEngine().queue.get(job.id);
    const vault = desktop.session.requireVault();
    const file = await VaultFile.open(full!.outputs[0]!.path, { vault });
    const served = await serveLoopback(vaultByteSource(file));
    let chapters: { start_time: string; end_time: string; tags: { title: string } }[];
    try {
      const { stdout } = await run(
        desktop.session.requireEngine().env.ffmpeg.ffprobePath,
        [
          ...['-v', 'error', '-protocol_whitelist', 'http,tcp'],
          ...['-show_chapters', '-of', 'json', served.url],
        ],
        { env: { ...served.env } },
      );
      chapters = (JSON.parse(stdout) as { chapters: typeof chapters }).chapters;
    } finally {
      await served.close();
      await file.close();
    }
    expect(chapters.map((c) => [Number(c.start_time), Number(c.end_time), c.tags.title])).toEqual([
      [0, 8, titles[0]],
      [9.6, 17.6, titles[1]],
      [19, 25, titles[2]],
      [25, 32.4, 'Clip 4'],
    ]);

    await server.close();
    for (const root of serverRoots) expect(await filesContaining(root, needle)).toEqual([]);
  }, 300_000);
});
