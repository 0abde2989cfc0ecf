// What the engine checked of a finished copy against the original, in a sentence beside
// it: an exact master was compared picture by picture (the job fails otherwise), and a
// restored copy carries its likeness scores (SSIM and PSNR; below the preset's floor the
// job fails instead). The figures stay in brackets, for whoever helps the family.

import type { DesktopJob } from './engine-client';

type Made = Pick<DesktopJob, 'state' | 'preset' | 'outputs'>;

export function checkedNote(job: Made | undefined): string | undefined {
  if (job?.state !== 'succeeded') return undefined;
  if (job.preset === 'exact-master') {
    return 'Checked picture by picture: an exact copy of the original.';
  }
  const scores = job.outputs.find((o) => o.quality)?.quality;
  if (!scores) return undefined;
  return (
    'Checked against the original: the picture came out right ' +
    `(SSIM ${scores.ssim.toFixed(3)}, PSNR ${scores.psnr.toFixed(1)} dB).`
  );
}
