// The desktop API for a tape's clips (desktop-clip-routes.ts): the cut list the family
// corrects in the viewer, every saved version kept, and its CSV form. TypeBox schemas,
// imported by the renderer as types only. The tape's length and frame rate are always the
// engine's (read from the vault copy), never the editor's.

import { Type, type Static } from 'typebox';

/** tape/cut-list.ts's MAX_CLIPS (a layer above this one); the engine checks it again. */
const MAX_CLIPS = 2000;

export const ClipSchema = Type.Object(
  {
    /** Seconds from the start of the tape: the clip's first frame. */
    start: Type.Number({ minimum: 0 }),
    /** Seconds from the start of the tape: the clip runs up to, not including, this. */
    end: Type.Number({ minimum: 0 }),
    title: Type.Optional(Type.String({ maxLength: 500 })),
    /** 1989-12-24, optionally with a time, as library labels take it. */
    date: Type.Optional(Type.String({ maxLength: 40 })),
  },
  { additionalProperties: false },
);
export type ClipView = Static<typeof ClipSchema>;

export const CutListVersionSchema = Type.Object({
  version: Type.Integer({ minimum: 1 }),
  savedAt: Type.Number(),
});

export const CutListViewSchema = Type.Object({
  /** The version shown; 0 when nothing is saved yet (then `clips` is empty). */
  version: Type.Integer({ minimum: 0 }),
  savedAt: Type.Optional(Type.Number()),
  /** The newest saved version (0 for none): what a save must be based on. */
  latest: Type.Integer({ minimum: 0 }),
  /** Seconds: the whole tape, as read from the vault copy. */
  duration: Type.Number(),
  /** Frames per second, when known: boundaries snap to frames. */
  fps: Type.Optional(Type.Number()),
  clips: Type.Array(ClipSchema),
  /** Every saved version, newest first. */
  versions: Type.Array(CutListVersionSchema),
});
export type CutListView = Static<typeof CutListViewSchema>;

export const SaveCutListSchema = Type.Object(
  {
    /** The version the editor started from (0 for none): refused if another came since. */
    basedOn: Type.Integer({ minimum: 0 }),
    /** The tape's length as the editor knew it; checked, never taken. */
    duration: Type.Optional(Type.Number()),
    clips: Type.Array(ClipSchema, { maxItems: MAX_CLIPS }),
  },
  { additionalProperties: false },
);
export type SaveCutListBody = Static<typeof SaveCutListSchema>;

export const CutListQuerySchema = Type.Object(
  { version: Type.Optional(Type.Integer({ minimum: 1 })) },
  { additionalProperties: false },
);

export const ImportCutListQuerySchema = Type.Object(
  { basedOn: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

/** What "Make these clips" started (tape/clip-export.ts). */
export const ClipExportSchema = Type.Object({
  /** The version of the clips that was made. */
  version: Type.Integer({ minimum: 1 }),
  /** Where the clips appear in the library ("Clips of Tape 3"). */
  folder: Type.String(),
  /** Clips that got a job now. */
  started: Type.Integer({ minimum: 0 }),
  /** Clips already made before (their titles and dates brought up to date). */
  kept: Type.Integer({ minimum: 0 }),
  /** Clips whose job from an earlier time is still waiting or running. */
  running: Type.Integer({ minimum: 0 }),
  /** Clips made earlier that this version no longer lists: kept in the library. */
  unlisted: Type.Integer({ minimum: 0 }),
  jobIds: Type.Array(Type.String()),
});
export type ClipExportView = Static<typeof ClipExportSchema>;
