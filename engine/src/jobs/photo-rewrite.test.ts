// Which outputs the sink rewrites, and that what an output is recorded to carry is what
// went into it: a JPEG whose XMP is over the segment limit records only what its EXIF
// holds. Real FFmpeg JPEG, read back with exifr.

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import exifr from 'exifr';
import { describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../ffmpeg/locate';
import type { LabelKind, OutputLabels } from '../presets/output-labels';
import { freshDir } from '../testing/tmp';
import { photoRewrite } from './photo-rewrite';

const run = promisify(execFile);

async function ffmpegJpeg(): Promise<Buffer> {
  const { ffmpegPath } = await locateFfmpeg();
  const out = join(await freshDir(), 'photo.jpg');
  await run(ffmpegPath, [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48', '-frames:v', '1'],
    ...['-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-f', 'mjpeg', out],
  ]);
  return readFile(out);
}

/** The rewritten body and the labels recorded for it. */
async function rewritten(jpeg: Buffer, labels: OutputLabels) {
  let kinds: LabelKind[] | undefined;
  const rewrite = photoRewrite('photo.jpg', labels, (k) => (kinds = k))!;
  rewrite.see(jpeg);
  const size = rewrite.size();
  const parts: Buffer[] = [];
  for await (const part of rewrite.rewrite([jpeg])) parts.push(part);
  const body = Buffer.concat(parts);
  expect(body.length).toBe(size);
  return { body, kinds };
}

describe('photoRewrite', () => {
  it('rewrites every WebP, a JPEG only with something to add, nothing else', () => {
    const labels = { title: 'Oma', date: '1989-12-24' };
    const none = () => undefined;
    expect(photoRewrite('photo.webp', undefined, none)).toBeDefined();
    expect(photoRewrite('photo.jpg', labels, none)).toBeDefined();
    expect(photoRewrite('photo.jpg', undefined, none)).toBeUndefined();
    expect(photoRewrite('poster.png', labels, none)).toBeUndefined();
    expect(photoRewrite('video.mp4', labels, none)).toBeUndefined();
  });

  it('records what went in: a year is XMP-only, so with the XMP left out only the title is carried', async () => {
    const jpeg = await ffmpegJpeg();
    const whole = await rewritten(jpeg, { title: 'Oma im Garten', date: '1975' });
    expect(whole.kinds).toEqual(['title', 'date']);

    // A title too long for one XMP segment (65,533 bytes) once XML escapes it; EXIF,
    // which does not, still takes it.
    const title = 'Oma & Opa '.repeat(5000).replace(/ /g, '&');
    const cut = await rewritten(jpeg, { title, date: '1975' });
    expect(cut.kinds).toEqual(['title']);
    const tags = (await exifr.parse(cut.body, { xmp: true, reviveValues: false })) as Record<
      string,
      unknown
    >;
    expect(tags.ImageDescription).toBe(title);
    expect(tags).not.toHaveProperty('DateCreated');

    // Too long for either: nothing goes in, and nothing is recorded.
    const none = await rewritten(jpeg, { title: 'x'.repeat(70_000), date: '1975' });
    expect(none.kinds).toEqual([]);
    expect(none.body.equals(jpeg)).toBe(true);
  });
});
