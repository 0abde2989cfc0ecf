// The desktop API as the renderer uses it, on a real embedded engine with real FFmpeg:
// vault, library, jobs with live events, playback links, pairing with a real server,
// and activity. Each step checks what the engine really did, not only the status code.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../ffmpeg/locate';
import { openScratch } from '../ffmpeg/scratch';
import { filesContaining } from '../testing/marker';
import { testScratch, makeClip } from '../testing/media';
import { freshDir } from '../testing/tmp';
import { patternBytes, startOrigin } from '../proxy/fixture-origin';
import { shortFingerprint } from '../net/fingerprint';
import { createPairingCode } from '../net/pairing';
import { startTestDesktop as desktop, until } from '../testing/desktop';
import type { DesktopJob, FileView, FolderView, ServerView } from '../net/desktop-contract';
import { startServe } from '../serve/serve';
import { parseServeConfig } from './serve-config';

const run = promisify(execFile);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Reads the job event stream until `done` says stop; returns every event's job. */
async function readEvents(
  engine: { url: string; token: string },
  done: (job: DesktopJob) => boolean,
): Promise<DesktopJob[]> {
  const res = await fetch(`${engine.url}/v1/jobs/events`, {
    headers: { authorization: `Bearer ${engine.token}` },
  });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = res.body!.getReader();
  const seen: DesktopJob[] = [];
  let buffer = '';
  for (;;) {
    const { value, done: ended } = await reader.read();
    if (ended) throw new Error('the event stream ended');
    buffer += Buffer.from(value).toString();
    let at;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!data) continue;
      const job = JSON.parse(data) as DesktopJob;
      seen.push(job);
      if (done(job)) {
        await reader.cancel();
        return seen;
      }
    }
  }
}

