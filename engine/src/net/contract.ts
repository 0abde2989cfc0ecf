// The hardened server's HTTP contract, in one place: TypeBox schemas that Fastify uses to
// validate requests and serialise responses, that @fastify/swagger turns into
// /v1/openapi.json, and whose static types the typed client (client.ts) and the renderer
// use. A change here changes all of them together.

import { Type, type Static } from 'typebox';
import { ERROR_CODES, type ErrorCode } from '../core/errors';

/** Identifiers in paths: what our ids look like, so no traversal or odd bytes get through. */
export const JobId = Type.String({ pattern: '^j[a-z2-7]{12}$' });
export const UploadId = Type.String({ pattern: '^u[a-z2-7]{20}$' });

export const ApiErrorSchema = Type.Object(
  {
    // Unsafe only sets the static type: a union built from an array (not a tuple) would
    // otherwise type `code` as never.
    code: Type.Unsafe<ErrorCode>(
      Type.Union(Object.keys(ERROR_CODES).map((code) => Type.Literal(code))),
    ),
    message: Type.String(),
  },
  { $id: 'ApiError' },
);
export type ApiErrorBody = Static<typeof ApiErrorSchema>;

export const JobStateSchema = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('cancelled'),
]);

const Base64Key = Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$', description: '32 bytes, base64' });

/** A label an output can carry: the item's title, its date. */
export const OutputLabelKind = Type.Union([Type.Literal('title'), Type.Literal('date')]);

/** A job's keys, sent by the client and held in the server's memory only. */
export const JobKeysSchema = Type.Object(
  {
    /** The input vault file's own file key (reads that one file, nothing else). */
    input: Base64Key,
    /** A per-job key under which the server wraps the outputs' file keys. */
    output: Type.Object({
      vaultId: Type.String({ pattern: '^[0-9a-f]{32}$' }),
      keyId: Type.String({ pattern: '^[A-Za-z0-9:/._-]{1,128}$' }),
      key: Base64Key,
    }),
    /**
     * The item's title and date (and a tape's chapters) for the outputs' metadata
     * (presets/output-labels.ts): as private as the picture, so they travel and are kept
     * like the keys, in memory only.
     */
    labels: Type.Optional(
      Type.Object(
        {
          title: Type.Optional(
            Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
          ),
          // Any form the library keeps (`1989`, `1989-12-24`, `2019-08-12T14:30:00+02:00`,
          // with fractions); each container's writer takes only what it can hold.
          date: Type.Optional(Type.String({ pattern: '^\\d{4}[0-9T:.+Z -]{0,36}$' })),
          /**
           * A tape's clips, as chapters of an output made of the whole tape: their titles
           * are the family's words, kept like the title.
           */
          chapters: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  start: Type.Number({ minimum: 0 }),
                  end: Type.Number({ minimum: 0 }),
                  title: Type.String({
                    minLength: 1,
                    maxLength: 200,
                    pattern: '^[^\\u0000-\\u001f\\u007f]+$',
                  }),
                },
                { additionalProperties: false },
              ),
              { maxItems: 2000 }, // tape/cut-list.ts MAX_CLIPS
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type JobKeysBody = Static<typeof JobKeysSchema>;

export const CreateJobSchema = Type.Object(
  {
    input: Type.Union([
      Type.Object({ upload: UploadId }, { additionalProperties: false }),
      Type.Object(
        { path: Type.String({ minLength: 1, maxLength: 4096 }) },
        {
          additionalProperties: false,
          description: 'A file on the server itself: admins on the same machine only',
        },
      ),
    ]),
    preset: Type.String({ pattern: '^[a-z0-9-]{1,40}$' }),
    params: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
      default: {},
    }),
    mode: Type.Union([Type.Literal('automated'), Type.Literal('manual')], { default: 'manual' }),
    priority: Type.Integer({ minimum: -100, maximum: 100, default: 0 }),
    thorough: Type.Boolean({ default: false }),
    keys: JobKeysSchema,
  },
  { additionalProperties: false },
);
export type CreateJobBody = Static<typeof CreateJobSchema>;

export const JobViewSchema = Type.Object(
  {
    id: Type.String(),
    state: JobStateSchema,
    preset: Type.String(),
    params: Type.Record(Type.String(), Type.Unknown()),
    mode: Type.String(),
    priority: Type.Integer(),
    createdAt: Type.Number(),
    startedAt: Type.Optional(Type.Number()),
    finishedAt: Type.Optional(Type.Number()),
    attempts: Type.Integer(),
    maxAttempts: Type.Integer(),
    /** True while the server lacks this job's keys (after a restart): resend them. */
    waitingForKeys: Type.Boolean(),
    progress: Type.Optional(
      Type.Object({
        percent: Type.Number(),
        fps: Type.Optional(Type.Number()),
        speed: Type.Optional(Type.Number()),
        etaSeconds: Type.Optional(Type.Number()),
        at: Type.Number(),
      }),
    ),
    lastError: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
    notes: Type.Array(Type.String()),
    outputs: Type.Array(
      Type.Object({
        name: Type.String(),
        size: Type.Integer(),
        /**
         * Which of the item's labels this output carries in its metadata (read back from
         * it): none for an output that cannot hold them (HLS, thumbnails). Absent for jobs
         * made before this was recorded.
         */
        labels: Type.Optional(Type.Array(OutputLabelKind)),
        /**
         * A restoration's or lossy archive copy's picture scores against its source (mean
         * SSIM 0..1, mean PSNR in dB, mean VMAF 0..100), measured after the encode; absent
         * for outputs that are not scored. VMAF is null when it was asked for and this
         * FFmpeg could not measure it, absent when not asked for (or before it was).
         */
        quality: Type.Optional(
          Type.Object({
            ssim: Type.Number(),
            psnr: Type.Number(),
            vmaf: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
          }),
        ),
      }),
    ),
  },
  { $id: 'Job' },
);
export type JobView = Static<typeof JobViewSchema>;

/** Makes each signature unique (identical requests in one second would look replayed). */
const Nonce = Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }));

