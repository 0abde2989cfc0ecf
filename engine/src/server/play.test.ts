// Playback of an encrypted HLS output through the embedded engine, with FFmpeg as the
// player: the whole stream decodes, seeking to 75 % works, and Range reads decrypt
// exactly the bytes asked for.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { Job } from '../jobs/queue';
import { submitJob } from '../jobs/worker';
import { testEngine } from '../testing/engine';
import { makeClip } from '../testing/media';
import { encryptFile } from '../vault/file-ops';
import { VaultFile } from '../vault/vault-file';
import { startEmbeddedServer } from './embedded';
import { playRoutes } from './play';

const run = promisify(execFile);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('/play', () => {
  it('plays and seeks an encrypted HLS output, decrypting on the fly', async () => {
    const { dir, dataDir, vault, engine } = await testEngine();
    cleanup.push(() => engine.close());
    const clip = await makeClip(dir, 'tape.mp4', { seconds: 20, size: '640x360' });
    const input = join(dir, 'tape.ksv');
    await encryptFile(clip, input, vault);
    const job = await submitJob(engine.queue, {
      preset: 'hls-playback',
      params: { segmentSeconds: 2 },
      input: { kind: 'vault', path: input },
      outputDir: engine.outputRoot,
    });
    const done = new Promise<Job>((resolve) => engine.worker.on('finished', resolve));
    await engine.worker.start();
    expect((await done).state).toBe('succeeded');

    const server = await startEmbeddedServer({
      dataDir,
      play: playRoutes({ queue: engine.queue, vault: () => vault }),
    });
    cleanup.push(() => server.close());
    const url = `${server.url}/play/${job.id}/master.m3u8`;
    const auth = ['-headers', `Authorization: Bearer ${server.token}\r\n`];
    const ffmpeg = engine.env.ffmpeg.ffmpegPath;

    // The whole stream, every rendition the master lists, through the engine.
    const whole = await run(ffmpeg, [
      '-v',
      'error',
      ...auth,
      '-i',
      url,
      '-map',
      '0',
      '-f',
      'null',
      '-',
    ]);
    expect(whole.stderr).toBe('');
    // Seek to 75 % and decode from there: with the source's timestamps kept (-copyts), the
    // first frame decoded is at ~15 s, not 0.
    const withInfo = await run(ffmpeg, [
      ...auth,
      '-copyts',
      '-ss',
      '15',
      '-i',
      url,
      '-map',
      '0:v:0',
      '-frames:v',
      '1',
      '-vf',
      'showinfo',
      '-f',
      'null',
      '-',
    ]);
    const pts = Number(/pts_time:([\d.]+)/.exec(withInfo.stderr)?.[1]);
    expect(pts).toBeGreaterThanOrEqual(14);

    // Range: exactly the plaintext bytes asked for.
    const segment = (await engine.queue.get(job.id)).outputs.find((o) => o.name.endsWith('.ts'))!;
    const vf = await VaultFile.open(segment.path, { vault });
    const expected = await vf.read(100, 200);
    await vf.close();
    const ranged = await fetch(`${server.url}/play/${job.id}/${segment.name}`, {
      headers: { authorization: `Bearer ${server.token}`, range: 'bytes=100-199' },
    });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-type')).toBe('video/mp2t');
    expect(Buffer.from(await ranged.arrayBuffer()).equals(expected)).toBe(true);

    // No token, a name the job did not record, a traversal: refused.
    expect((await fetch(url)).status).toBe(401);
    const auth2 = { headers: { authorization: `Bearer ${server.token}` } };
    expect((await fetch(`${server.url}/play/${job.id}/nope.ts`, auth2)).status).toBe(404);
    expect(
      (await fetch(`${server.url}/play/${job.id}/..%2f..%2fvault%2fkeyring.json`, auth2)).status,
    ).toBe(404);
  });
});
