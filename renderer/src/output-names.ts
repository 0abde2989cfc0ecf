// What each kind of job makes, named the way the family would say it. The viewer lists
// everything made from an item by these names; a job id or a preset id never shows.

/** The job that looks through a tape for its clips (the engine's jobs/tape-job.ts). */
export const TAPE_CHECK = 'tape-analysis';

const NAMES: Record<string, string> = {
  'vhs-restore': 'Restored copy',
  'exact-master': 'Exact master',
  'archive-hevc': 'Archive master',
  'archive-av1': 'Archive master (smaller file)',
  'web-h264': 'Copy to watch',
  'hls-playback': 'Copy to watch on the TV',
  'photo-web': 'Photo for sharing',
  thumbnails: 'Poster and contact sheet',
  remux: 'Repackaged copy',
  clip: 'Clip of a tape',
  [TAPE_CHECK]: 'Tape check',
};

/** Presets whose result plays in a browser: the viewer plays an undecodable video from one. */
export const PLAYBACK_PRESETS: readonly string[] = ['web-h264', 'hls-playback'];

/** The one a video gets when it needs a copy to play. */
export const PLAYBACK_PRESET = 'web-h264';

/** The family's name for what a preset makes; a plain fallback for one this build lacks. */
export function outputName(preset: string): string {
  return NAMES[preset] ?? 'Another copy';
}
