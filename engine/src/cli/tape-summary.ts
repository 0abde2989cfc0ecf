// A tape's analysis in a few plain lines, for `keepsake tape analyse` without --json.

import type { TapeAnalysis } from '../ffmpeg/tape-analysis';
import type { Interval } from '../ffmpeg/tape-cuts';

/** 4275.5 → "1:11:16": a place on the tape, to the nearest second. */
export function hms(seconds: number): string {
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = String(Math.floor((total % 3600) / 60)).padStart(2, '0');
  const s = String(total % 60).padStart(2, '0');
  return `${h}:${m}:${s}`;
}

const FIELDS: Record<TapeAnalysis['fieldOrder'], string> = {
  tff: 'Interlaced, top field first.',
  bff: 'Interlaced, bottom field first.',
  progressive: 'Not interlaced.',
  unknown: 'Could not tell whether it is interlaced.',
};

const REASONS = {
  black: 'black picture',
  silence: 'silence',
  scene: 'change of scene',
  'recording-date': "the camcorder's date jumps",
} as const;

function sureness(confidence: number): string {
  if (confidence >= 0.8) return 'sure';
  if (confidence >= 0.5) return 'likely';
  return 'possible';
}

function stretches(what: string, list: readonly Interval[]): string | undefined {
  if (!list.length) return undefined;
  const shown = list.slice(0, 5).map((s) => `${hms(s.start)} to ${hms(s.end)}`);
  const more = list.length > shown.length ? ` and ${list.length - shown.length} more` : '';
  return `${what}: ${shown.join(', ')}${more}`;
}

export function describeAnalysis(a: TapeAnalysis): string {
  const { crop } = a;
  const band = a.headSwitchingRows
    ? ` (${a.headSwitchingRows} noisy rows at the bottom left out)`
    : '';
  const lines = [
    `${hms(a.durationSeconds)} long. ${FIELDS[a.fieldOrder]}`,
    `Picture to keep: ${crop.width}x${crop.height} from ${crop.x},${crop.y}${band}.`,
    a.cuts.length === 0
      ? 'No proposed cuts: it looks like one recording.'
      : `${a.cuts.length} proposed ${a.cuts.length === 1 ? 'cut' : 'cuts'}:`,
    ...a.cuts.map(
      (c) =>
        `  ${hms(c.at)}  ${sureness(c.confidence)} (${c.reasons.map((r) => REASONS[r]).join(', ')})`,
    ),
  ];
  const findings = [
    a.qc.hasAudio ? undefined : 'No sound.',
    stretches('Damaged picture', a.qc.dropouts),
    stretches('Sound too loud (clipped)', a.qc.clippedAudio),
    stretches('Long blank stretches', a.qc.blank),
    stretches('Could not be read', a.undecodable),
  ].filter((f): f is string => f !== undefined);
  lines.push(findings.length ? findings.join('\n') : 'No damage or problems found.');
  return lines.join('\n');
}
