// The strip of proposed clips in words a grandparent reads without a glossary: where each
// clip starts, how long it is, and how sure Keepsake is that a new clip begins there. Kept
// apart from the cards so the wording is tested on its own.

import type { TapeAnalysisView } from './engine-client';

export type ProposedClip = NonNullable<TapeAnalysisView['clips']>[number];

/** "9 seconds", "1 minute 5 seconds", "1 hour 2 minutes": how long a clip runs. */
export function lengthWords(seconds: number): string {
  const s = Math.max(1, Math.round(seconds));
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return m ? `${unit(h, 'hour')} ${unit(m, 'minute')}` : unit(h, 'hour');
  if (m > 0) return rest ? `${unit(m, 'minute')} ${unit(rest, 'second')}` : unit(m, 'minute');
  return unit(rest, 'second');
}

const REASONS: Record<string, string> = {
  black: 'the picture goes dark',
  silence: 'the sound stops',
  scene: 'the picture changes',
  'recording-date': "the camera's date jumps",
};

/** "Clear break: the picture goes dark and the sound stops"; the first clip is the tape's start. */
export function sureWords(clip: Pick<ProposedClip, 'confidence' | 'reasons'>): string {
  if (clip.confidence === undefined) return 'Start of the tape';
  const sure =
    clip.confidence >= 0.85
      ? 'Clear break'
      : clip.confidence >= 0.55
        ? 'Likely break'
        : 'Possible break, worth a look';
  const why = (clip.reasons ?? []).map((r) => REASONS[r]).filter((w) => w !== undefined);
  if (why.length === 0) return sure;
  const list = why.length === 1 ? why[0] : `${why.slice(0, -1).join(', ')} and ${why.at(-1)}`;
  return `${sure}: ${list}`;
}