describe('desktop API', () => {
  it('takes a family from an empty engine to a played, encoded video', async () => {
    const engine = await desktop();
    const { api: a } = engine;
    const media = join(await freshDir(), 'Tapes 1998');
    await mkdir(join(media, 'birthday'), { recursive: true });
    // Long enough to encode for a few seconds, so progress events arrive on the way.
    await makeClip(join(media, 'birthday'), 'cake.mp4', { seconds: 30, size: '640x360' });
    await makeClip(media, 'photo.png', { still: true });
    await writeFile(join(media, 'notes.txt'), 'labels');
    const sourceBefore = await readFile(join(media, 'birthday', 'cake.mp4'));

    // Locked: the vault does not exist; jobs and encryption need it.
    expect(await a.get('/v1/vault')).toMatchObject({ exists: false, unlocked: false });
    expect((await a.call('GET', '/v1/jobs')).body).toMatchObject({ code: 'PASSWORD_REQUIRED' });

    const created = await a.post('/v1/vault', { password: 'correct horse battery staple' });
    expect(created.status).toBe(201);
    expect((created.body as { recoveryKey: string }).recoveryKey).toMatch(/^[A-Z2-7-]{40,}$/);
    expect(await a.get('/v1/vault')).toMatchObject({ exists: true, unlocked: true });

    // Library: scanned recursively, kinds counted, nothing encrypted yet.
    const added = await a.post('/v1/library', { path: media });
    expect(added.status).toBe(201);
    const folder = added.body as FolderView;
    expect(folder).toMatchObject({
      name: 'Tapes 1998',
      total: { files: 3 },
      encrypted: 0,
      encoded: 0,
      pending: 2,
    });
    expect(folder.kinds.video?.files).toBe(1);
    expect(folder.kinds.photo?.files).toBe(1);
    expect(folder.kinds.other?.files).toBe(1);
    // Adding it again is the same folder, not a second one.
    expect(((await a.post('/v1/library', { path: media })).body as FolderView).id).toBe(folder.id);
    expect((await a.post('/v1/library', { path: 'relative/path' })).status).toBe(400);
    expect((await a.post('/v1/library', { path: join(media, 'nope') })).body).toMatchObject({
      code: 'NOT_FOUND',
    });

    expect((await a.post(`/v1/library/${folder.id}/encrypt`)).status).toBe(202);
    const encrypted = await until(
      () => a.get<FolderView[]>('/v1/library'),
      (list) => list[0]!.encrypted === 2 && !list[0]!.encrypting,
    );
    expect(encrypted[0]).toMatchObject({ pending: 0 });
    const files = await a.get<FileView[]>(`/v1/library/${folder.id}/files`);
    const cake = files.find((f) => f.rel === 'birthday/cake.mp4')!;
    expect(cake).toMatchObject({ kind: 'video', encrypted: true });
    // Vault copies have opaque names; the source is untouched.
    const copies = await readdir(join(engine.session.dataDir, 'library', folder.id));
    expect(copies.sort()).toEqual(
      files
        .filter((f) => f.kind !== 'other')
        .map((f) => `${f.id}.ksv`)
        .sort(),
    );
    expect((await readFile(join(media, 'birthday', 'cake.mp4'))).equals(sourceBefore)).toBe(true);

    // A job on the encrypted file; its progress arrives as events until it succeeds.
    const notEncrypted = files.find((f) => f.kind === 'other')!;
    expect(
      (await a.post('/v1/jobs', { fileId: notEncrypted.id, preset: 'web-h264' })).body,
    ).toMatchObject({ code: 'NOT_ENCRYPTED' });
    expect(
      (await a.post('/v1/jobs', { fileId: cake.id, preset: 'web-h264', mode: 'automated' })).body,
    ).toMatchObject({ code: 'USAGE' });
    const events = readEvents(engine, (j) => j.state === 'succeeded');
    const delivered = join(await freshDir(), 'out');
    const made = await a.post('/v1/jobs', {
      fileId: cake.id,
      preset: 'web-h264',
      mode: 'automated',
      outDir: delivered,
    });
    expect(made.status).toBe(201);
    const job = made.body as DesktopJob;
    expect(job).toMatchObject({ state: 'queued', fileId: cake.id, preset: 'web-h264' });
    const seen = await events;
    // Events before the end: the job was seen on its way, not only when done.
    expect(seen.some((e) => e.id === job.id && e.state !== 'succeeded')).toBe(true);
    const done = seen.at(-1)!;
    expect(done.playUrl).toMatch(new RegExp(`^/play/[\\w-]{32}/${job.id}/[\\w.-]+\\.mp4$`));

    // The play link works without the token and decodes as video.
    const { ffmpegPath } = await locateFfmpeg();
    const decoded = await run(ffmpegPath, [
      '-v',
      'error',
      '-i',
      `${engine.url}${done.playUrl}`,
      '-f',
      'null',
      '-',
    ]);
    expect(decoded.stderr).toBe('');
    // Automated mode: decrypted into the chosen folder.
    await until(
      () => readdir(delivered).catch(() => [] as string[]),
      (names) => names.some((n) => n.endsWith('.mp4')),
      10_000,
    );

    // The library now counts the file as encoded, and lists the job beside it.
    const after = await a.get<FolderView[]>('/v1/library');
    expect(after[0]!.encoded).toBe(1);
    const cakeAfter = (await a.get<FileView[]>(`/v1/library/${folder.id}/files`)).find(
      (f) => f.id === cake.id,
    )!;
    expect(cakeAfter.jobs).toEqual([{ id: job.id, preset: 'web-h264', state: 'succeeded' }]);

    // Retry is for failed or cancelled jobs only; cancel and retry make a new job.
    expect((await a.post(`/v1/jobs/${job.id}/retry`)).status).toBe(400);
    const second = (await a.post('/v1/jobs', { fileId: cake.id, preset: 'web-h264' }))
      .body as DesktopJob;
    expect((await a.post(`/v1/jobs/${second.id}/cancel`)).status).toBe(200);
    await until(
      () => a.get<DesktopJob>(`/v1/jobs/${second.id}`),
      (j) => j.state === 'cancelled',
    );
    const retried = await a.post(`/v1/jobs/${second.id}/retry`);
    expect(retried.status).toBe(201);
    const third = retried.body as DesktopJob;
    expect(third.id).not.toBe(second.id);
    expect((await a.call('DELETE', `/v1/jobs/${third.id}`)).status).toBe(204);
    expect((await a.call('GET', `/v1/jobs/${third.id}`)).status).toBe(404);

    // Settings are checked again from their stored form: a cancelled job with a crop box
    // retries; a box larger than the picture fails when it runs, saying so, and is not
    // retried.
    const cropped = (
      await a.post('/v1/jobs', {
        fileId: cake.id,
        preset: 'vhs-restore',
        params: { crop: '16:16:0:0' },
      })
    ).body as DesktopJob;
    await a.post(`/v1/jobs/${cropped.id}/cancel`);
    // A job the worker had already started is cancelled once its FFmpeg has stopped.
    await until(
      () => a.get<DesktopJob>(`/v1/jobs/${cropped.id}`),
      (j) => j.state === 'cancelled',
    );
    const croppedAgain = await a.post(`/v1/jobs/${cropped.id}/retry`);
    expect(croppedAgain.status).toBe(201);
    await a.post(`/v1/jobs/${(croppedAgain.body as DesktopJob).id}/cancel`);
    const oversize = (
      await a.post('/v1/jobs', {
        fileId: cake.id,
        preset: 'vhs-restore',
        params: { crop: '9998:9998:0:0' },
      })
    ).body as DesktopJob;
    const failed = await until(
      () => a.get<DesktopJob>(`/v1/jobs/${oversize.id}`),
      (j) => j.state === 'failed',
      30_000,
    );
    expect(failed.lastError).toMatchObject({ code: 'INVALID_PARAMETER' });
    expect(failed.lastError?.message).toMatch(
      /the box 9998×9998 at 0,0 does not fit the \d+×\d+ picture/,
    );
    expect((await a.post(`/v1/jobs/${oversize.id}/retry`)).body).toMatchObject({
      code: 'INVALID_PARAMETER',
      message: expect.stringContaining('make a new job with other settings') as string,
    });

    // Lock: keys gone, playback refused, jobs need the password again.
    expect((await a.post('/v1/vault/lock')).status).toBe(204);
    expect((await fetch(`${engine.url}${done.playUrl}`)).status).toBe(401);
    expect((await a.post('/v1/vault/unlock', { password: 'wrong' })).body).toMatchObject({
      code: 'WRONG_PASSWORD',
    });
    expect(
      (await a.post('/v1/vault/unlock', { password: 'correct horse battery staple' })).status,
    ).toBe(204);
    expect((await fetch(`${engine.url}${done.playUrl}`)).status).toBe(200);

    const activity = await a.get<{ action: string; outcome: string }[]>('/v1/activity');
    const actions = activity.map((e) => `${e.action}:${e.outcome}`);
    // Newest first: the unlock just made leads the log.
    expect(actions[0]).toBe('vault.unlock:ok');
    for (const expected of [
      'vault.create:ok',
      'library.add:ok',
      'library.encrypt:ok',
      'job.create:ok',
      'job.succeeded:ok',
      'job.deliver:ok',
      'vault.lock:ok',
      'vault.unlock:denied',
      'vault.unlock:ok',
    ]) {
      expect(actions).toContain(expected);
    }
    // Each target is named for people: a folder by its name, a job by its file's.
    const named = activity as { action: string; name?: string }[];
    expect(named.find((e) => e.action === 'library.add')?.name).toBe('Tapes 1998');
    expect(named.find((e) => e.action === 'job.create')?.name).toBe('cake.mp4');
    expect(named.find((e) => e.action === 'vault.unlock')?.name).toBeUndefined();
  });

  it('pairs with a real server after the user compares its fingerprint', async () => {
    const engine = await desktop();
    const { api: a } = engine;
    await a.post('/v1/vault', { password: 'quiet lantern orchard' });
    const serverDir = join(await freshDir(), 'server');
    const scratch = await testScratch();
    const server = await startServe({
      config: parseServeConfig({ port: 0 }),
      dataDir: serverDir,
      kek: randomBytes(32),
      scratch,
      logError: () => undefined,
    });
    cleanup.push(() => server.close());

    const preview = await a.post('/v1/servers/preview', { url: server.url });
    expect(preview.body).toEqual({
      url: server.url,
      fingerprint: server.caFingerprint,
      // What `keepsake serve` and `pair` print as the short form.
      shortFingerprint: shortFingerprint(server.caFingerprint),
    });
    expect((await a.post('/v1/servers/preview', { url: 'http://example.com' })).status).toBe(400);

    // A fingerprint other than the server's: refused before the code is spent.
    const { code } = createPairingCode(server.db);
    const wrong = await a.post('/v1/servers', {
      name: 'nas',
      url: server.url,
      code,
      fingerprint: 'AB:'.repeat(31) + 'AB',
    });
    expect(wrong.body).toMatchObject({ code: 'SERVER_NOT_TRUSTED' });

    const paired = await a.post('/v1/servers', {
      name: 'nas',
      url: server.url,
      code,
      fingerprint: server.caFingerprint,
    });
    expect(paired.status).toBe(201);
    expect(paired.body).toMatchObject({ name: 'nas', health: { status: expect.any(String) } });
    expect((paired.body as ServerView).health.status).not.toBe('unreachable');
    const list = await a.get<ServerView[]>('/v1/servers');
    expect(list.map((s) => s.name)).toEqual(['nas']);

    // A job there: the result comes back and plays through this engine.
    const media = await freshDir();
    const marker = `KSMARK${randomBytes(10).toString('hex')}`;
    await makeClip(media, 'tape.mp4', { seconds: 3, comment: marker });
    // The search below would find it in plaintext: here it is, in the source.
    expect(await filesContaining(media, Buffer.from(marker))).toHaveLength(1);
    const folder = (await a.post('/v1/library', { path: media })).body as FolderView;
    await a.post(`/v1/library/${folder.id}/encrypt`);
    await until(
      () => a.get<FolderView[]>('/v1/library'),
      (l) => l[0]!.encrypted === 1,
    );
    const [file] = await a.get<FileView[]>(`/v1/library/${folder.id}/files`);
    const job = (await a.post('/v1/jobs', { fileId: file!.id, preset: 'web-h264', remote: 'nas' }))
      .body as DesktopJob;
    expect(job.remote).toBe('nas');
    const done = await until(
      () => a.get<DesktopJob>(`/v1/jobs/${job.id}`),
      (j) => j.state !== 'queued' && j.state !== 'running',
    );
    expect(done.state).toBe('succeeded');
    const { ffmpegPath } = await locateFfmpeg();
    const decoded = await run(ffmpegPath, [
      '-v',
      'error',
      '-i',
      `${engine.url}${done.playUrl}`,
      '-f',
      'null',
      '-',
    ]);
    expect(decoded.stderr).toBe('');
    expect(
      (await a.post('/v1/jobs', { fileId: file!.id, preset: 'web-h264', remote: 'elsewhere' }))
        .body,
    ).toMatchObject({ code: 'NOT_FOUND' });

    await server.close();
    // The server kept nothing of the input: no file of its data or scratch holds the marker.
    expect([
      ...(await filesContaining(serverDir, Buffer.from(marker))),
      ...(await filesContaining((await openScratch(scratch)).root, Buffer.from(marker))),
    ]).toEqual([]);
    const down = await a.get<ServerView[]>('/v1/servers');
    expect(down[0]!.health.status).toBe('unreachable');
    expect((await a.call('DELETE', '/v1/servers/nas')).status).toBe(204);
    expect(await a.get('/v1/servers')).toEqual([]);
  });

  it('proxies only what the settings allow, behind the token, and tells the caller its address', async () => {
    const origin = await startOrigin((_req, res) => res.end(patternBytes(1000)));
    cleanup.push(() => origin.close());
    const engine = await desktop({
      proxyAllow: [
        {
          host: '127.0.0.1',
          schemes: ['http'],
          paths: ['/media/**'],
          allowPrivate: ['127.0.0.0/8'],
        },
      ],
    });
    const auth = { headers: { authorization: `Bearer ${engine.token}` } };
    const proxied = (path: string) =>
      `${engine.url}/proxy/stream?d=${encodeURIComponent(origin.origin + path)}`;

    const ok = await fetch(proxied('/media/a.ts'), auth);
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).equals(patternBytes(1000))).toBe(true);
    expect((await fetch(proxied('/media/a.ts'))).status).toBe(401);
    // Outside the allowed paths: refused before the origin sees anything.
    const before = origin.seen.length;
    const refused = await fetch(proxied('/private/b.ts'), auth);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('DESTINATION_FORBIDDEN');
    expect(origin.seen.length).toBe(before);

    expect(await (await fetch(`${engine.url}/ip`, auth)).json()).toEqual({ ip: '127.0.0.1' });
  });

  it('refuses a settings file with a bad proxy allowlist, naming it', async () => {
    await expect(desktop({ proxyAllow: [{ host: '' }] })).rejects.toThrow(/proxyAllow|host/);
  });
});
