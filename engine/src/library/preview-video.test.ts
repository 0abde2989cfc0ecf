// A video's poster and sprite are drawn as the picture is shown, not as it is stored: a
// PAL tape's 720×576 frame with 16:15 pixels is a 4:3 picture, a 64:45 one is 16:9.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../ffmpeg/locate';
import { makeClip } from '../testing/media';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { encryptFile } from '../vault/file-ops';
import { createVault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import { makeVideoPictures } from './preview-video';
import { isFailure } from './preview-types';

describe('video pictures keep the shape the video is shown at', () => {
  for (const [sar, poster, frame] of [
    ['16/15', [768, 576], [160, 120]],
    ['64/45', [1024, 576], [160, 90]],
  ] as const) {
    it(`720×576 with ${sar} pixels: poster ${poster.join('×')}, sprite frames ${frame.join('×')}`, async () => {
      const dir = await freshDir();
      const { vault } = await createVault(join(dir, 'vault'), 'pw', {
        scrypt: TEST_SCRYPT,
        recovery: false,
      });
      const clip = await makeClip(dir, 'tape.mp4', {
        size: '720x576',
        outputArgs: ['-vf', `setsar=${sar}`],
      });
      const sealed = join(dir, 'tape.mp4.ksv');
      await encryptFile(clip, sealed, vault);
      const file = await VaultFile.open(sealed, { vault });
      try {
        const made = await makeVideoPictures(file, await locateFfmpeg(), 'tape.mp4');
        if (isFailure(made)) throw new Error(made.detail);
        const byKind = new Map(made.map((p) => [p.kind, p]));
        expect([byKind.get('poster')!.width, byKind.get('poster')!.height]).toEqual(poster);
        const sprite = byKind.get('sprite')!;
        expect([sprite.width / sprite.frames!, sprite.height]).toEqual(frame);
      } finally {
        await file.close();
      }
    });
  }
});
