// Playback of an encrypted HLS output through the embedded engine, with FFmpeg as the
// player: the whole stream decodes, seeking to 75 % works, and Range reads decrypt
// exactly the bytes asked for.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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
import { playCapability, playPath, playRoutes } from './play';

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

    const secret = randomBytes(32);
    const server = await startEmbeddedServer({
      dataDir,
      play: playRoutes({ job: (id) => engine.queue.get(id), vault: () => vault, secret }),
    });
    cleanup.push(() => server.close());
    const finished = await engine.queue.get(job.id);
    // The capability URL the API hands out: no token needed, as for <video> and hls.js.
    expect(playPath(secret, finished)).toBe(
      `/play/${playCapability(secret, job.id)}/${job.id}/master.m3u8`,
    );
    const base = `${server.url}/play/${playCapability(secret, job.id)}/${job.id}`;
    const url = `${server.url}${playPath(secret, finished)}`;
    const ffmpeg = engine.env.ffmpeg.ffmpegPath;

    // The whole stream, every rendition the master lists, through the engine.
    const whole = await run(ffmpeg, ['-v', 'error', '-i', url, '-map', '0', '-f', 'null', '-']);
    expect(whole.stderr).toBe('');
    // Seek to 75 % and decode from there: with the source's timestamps kept (-copyts), the
    // first frame decoded is at ~15 s, not 0.
    const withInfo = await run(ffmpeg, [
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
    const ranged = await fetch(`${base}/${segment.name}`, {
      headers: { range: 'bytes=100-199' },
    });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-type')).toBe('video/mp2t');
    expect(Buffer.from(await ranged.arrayBuffer()).equals(expected)).toBe(true);

    // A forged or another job's capability, a name the job did not record, a traversal:
    // refused.
    const forged = `${server.url}/play/${'A'.repeat(32)}/${job.id}/master.m3u8`;
    expect((await fetch(forged)).status).toBe(401);
    const otherCap = `${server.url}/play/${playCapability(secret, 'jaaaaaaaaaaaa')}/${job.id}/master.m3u8`;
    expect((await fetch(otherCap)).status).toBe(401);
    const otherSecret = `${server.url}/play/${playCapability(randomBytes(32), job.id)}/${job.id}/master.m3u8`;
    expect((await fetch(otherSecret)).status).toBe(401);
    expect((await fetch(`${base}/nope.ts`)).status).toBe(404);
    expect((await fetch(`${base}/..%2f..%2fvault%2fkeyring.json`)).status).toBe(404);
  });
});
