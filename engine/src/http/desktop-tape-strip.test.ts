// A tape's analysis kept with the tape, and the pictures of the clips it proposes, on a
// real engine and a generated tape (boundaries planted at 9, 19 and 25 s): the analysis
// outlives its job and a newer one replaces it, each proposed clip has three small 4:3
// pictures served through the item's capability, and neither the analysis nor a picture
// is in the clear on disk.

import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { databasePath, openDatabase } from '../jobs/db';
import { sweepPictures } from '../library/preview-store';
import type { LibraryItem } from '../net/desktop-contract';
import type { TapeAnalysisView } from '../net/desktop-tape-contract';
import { TEST_PASSWORD, startTestDesktop, until } from '../testing/desktop';
import { makeTape } from '../testing/tape-media';
import { freshDir } from '../testing/tmp';

const analysisPath = (id: string) => `/v1/library/files/${id}/tape-analysis`;

/** Every file under `dir`, read whole. */
async function everyFile(dir: string): Promise<Buffer[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(
    entries.filter((e) => e.isFile()).map((e) => readFile(join(e.parentPath, e.name))),
  );
}

describe("a tape's analysis kept with the tape", () => {
  it('outlives its job, with pictures of each proposed clip, sealed on disk', async () => {
    const engine = await startTestDesktop();
    const { api } = engine;
    try {
      await api.post('/v1/vault', { password: TEST_PASSWORD });
      const media = join(await freshDir(), 'Tapes');
      await mkdir(media);
      await makeTape(media, 'christmas.ts');
      await api.post('/v1/library', { path: media });
      const [tape] = await until(
        () => api.get<{ items: LibraryItem[] }>('/v1/library/items').then((r) => r.items),
        (list) => list.length === 1 && list[0]!.encrypted && list[0]!.capturedAt !== undefined,
      );
      const started = (await api.post(analysisPath(tape!.id))).body as TapeAnalysisView;
      const done = await until(
        () => api.get<TapeAnalysisView>(analysisPath(tape!.id)),
        (v) => v.state === 'failed' || (v.state === 'succeeded' && !v.picturesPending),
        90_000,
      );
      expect(done.state).toBe('succeeded');
      expect(done.jobId).toBe(started.jobId);
      const clips = done.clips!;
      expect(clips.map((c) => Math.round(c.start))).toEqual([0, 9, 19, 25]);
      expect(clips[0]!.confidence).toBeUndefined();
      for (const clip of clips.slice(1)) expect(clip.confidence).toBeGreaterThan(0);
      expect(clips.every((c) => c.pictures.length === 3)).toBe(true);

      // Each picture opens through the item's capability, small and 4:3 (the tape's pixels
      // are stored 720x576 and shown 768x576).
      const urls = clips.flatMap((c) => c.pictures);
      expect(new Set(urls).size).toBe(12);
      const pictures = await Promise.all(
        urls.map(async (url) => {
          const res = await fetch(`${engine.url}${url}`);
          expect(res.status).toBe(200);
          expect(res.headers.get('content-type')).toBe('image/jpeg');
          return Buffer.from(await res.arrayBuffer());
        }),
      );
      for (const jpeg of pictures) {
        expect(await sharp(jpeg).metadata()).toMatchObject({ width: 160, height: 120 });
      }
      // The first clip is the grey-bars stretch and the second a different scene: the
      // pictures are of the clips, not one frame repeated.
      const mean = async (jpeg: Buffer) =>
        (await sharp(jpeg).stats()).channels.map((c) => Math.round(c.mean));
      expect(await mean(pictures[1]!)).not.toEqual(await mean(pictures[4]!));
      const forged = urls[0]!.replace(/\/pic\/[^/]+\//, '/pic/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/');
      expect((await fetch(`${engine.url}${forged}`)).status).toBe(401);
      const past = urls[0]!.replace(/\/\d+$/, '/12');
      expect((await fetch(`${engine.url}${past}`)).status).toBe(404);

      // Deleting the job from the Jobs screen deletes its output, not what it found.
      expect((await api.call('DELETE', `/v1/jobs/${done.jobId}`)).status).toBe(204);
      const after = await api.get<TapeAnalysisView>(analysisPath(tape!.id));
      expect(after).toMatchObject({ state: 'succeeded', analysis: done.analysis, clips });
      expect(after.jobId).toBeUndefined();
      expect((await fetch(`${engine.url}${urls[5]}`)).status).toBe(200);

      // The sweep of pictures no row names (a day from now) knows the clips' pictures.
      const db = openDatabase(databasePath(engine.session.dataDir));
      try {
        expect(await sweepPictures(db, engine.session.dataDir, Date.now() + 86_400_000)).toBe(0);
      } finally {
        db.close();
      }
      expect((await fetch(`${engine.url}${urls[11]}`)).status).toBe(200);

      // A newer analysis replaces it, and the older pictures go with it.
      const again = (await api.post(analysisPath(tape!.id))).body as TapeAnalysisView;
      const newer = await until(
        () => api.get<TapeAnalysisView>(analysisPath(tape!.id)),
        (v) => v.jobId === again.jobId && v.state === 'succeeded' && !v.picturesPending,
        90_000,
      );
      expect(newer.clips!.map((c) => c.start)).toEqual(clips.map((c) => c.start));
      expect(newer.clips![0]!.pictures[0]).not.toBe(urls[0]);
      expect((await fetch(`${engine.url}${newer.clips![3]!.pictures[2]}`)).status).toBe(200);
      expect((await fetch(`${engine.url}${urls[0]}`)).status).toBe(404);

      // Nothing of it in the clear: not in engine.db (its journal included), not in the
      // pictures' files.
      const stored = Buffer.concat(
        await Promise.all(
          ['engine.db', 'engine.db-wal'].map((f) =>
            readFile(join(engine.session.dataDir, f)).catch(() => Buffer.alloc(0)),
          ),
        ),
      );
      for (const plain of ['fieldOrder', 'headSwitchingRows', '"cuts"', 'confidence']) {
        expect(stored.includes(plain)).toBe(false);
      }
      const files = Buffer.concat(await everyFile(join(engine.session.dataDir, 'previews')));
      for (const jpeg of pictures) expect(files.includes(jpeg.subarray(0, 64))).toBe(false);
      expect(files.includes(Buffer.from('JFIF'))).toBe(false);
    } finally {
      await engine.close();
    }
  }, 180_000);
});
