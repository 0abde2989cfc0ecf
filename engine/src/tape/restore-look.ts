// What a tape's analysis settles for its restored copy, so the family does not type a crop
// box or guess a field order: the picture found inside the overscan and above the
// head-switching band, and the field order the pictures themselves showed (captures
// often carry no flag, or a wrong one). A tape found to be progressive is not
// deinterlaced at all.

import type { TapeAnalysis } from '../ffmpeg/tape-analysis';

/** vhs-restore parameters, in the form a job's parameters are given. */
export interface RestoreLook {
  crop?: string;
  fieldOrder?: 'tff' | 'bff';
  deinterlace?: 'none';
}

export function restoreLook(analysis: TapeAnalysis): RestoreLook {
  const look: RestoreLook = {};
  const { crop, width, height } = analysis;
  const whole = crop.x === 0 && crop.y === 0 && crop.width === width && crop.height === height;
  if (!whole) look.crop = `${crop.width}:${crop.height}:${crop.x}:${crop.y}`;
  if (analysis.fieldOrder === 'tff' || analysis.fieldOrder === 'bff') {
    look.fieldOrder = analysis.fieldOrder;
  } else if (analysis.fieldOrder === 'progressive') {
    look.deinterlace = 'none';
  }
  return look;
}
