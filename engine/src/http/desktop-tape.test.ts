// A tape's analysis through the desktop API, on a real engine and a generated tape: queued
// for an encrypted video (a second start answers the one under way), read back once done
// with what it found; a photo and an unknown file are refused.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DesktopJob, LibraryItem } from '../net/desktop-contract';
import type { TapeAnalysisView } from '../net/desktop-tape-contract';
import { TEST_PASSWORD, startTestDesktop, until } from '../testing/desktop';
import { makeClip } from '../testing/media';
import { makeTape } from '../testing/tape-media';
import { freshDir } from '../testing/tmp';

const analysisPath = (id: string) => `/v1/library/files/${id}/tape-analysis`;

describe("a tape's analysis on the desktop API", () => {
  it('starts once, and answers what it found', async () => {
    const engine = await startTestDesktop();
    const { api } = engine;
    try {
      await api.post('/v1/vault', { password: TEST_PASSWORD });
      const media = join(await freshDir(), 'Tapes');
      await mkdir(media);
      await makeTape(media, 'christmas.ts');
      await makeClip(media, 'card.png', { still: true });
      await api.post('/v1/library', { path: media });
      const items = await until(
        () => api.get<{ items: LibraryItem[] }>('/v1/library/items').then((r) => r.items),
        (list) => list.length === 2 && list.every((i) => i.capturedAt !== undefined),
      );
      const tape = items.find((i) => i.kind === 'video')!;
      const card = items.find((i) => i.kind === 'photo')!;

      expect(await api.get<TapeAnalysisView>(analysisPath(tape.id))).toEqual({ state: 'none' });
      const first = await api.post(analysisPath(tape.id));
      const again = await api.post(analysisPath(tape.id));
      expect(first.status).toBe(202);
      const started = first.body as TapeAnalysisView;
      expect(started.jobId).toMatch(/^j/);
      expect((again.body as TapeAnalysisView).jobId).toBe(started.jobId);

      const done = await until(
        () => api.get<TapeAnalysisView>(analysisPath(tape.id)),
        (v) => v.state !== 'queued' && v.state !== 'running',
      );
      expect(done.state).toBe('succeeded');
      expect(done.analysis).toMatchObject({ fieldOrder: 'tff', interlaced: true });
      expect(done.analysis!.cuts.map((c) => Math.round(c.at))).toEqual([9, 19, 25]);

      // "Preserve this tape" now restores with what the analysis found: the picture above
      // the 8 noisy rows at the bottom, and the top field first.
      const crop = done.analysis!.crop;
      expect(crop).toEqual({ x: 0, y: 0, width: 720, height: 568 });
      const goal = await api.post('/v1/goals', { goal: 'preserve-tape', fileIds: [tape.id] });
      const restore = (goal.body as { jobs: DesktopJob[] }).jobs.find(
        (j) => j.preset === 'vhs-restore',
      )!;
      expect(restore.params).toMatchObject({ fieldOrder: 'tff', deinterlace: 'bwdif' });
      expect(restore.params.crop).toEqual(crop);
      for (const job of (goal.body as { jobs: DesktopJob[] }).jobs) {
        await api.post(`/v1/jobs/${job.id}/cancel`);
      }

      expect((await api.post(analysisPath(card.id))).body).toMatchObject({ code: 'USAGE' });
      expect((await api.post(analysisPath('fnonexistent1'))).status).toBeGreaterThanOrEqual(400);
    } finally {
      await engine.close();
    }
  }, 120_000);
});
