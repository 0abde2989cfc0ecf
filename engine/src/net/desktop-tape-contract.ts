// The desktop API for a tape's analysis (http/desktop-tape-routes.ts): start it for a
// library video, and read where it is and, once done, what it found. TypeBox schemas,
// imported by the renderer as types only. The shape mirrors ffmpeg/tape-analysis.ts's
// TapeAnalysis (the routes assign one to the other, so tsc holds them together). Times are seconds from the tape's start.

import { Type, type Static } from 'typebox';
import { ApiErrorSchema, JobId } from './contract';

const IntervalSchema = Type.Object({ start: Type.Number(), end: Type.Number() });

export const TapeCutSchema = Type.Object({
  /** Where the next clip starts. */
  at: Type.Number(),
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  reasons: Type.Array(
    Type.Union([
      Type.Literal('black'),
      Type.Literal('silence'),
      Type.Literal('scene'),
      // A DV tape's camcorder clock jumps: it was stopped and started (ffmpeg/dv-dates.ts).
      Type.Literal('recording-date'),
    ]),
  ),
  /** The blank stretch before `at` that belongs to no clip. */
  gap: Type.Optional(IntervalSchema),
});

export const TapeAnalysisSchema = Type.Object({
  version: Type.Literal(1),
  durationSeconds: Type.Number(),
  width: Type.Integer(),
  height: Type.Integer(),
  interlaced: Type.Boolean(),
  fieldOrder: Type.Union([
    Type.Literal('tff'),
    Type.Literal('bff'),
    Type.Literal('progressive'),
    Type.Literal('unknown'),
  ]),
  fields: Type.Object({
    tff: Type.Number(),
    bff: Type.Number(),
    progressive: Type.Number(),
    undetermined: Type.Number(),
  }),
  /** The picture to keep: overscan borders and the head-switching band removed. */
  crop: Type.Object({
    width: Type.Integer(),
    height: Type.Integer(),
    x: Type.Integer(),
    y: Type.Integer(),
  }),
  headSwitchingRows: Type.Integer({ minimum: 0 }),
  cuts: Type.Array(TapeCutSchema),
  qc: Type.Object({
    hasAudio: Type.Boolean(),
    dropouts: Type.Array(IntervalSchema),
    clippedAudio: Type.Array(IntervalSchema),
    blank: Type.Array(
      Type.Object({ start: Type.Number(), end: Type.Number(), silent: Type.Boolean() }),
    ),
  }),
  /** Stretches that could not be decoded; the analysis went on past them. */
  undecodable: Type.Array(IntervalSchema),
  /**
   * A DV tape's recordings: where each starts and the camcorder's clock then
   * (`1994-07-01T10:00:00`, no time zone), and how far the clock jumped (seconds).
   */
  recordings: Type.Optional(
    Type.Array(
      Type.Object({
        at: Type.Number(),
        recorded: Type.String({ maxLength: 19 }),
        jumpSeconds: Type.Optional(Type.Number()),
      }),
    ),
  ),
});

/** A clip the analysis proposes, with a few small pictures of it. */
const ProposedClipSchema = Type.Object({
  start: Type.Number(),
  end: Type.Number(),
  /** How sure the analysis is of the cut that begins it; absent for the tape's first clip. */
  confidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  reasons: Type.Optional(TapeCutSchema.properties.reasons),
  /** Capability URLs of its pictures (near its start, middle, near its end); may be none. */
  pictures: Type.Array(Type.String()),
});

export const TapeAnalysisViewSchema = Type.Object({
  /** `none`: never analysed; otherwise the state of the newest analysis. */
  state: Type.Union([
    Type.Literal('none'),
    Type.Literal('queued'),
    Type.Literal('running'),
    Type.Literal('succeeded'),
    Type.Literal('failed'),
    Type.Literal('cancelled'),
  ]),
  jobId: Type.Optional(JobId),
  /** 0..100 while it runs. */
  percent: Type.Optional(Type.Number()),
  /** Why the newest one failed. */
  error: Type.Optional(ApiErrorSchema),
  /** What the newest finished analysis found. */
  analysis: Type.Optional(TapeAnalysisSchema),
  /** The clips it proposes, in time order (only the first ones have pictures). */
  clips: Type.Optional(Type.Array(ProposedClipSchema)),
  /** True while the clips' pictures are still being made: ask again shortly. */
  picturesPending: Type.Optional(Type.Boolean()),
});
export type TapeAnalysisView = Static<typeof TapeAnalysisViewSchema>;

/** Starting an analysis; the body is optional (none: on this computer). */
export const AnalyseTapeSchema = Type.Object(
  {
    /** A paired server to run it on: it reads the encrypted tape and seals what it finds. */
    remote: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })),
  },
  { additionalProperties: false },
);
export type AnalyseTapeBody = Static<typeof AnalyseTapeSchema>;
