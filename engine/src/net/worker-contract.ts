// The coordinator's API for encoding workers (`keepsake worker`): a part of the hardened
// server's contract that only a credential of the `worker` role may use. A worker
// announces what it can run, takes a job, reads the job's ciphertext by ranged requests,
// leases the job's keys while it holds the job, uploads encrypted outputs (resumable) and
// finishes; the coordinator checks the outputs before it accepts them.

import { Type, type Static } from 'typebox';
import { JobId } from './contract';

/** What a worker can run: checked against each job before the job is handed to it. */
export const WorkerCapabilitiesSchema = Type.Object({
  /** Encoder names of its FFmpeg build (`ffmpeg -encoders`). */
  encoders: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 2000 }),
  muxers: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 2000 }),
  filters: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 2000 }),
  /** Chip encoders whose test encode passed (`h264_vaapi`, `hevc_nvenc`); empty for software only. */
  hardware: Type.Array(Type.String({ maxLength: 32 }), { maxItems: 16 }),
  threads: Type.Integer({ minimum: 1, maximum: 1024 }),
  /** How many jobs it runs at once. */
  slots: Type.Integer({ minimum: 1, maximum: 64 }),
});
export type WorkerCapabilities = Static<typeof WorkerCapabilitiesSchema>;

export const HeartbeatSchema = Type.Object({
  capabilities: WorkerCapabilitiesSchema,
  /** The jobs it is running, with their progress (0..100). */
  running: Type.Array(
    Type.Object({
      id: JobId,
      percent: Type.Number({ minimum: 0, maximum: 100 }),
      fps: Type.Optional(Type.Number({ minimum: 0 })),
      speed: Type.Optional(Type.Number({ minimum: 0 })),
      etaSeconds: Type.Optional(Type.Number({ minimum: 0 })),
    }),
    { maxItems: 64 },
  ),
});
export type HeartbeatBody = Static<typeof HeartbeatSchema>;

export const HeartbeatReplySchema = Type.Object({
  /** Jobs of those it reported that it no longer holds (cancelled, or lost): stop them. */
  stop: Type.Array(JobId),
});
export type HeartbeatReply = Static<typeof HeartbeatReplySchema>;

/** A job as a worker needs it: what to make, never a file name or a key. */
export const WorkerJobSchema = Type.Object({
  id: JobId,
  preset: Type.String(),
  params: Type.Record(Type.String(), Type.Unknown()),
  thorough: Type.Boolean(),
  timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Size of the input's ciphertext, read by ranged GETs. */
  inputSize: Type.Integer({ minimum: 0 }),
  attempt: Type.Integer({ minimum: 1 }),
});
export type WorkerJob = Static<typeof WorkerJobSchema>;

export const ClaimReplySchema = Type.Object({ job: Type.Union([WorkerJobSchema, Type.Null()]) });
export type ClaimReply = Static<typeof ClaimReplySchema>;

/** An output name as the job wrote it, relative (`v0/index.m3u8`). */
export const OutputName = Type.String({
  pattern: '^[A-Za-z0-9._-]{1,100}(/[A-Za-z0-9._-]{1,100}){0,3}$',
  maxLength: 300,
});

export const OutputStateSchema = Type.Object({ name: Type.String(), offset: Type.Integer() });

export const FinishSchema = Type.Object({
  outputs: Type.Array(Type.Object({ name: OutputName, size: Type.Integer({ minimum: 0 }) }), {
    minItems: 1,
    maxItems: 10_000,
  }),
  notes: Type.Array(Type.String({ maxLength: 2000 }), { maxItems: 200 }),
});
export type FinishBody = Static<typeof FinishSchema>;

export const WorkerFailSchema = Type.Object({
  code: Type.String({ maxLength: 64 }),
  message: Type.String({ maxLength: 2000 }),
});
export type WorkerFailBody = Static<typeof WorkerFailSchema>;

export const WORKER_PATHS = {
  heartbeat: '/v1/worker/heartbeat',
  claim: '/v1/worker/claim',
  job: (id: string) => `/v1/worker/jobs/${id}`,
  input: (id: string) => `/v1/worker/jobs/${id}/input`,
  lease: (id: string) => `/v1/worker/jobs/${id}/lease`,
  output: (id: string, name: string) => `/v1/worker/jobs/${id}/outputs/${name}`,
  finish: (id: string) => `/v1/worker/jobs/${id}/finish`,
  fail: (id: string) => `/v1/worker/jobs/${id}/fail`,
} as const;
