// Goals: what a family wants done, in their words, each a chain of presets with settings
// chosen for them ("Preserve this tape" rather than vhs-restore, archive-hevc, CRF…). The
// Make screen opens with these; the preset forms stay under "Advanced".
//
// "Preserve this tape" makes three copies from the tape itself, side by side:
// - the restored copy (vhs-restore with its defaults);
// - the exact master of the untouched tape (exact-master: FFV1 and FLAC, the archivists'
//   standard, checked frame for frame against the tape): restoration is a matter of taste
//   and of today's tools, so the master keeps exactly what the tape holds and can be
//   restored again some day. It is large (tens of GB for a long tape); the goal's estimate
//   says so before it starts. "Keep a top-quality master" stays the smaller archive-hevc;
// - the watchable copy (web-h264) made from the tape with the restored copy's settings
//   (the same deinterlacer, noise reduction, picture shape and loudness), NOT from the
//   restored copy. Making it from the restored copy would need one job to wait for another
//   and take its output as input; the queue has no such link (jobs/job-input.ts takes a
//   file that exists now), and adding one safely means handling the first job failing,
//   being retried as a new job, deleted, or run on a server. Decoding the tape twice costs
//   some minutes; the picture is the same filters, encoded once instead of twice.
// The poster is not a job: the library makes one for every video in the background
// (library/preview-maker.ts), and the goal route checks that it is there or coming.

import type { MediaKind } from '../vault/media-kind';
import { vhsRestore } from './vhs-restore';

export const GOAL_IDS = ['preserve-tape', 'watch-copy', 'master', 'share-photos'] as const;
export type GoalId = (typeof GOAL_IDS)[number];

export interface GoalStep {
  preset: string;
  params: Record<string, string | number | boolean>;
  /** What the family calls the result. */
  label: string;
}

export interface Goal {
  id: GoalId;
  name: string;
  description: string;
  /** The kinds of library item it is for. */
  kinds: readonly MediaKind[];
  steps: readonly GoalStep[];
  /** Whether the goal also sees to the item's poster (made by the library, not a job). */
  poster: boolean;
}

/** The restored copy's settings, so the watchable copy of a tape looks the same. */
const restoreDefaults = vhsRestore.params;
const RESTORED_LOOK = {
  deinterlace: restoreDefaults.deinterlace.default,
  denoise: restoreDefaults.denoise.default,
  aspect: restoreDefaults.aspect.default,
  loudnorm: restoreDefaults.loudnorm.default,
};

export const GOALS: readonly Goal[] = [
  {
    id: 'preserve-tape',
    name: 'Preserve this tape',
    description:
      'Makes a cleaned-up copy, an exact master of the tape as it is (every picture kept, ' +
      'so it needs a lot of room), and a copy to watch on the TV or phone, and makes sure ' +
      'it has a picture in the library.',
    kinds: ['video'],
    steps: [
      { preset: 'vhs-restore', params: {}, label: 'Restored copy' },
      { preset: 'exact-master', params: {}, label: 'Exact master' },
      { preset: 'web-h264', params: { ...RESTORED_LOOK }, label: 'Copy to watch' },
    ],
    poster: true,
  },
  {
    id: 'watch-copy',
    name: 'Make a copy to watch on the TV or phone',
    description: 'A copy that plays on any TV, phone, tablet or computer, and starts at once.',
    kinds: ['video'],
    // "auto" smooths only pictures marked interlaced: camcorder tapes look right and phone
    // videos are left alone.
    steps: [{ preset: 'web-h264', params: { deinterlace: 'auto' }, label: 'Copy to watch' }],
    poster: false,
  },
  {
    id: 'master',
    name: 'Keep a top-quality master',
    description:
      'A copy at the highest quality, smaller than the original, to keep for the years ahead.',
    kinds: ['video'],
    steps: [{ preset: 'archive-hevc', params: { crf: 18 }, label: 'Master' }],
    poster: false,
  },
  {
    id: 'share-photos',
    name: 'Convert photos for sharing',
    description: 'Smaller copies of photos that are quick to send by email or message.',
    kinds: ['photo'],
    steps: [{ preset: 'photo-web', params: {}, label: 'Photo for sharing' }],
    poster: false,
  },
];

export function getGoal(id: GoalId): Goal {
  // The id is one of GOAL_IDS (the route's schema checks it), so it is always found.
  return GOALS.find((g) => g.id === id)!;
}

/** What the family calls a kind of item, for refusals. */
export function kindWords(kind: MediaKind): string {
  return kind === 'photo' ? 'a photo' : kind === 'video' ? 'a video' : `a ${kind} file`;
}

/** Plain words for the kinds a goal is for ("videos", "photos"). */
export function kindsWords(kinds: readonly MediaKind[]): string {
  return kinds.map((k) => (k === 'photo' ? 'photos' : `${k}s`)).join(' and ');
}
