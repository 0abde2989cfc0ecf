// What the engine checked of a finished copy against the original, in a sentence beside
// it: an exact master was compared picture by picture (the job fails otherwise), and a
// restored or archive copy was scored against the original (below the preset's floor the
// job fails instead). The sentence is for the family; the scores (SSIM, PSNR, VMAF) go
// under "Details", for whoever helps them.

import type { DesktopJob } from './engine-client';

type Made = Pick<DesktopJob, 'state' | 'preset' | 'outputs'>;
type Scores = NonNullable<DesktopJob['outputs'][number]['quality']>;

export interface CheckedNote {
  sentence: string;
  /** The scores behind the sentence, for a Details disclosure. */
  details?: string;
}

/**
 * A copy that scores this close is one nobody can tell from the original by looking;
 * lower (a noisy tape whose grain the encoder smoothed, a small copy) it is close to it.
 * VMAF, where measured, must agree.
 */
function looksTheSame(scores: Scores): boolean {
  return (
    scores.ssim >= 0.95 &&
    scores.psnr >= 38 &&
    (typeof scores.vmaf !== 'number' || scores.vmaf >= 90)
  );
}

function scoreDetails(scores: Scores): string {
  const vmaf =
    typeof scores.vmaf === 'number'
      ? `VMAF ${scores.vmaf.toFixed(1)}`
      : scores.vmaf === null
        ? 'VMAF not measured (this FFmpeg cannot)'
        : undefined;
  return [
    `Likeness (SSIM) ${scores.ssim.toFixed(3)}`,
    `clarity (PSNR) ${scores.psnr.toFixed(1)} dB`,
    ...(vmaf ? [vmaf] : []),
  ].join(' · ');
}

export function checkedNote(job: Made | undefined): CheckedNote | undefined {
  if (job?.state !== 'succeeded') return undefined;
  if (job.preset === 'exact-master') {
    return { sentence: 'Checked picture by picture: an exact copy of the original.' };
  }
  const scores = job.outputs.find((o) => o.quality)?.quality;
  if (!scores) return undefined;
  return {
    sentence: looksTheSame(scores)
      ? 'Checked against the original: it looks the same.'
      : 'Checked against the original: it looks close to it.',
    details: scoreDetails(scores),
  };
}