export const ListJobsQuery = Type.Object(
  {
    nonce: Nonce,
    state: Type.Optional(JobStateSchema),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);

export const CreateUploadSchema = Type.Object(
  { size: Type.Integer({ minimum: 1, description: 'Total bytes the upload will hold' }) },
  { additionalProperties: false },
);
export const UploadViewSchema = Type.Object({
  id: Type.String(),
  size: Type.Integer(),
  offset: Type.Integer(),
  complete: Type.Boolean(),
});
export type UploadView = Static<typeof UploadViewSchema>;

export const PresetListSchema = Type.Array(
  Type.Object({
    name: Type.String(),
    description: Type.String(),
    scopes: Type.Array(Type.String()),
    accepts: Type.String(),
    parameters: Type.Record(Type.String(), Type.Unknown()),
  }),
);

/** A worker of the server's pool as /healthz reports it (pool/coordinator.ts `status`). */
export const WorkerStatusSchema = Type.Object({
  name: Type.String(),
  /** When its last heartbeat arrived (ms since the epoch). */
  lastHeartbeat: Type.Number(),
  /** Seconds since then, by the server's clock (a reader's clock may differ). */
  silentSeconds: Type.Number(),
  threads: Type.Integer(),
  slots: Type.Integer(),
  /** Chip encoders whose test encode passed there; empty for software only. */
  hardware: Type.Array(Type.String()),
  /** The jobs it runs now. */
  running: Type.Array(Type.String()),
  /** Jobs it finished (outputs accepted), and attempts it failed or whose outputs were refused. */
  done: Type.Integer(),
  failed: Type.Integer(),
});
export type WorkerStatus = Static<typeof WorkerStatusSchema>;

export const HealthSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('failing')]),
  reasons: Type.Array(
    Type.Object({
      reason: Type.String(),
      severity: Type.Union([Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')]),
      message: Type.String(),
    }),
  ),
  /** The job queue: SQLite's (built in), or BullMQ's on Redis and whether Redis answers. */
  queue: Type.Optional(
    Type.Object({
      backend: Type.Union([Type.Literal('sqlite'), Type.Literal('redis')]),
      redis: Type.Optional(Type.String()),
      reachable: Type.Optional(Type.Boolean()),
    }),
  ),
  /** The pool's workers this server has heard from since it started, newest first. */
  workers: Type.Optional(Type.Array(WorkerStatusSchema)),
});
export type Health = Static<typeof HealthSchema>;

export const VersionSchema = Type.Object({
  version: Type.String(),
  commit: Type.String(),
  buildTime: Type.String(),
  node: Type.String(),
});

export const AuditQuery = Type.Object(
  {
    nonce: Nonce,
    actor: Type.Optional(Type.String({ maxLength: 64 })),
    action: Type.Optional(Type.String({ maxLength: 64 })),
    outcome: Type.Optional(
      Type.Union([Type.Literal('ok'), Type.Literal('denied'), Type.Literal('error')]),
    ),
    since: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);

/** Route paths, shared by the server and the typed client. */
export const SERVE_PATHS = {
  live: '/live',
  healthz: '/healthz',
  metrics: '/metrics',
  version: '/version',
  openapi: '/v1/openapi.json',
  docs: '/v1/docs',
  presets: '/v1/presets',
  pair: '/v1/pair',
  uploads: '/v1/uploads',
  upload: (id: string) => `/v1/uploads/${id}`,
  jobs: '/v1/jobs',
  job: (id: string) => `/v1/jobs/${id}`,
  jobEvents: (id: string) => `/v1/jobs/${id}/events`,
  jobCancel: (id: string) => `/v1/jobs/${id}/cancel`,
  jobKeys: (id: string) => `/v1/jobs/${id}/keys`,
  jobOutput: (id: string, name: string) => `/v1/jobs/${id}/outputs/${name}`,
  audit: '/v1/audit',
} as const;
