// "Needs attention" on a real engine with real damaged files: each says in a sentence
// what is wrong and that the original is kept, and what FFprobe or libvips said comes
// apart, for the app's "Details" disclosure; never brackets of tool output in the sentence.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LibraryItem } from '../net/desktop-contract';
import { TEST_PASSWORD, startTestDesktop, until } from '../testing/desktop';
import { makeClip } from '../testing/media';
import { freshDir } from '../testing/tmp';

const KEPT = 'The original is kept as it is.';

describe('items that need attention', () => {
  it('says what is wrong in a sentence, with the technical words apart', async () => {
    const engine = await startTestDesktop();
    const { api } = engine;
    await api.post('/v1/vault', { password: TEST_PASSWORD });
    const media = join(await freshDir(), 'Family');
    await mkdir(media);
    // An MP4 copied only halfway: its index (the moov box, written last) is missing.
    const whole = await readFile(await makeClip(await freshDir(), 'whole.mp4', { seconds: 2 }));
    await writeFile(join(media, 'half copied.mp4'), whole.subarray(0, whole.length / 2));
    await writeFile(join(media, 'noise.jpg'), randomBytes(8192));
    await writeFile(join(media, 'empty.mp4'), '');
    await writeFile(join(media, 'empty.jpg'), '');

    await api.post('/v1/library', { path: media });
    const items = await until(
      () => api.get<{ items: LibraryItem[] }>('/v1/library/items').then((r) => r.items),
      (list) => list.length === 4 && list.every((i) => i.attention !== undefined),
      60_000,
    );
    const of = (name: string) => items.find((i) => i.name === name)!;

    expect(of('half copied.mp4')).toMatchObject({
      attention: 'damaged',
      attentionDetail: `This video is damaged or incomplete: Keepsake can't read its start. ${KEPT}`,
      attentionTechnical: expect.stringMatching(/moov atom not found/),
    });
    expect(of('noise.jpg')).toMatchObject({
      attention: 'damaged',
      attentionDetail: `This photo is damaged or incomplete: Keepsake can't open it. ${KEPT}`,
      attentionTechnical: expect.stringMatching(/\S/),
    });
    for (const name of ['empty.mp4', 'empty.jpg']) {
      expect(of(name), name).toMatchObject({
        attention: 'damaged',
        attentionDetail: `This file is empty: nothing was copied into it. ${KEPT}`,
      });
    }
    for (const item of items) expect(item.attentionDetail, item.name).not.toMatch(/[()]/);
  }, 90_000);
});
