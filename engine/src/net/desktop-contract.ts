// The desktop engine's HTTP contract (the embedded server the app and `npm start` talk
// to, behind the per-launch bearer token): TypeBox schemas that Fastify validates and
// serialises with, and whose static types the renderer's typed client imports with
// `import type`. Jobs reuse the hardened server's JobView, so one job looks the same
// wherever it runs.

import { Type, type Static } from 'typebox';
import { JobStateSchema, JobViewSchema } from './contract';

export const FolderId = Type.String({ pattern: '^f[a-z2-7]{12}$' });
export const FileId = Type.String({ pattern: '^m[a-z2-7]{12}$' });
const RemoteName = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' });

// --- Vault ------------------------------------------------------------------------------

export const VaultStateSchema = Type.Object({
  exists: Type.Boolean(),
  unlocked: Type.Boolean(),
  dir: Type.String(),
  /** A lock asked to wait for running jobs: how many still run before it locks. */
  lockPending: Type.Optional(Type.Object({ running: Type.Integer() })),
});
export type VaultState = Static<typeof VaultStateSchema>;

/** With jobs running: wait for them to finish, or stop them (they go back to the queue). */
export const LockVaultSchema = Type.Object(
  { jobs: Type.Optional(Type.Union([Type.Literal('wait'), Type.Literal('stop')])) },
  { additionalProperties: false },
);
export type LockVaultBody = Static<typeof LockVaultSchema>;

export const CreateVaultSchema = Type.Object(
  {
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    /**
     * The client will have the user type part of the recovery key back and then confirm it
     * (POST /v1/vault/recovery-key/confirm); until then the vault remembers it was not.
     */
    checkRecoveryKey: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const CreatedVaultSchema = Type.Object({
  /** Shown once: the only way back in without the password. */
  recoveryKey: Type.String(),
});
export type CreatedVault = Static<typeof CreatedVaultSchema>;

export const UnlockVaultSchema = Type.Union([
  Type.Object(
    { password: Type.String({ minLength: 1, maxLength: 1024 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { recoveryKey: Type.String({ minLength: 1, maxLength: 256 }) },
    { additionalProperties: false },
  ),
]);
export type UnlockVaultBody = Static<typeof UnlockVaultSchema>;

// --- Library ------------------------------------------------------------------------------

export const MediaKindSchema = Type.Union([
  Type.Literal('video'),
  Type.Literal('photo'),
  Type.Literal('audio'),
  Type.Literal('other'),
]);

const Counts = Type.Object({ files: Type.Integer(), bytes: Type.Number() });

export const ItemInfoSchema = Type.Object({
  /** ISO 8601: with an offset, `Z`, or none (the local time where it was taken). */
  capturedAt: Type.String(),
  capturedFrom: Type.Union([
    Type.Literal('exif'),
    Type.Literal('quicktime'),
    Type.Literal('recording'),
    Type.Literal('filename'),
    Type.Literal('mtime'),
  ]),
  durationSeconds: Type.Optional(Type.Number()),
  width: Type.Optional(Type.Integer()),
  height: Type.Optional(Type.Integer()),
  rotation: Type.Integer(),
  displayAspect: Type.Optional(Type.String()),
  videoCodec: Type.Optional(Type.String()),
  audioCodec: Type.Optional(Type.String()),
  hasAudio: Type.Boolean(),
  make: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  attention: Type.Optional(
    Type.Union([Type.Literal('damaged'), Type.Literal('unsupported'), Type.Literal('too-large')]),
  ),
  attentionDetail: Type.Optional(Type.String()),
  attentionTechnical: Type.Optional(Type.String()),
});
export type ItemInfo = Static<typeof ItemInfoSchema>;

export const FolderViewSchema = Type.Object({
  id: Type.String(),
  /** The folder as the user picked it (or the engine's own folder for uploads). */
  path: Type.String(),
  name: Type.String(),
  /** `upload`: files sent from a browser; the vault copy is their only copy. */
  source: Type.Union([Type.Literal('disk'), Type.Literal('upload')]),
  /** False once removed with its vault copies kept ("kept in the vault"). */
  watching: Type.Boolean(),
  addedAt: Type.Number(),
  /** 0 while the first scan runs. */
  scannedAt: Type.Number(),
  total: Counts,
  kinds: Type.Record(Type.String(), Counts),
  encrypted: Type.Integer(),
  encoded: Type.Integer(),
  /** Media files not yet encrypted (or changed since). */
  pending: Type.Integer(),
  /** Files whose only copy is the vault's (source gone, or uploaded). */
  vaultOnly: Type.Integer(),
  /** Present while the folder is being scanned. */
  scanning: Type.Optional(
    Type.Object({
      files: Type.Integer(),
      dirs: Type.Integer(),
      bytes: Type.Number(),
      skipped: Type.Integer(),
    }),
  ),
  /** Present while the folder is being encrypted. */
  encrypting: Type.Optional(
    Type.Object({ done: Type.Integer(), total: Type.Integer(), failed: Type.Integer() }),
  ),
  /** Present while the engine reads dates and details of protected items (any folder's). */
  readingInfo: Type.Optional(Type.Boolean()),
  lastError: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  /** What the last scan (since the engine started) left out, and why, in words. */
  leftOut: Type.Optional(Type.String()),
});
export type FolderView = Static<typeof FolderViewSchema>;

/** An added folder, and a plain sentence when nothing new was added or folders merged. */
export const AddedFolderSchema = Type.Intersect([
  FolderViewSchema,
  Type.Object({ notice: Type.Optional(Type.String()) }),
]);
export type AddedFolder = Static<typeof AddedFolderSchema>;

export const AddFolderSchema = Type.Object(
  {
    path: Type.String({ minLength: 1, maxLength: 4096 }),
    /** Overrides the "encrypt on add" setting for this folder. */
    encrypt: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** What removing a folder would touch, for an honest confirmation. */
export const RemovalImpactSchema = Type.Object({
  encrypted: Counts,
  /** Of those, the copies that are the only ones left (source gone, or an upload). */
  onlyCopies: Counts,
});
export type RemovalImpact = Static<typeof RemovalImpactSchema>;

export const FileViewSchema = Type.Object({
  id: Type.String(),
  folderId: Type.String(),
  /** Path inside the folder, with '/' separators. */
  rel: Type.String(),
  size: Type.Number(),
  /** The source's modification time (for uploads, the browser's `lastModified`). */
  mtimeMs: Type.Number(),
  kind: MediaKindSchema,
  encrypted: Type.Boolean(),
  /** Whether the source was on disk at the last scan (never, for uploads). */
  sourceExists: Type.Boolean(),
  /** When a scan first found the source gone. */
  missingSince: Type.Optional(Type.Number()),
  /** Jobs that read this file, newest first. */
  jobs: Type.Array(
    Type.Object({ id: Type.String(), preset: Type.String(), state: JobStateSchema }),
  ),
  /** What was read from the vault copy (library/item-info.ts); absent until it is read. */
  info: Type.Optional(ItemInfoSchema),
});
/** An upload's answer: the file, and whether the same file was there already. */
export const UploadedFileSchema = Type.Intersect([
  FileViewSchema,
  Type.Object({ alreadyThere: Type.Boolean() }),
]);
export type UploadedFile = Static<typeof UploadedFileSchema>;

/**
 * One of a few strings, as JSON Schema's `enum` rather than TypeBox's union of literals
 * (`anyOf`): the same values and static type, but Fastify's serialiser writes an `enum`
 * as a plain string, where it checks every `anyOf` branch of every item. On a list of
 * 10,000 items that is most of the reply's time.
 */
const StringEnum = <const T extends readonly string[]>(values: T) =>
  Type.Unsafe<T[number]>(Type.String({ enum: [...values] }));

/**
 * One item of the whole library, as the browsing screens show it (GET /v1/library/items):
 * the file, what was read from it, the title and date the family gave it, and capability
 * URLs of its pictures and of its vault copy (no bearer token needed; valid until the
 * engine restarts).
 */
export const LibraryItemSchema = Type.Object({
  /** The file id. */
  id: Type.String(),
  folderId: Type.String(),
  folderName: Type.String(),
  /** The file's base name (the last part of `rel`). */
  name: Type.String(),
  rel: Type.String(),
  kind: StringEnum(['video', 'photo', 'audio', 'other']),
  size: Type.Number(),
  /** Has a vault copy. */
  encrypted: Type.Boolean(),
  sourceExists: Type.Boolean(),
  /** Encrypted, and the original is gone or was an upload. */
  inVaultOnly: Type.Boolean(),
  /** A video that looks like a digitised tape: SD picture (height <= 576), 10 minutes or more. */
  tape: Type.Boolean(),
  /** Set by hand. */
  title: Type.Optional(Type.String()),
  /** ISO 8601, from the item's facts or the hand-set date; absent until known. */
  capturedAt: Type.Optional(Type.String()),
  capturedFrom: Type.Optional(
    StringEnum(['exif', 'quicktime', 'recording', 'filename', 'mtime', 'user']),
  ),
  durationSeconds: Type.Optional(Type.Number()),
  width: Type.Optional(Type.Integer()),
  height: Type.Optional(Type.Integer()),
  /** "Needs attention", and why in plain words. */
  attention: Type.Optional(StringEnum(['damaged', 'unsupported', 'too-large', 'no-picture'])),
  attentionDetail: Type.Optional(Type.String()),
  /** What FFprobe, FFmpeg or libvips said ("moov atom not found"): for a "Details" disclosure. */
  attentionTechnical: Type.Optional(Type.String()),
  /** Capability URL paths of the pictures made so far. */
  pictures: Type.Object({
    /** The grid picture: a photo's thumbnail, or a video's poster. */
    thumb: Type.Optional(Type.String()),
    /** A photo at screen size. */
    preview: Type.Optional(Type.String()),
    /** A video's poster frame. */
    poster: Type.Optional(Type.String()),
    /** A video's sprite strip: `spriteFrames` frames side by side, left to right in time. */
    sprite: Type.Optional(Type.String()),
    spriteFrames: Type.Optional(Type.Integer()),
  }),
  /** Capability URL path of the decrypted vault copy (Range requests work); when encrypted. */
  mediaUrl: Type.Optional(Type.String()),
  /** Whether a browser's <video> or <img> can show `mediaUrl` as it is. */
  browserPlayable: Type.Boolean(),
  /** Jobs that read this file, newest first. */
  jobs: Type.Array(
    Type.Object({
      id: Type.String(),
      preset: Type.String(),
      state: StringEnum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
    }),
  ),
});
export type LibraryItem = Static<typeof LibraryItemSchema>;

export const LibraryItemsSchema = Type.Object({ items: Type.Array(LibraryItemSchema) });

/**
 * A title and a date for an item: a value sets, null clears, absent keeps. Null comes
 * first in each union: Fastify's validator coerces types, and tried against the string
 * first a null would pass as "".
 */
export const SetLabelsSchema = Type.Object(
  {
    /** e.g. "Christmas 1989" (at most 200 characters once trimmed). */
    title: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 1000 })])),
    /** The day it happened, e.g. "1989-12-24", optionally with a time ("1989-12-24 18:30"). */
    date: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 100 })])),
  },
  { additionalProperties: false },
);
export type SetLabelsBody = Static<typeof SetLabelsSchema>;

/** Recently watched, newest first: item ids and when (ms), never names; at most 50. */
export const WatchedListSchema = Type.Object({
  items: Type.Array(Type.Object({ fileId: FileId, watchedAt: Type.Number() })),
});
export type WatchedList = Static<typeof WatchedListSchema>;

/** Items just played, newest first (one, or an old browser's list moved over once). */
export const RememberWatchedSchema = Type.Object(
  { fileIds: Type.Array(FileId, { minItems: 1, maxItems: 50 }) },
  { additionalProperties: false },
);

/** A scan told to stop (it stops at its next step; nothing is then added). */
export const ScanCancelledSchema = Type.Object({ cancelled: Type.Literal(true) });

export const SaveCopySchema = Type.Object(
  { dir: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
);

export const SaveTaskSchema = Type.Object({
  id: Type.String(),
  label: Type.String(),
  state: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  bytes: Type.Number(),
  total: Type.Number(),
  startedAt: Type.Number(),
  path: Type.Optional(Type.String()),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
});
export type SaveTaskView = Static<typeof SaveTaskSchema>;

export const SettingsSchema = Type.Object({
  encryptOnAdd: Type.Boolean(),
  /**
   * The folder automated delivery last saved into, offered again next time (a full path
   * the user chose; kept by the engine, since the app's origin, and so its browser
   * storage, changes every launch).
   */
  deliveryFolder: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
});
export type SettingsView = Static<typeof SettingsSchema>;
export const UpdateSettingsSchema = Type.Partial(SettingsSchema, {
  additionalProperties: false,
});
export type FileView = Static<typeof FileViewSchema>;

// --- Jobs ---------------------------------------------------------------------------------

export const DesktopJobSchema = Type.Intersect([
  JobViewSchema,
  Type.Object({
    /** The library file the job reads. */
    fileId: Type.Optional(Type.String()),
    /** That file's path in its folder, while the library holds it (the Jobs screen's name). */
    fileName: Type.Optional(Type.String()),
    /** The title the family gave that file ("Christmas 1989"), while the vault is open. */
    title: Type.Optional(Type.String()),
    /** A paired server's name, when the job runs there. */
    remote: Type.Optional(Type.String()),
    /**
     * A running job on a paired server: which step it is in (sending the file, the
     * server's work, fetching the results) and how far that step is, 0..100.
     */
    remotePhase: Type.Optional(
      Type.Object({
        phase: Type.Union([
          Type.Literal('uploading'),
          Type.Literal('working'),
          Type.Literal('downloading'),
        ]),
        percent: Type.Number(),
      }),
    ),
    /**
     * For a succeeded job with a playable output: a capability URL on this engine
     * (`/play/<cap>/<job>/<output>`), usable by <video>, hls.js and FFmpeg, which cannot
     * send the bearer token. Valid until the engine restarts.
     */
    playUrl: Type.Optional(Type.String()),
    /**
     * A queued job whose paired server cannot be reached: which server, since when (ms
     * since the epoch) and the last error; it starts by itself when the server is back.
     */
    /**
     * For a succeeded job: the capability path its outputs open under (append an output's
     * name), for showing images and thumbnails; valid until the engine restarts.
     */
    filesUrl: Type.Optional(Type.String()),
    /**
     * Automated mode: the results decrypted into the chosen folder. `path` is the file (or,
     * for several outputs, the folder) written; the app shows only such paths in a folder.
     */
    delivery: Type.Optional(
      Type.Union([
        Type.Object({ state: Type.Literal('saving') }),
        Type.Object({ state: Type.Literal('saved'), path: Type.String() }),
        Type.Object({ state: Type.Literal('failed'), message: Type.String() }),
      ]),
    ),
    waiting: Type.Optional(
      Type.Object({ server: Type.String(), since: Type.Number(), lastError: Type.String() }),
    ),
  }),
]);
export type DesktopJob = Static<typeof DesktopJobSchema>;

export const CreateDesktopJobSchema = Type.Object(
  {
    fileId: FileId,
    preset: Type.String({ pattern: '^[a-z0-9-]{1,40}$' }),
    params: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
      default: {},
    }),
    /** Absent: this computer. */
    remote: Type.Optional(RemoteName),
    mode: Type.Union([Type.Literal('automated'), Type.Literal('manual')], { default: 'manual' }),
    /** automated mode: where decrypted results go (a folder the user picked). */
    outDir: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  },
  { additionalProperties: false },
);
export type CreateDesktopJobBody = Static<typeof CreateDesktopJobSchema>;

// --- Goals --------------------------------------------------------------------------------

/** What the family wants done (presets/goals.ts), by id. */
export const GoalIdSchema = Type.Union([
  Type.Literal('preserve-tape'),
  Type.Literal('watch-copy'),
  Type.Literal('master'),
  Type.Literal('share-photos'),
]);

export const GoalViewSchema = Type.Object({
  id: GoalIdSchema,
  /** Plain words: "Preserve this tape". */
  name: Type.String(),
  description: Type.String(),
  /** The kinds of library item it is for. */
  kinds: Type.Array(MediaKindSchema),
  /** What it makes, in order: each a preset and what the family calls its result. */
  steps: Type.Array(Type.Object({ preset: Type.String(), label: Type.String() })),
  /** Whether it also sees to the item's poster in the library. */
  poster: Type.Boolean(),
});
export type GoalView = Static<typeof GoalViewSchema>;

const GoalItems = Type.Array(FileId, { minItems: 1, maxItems: 10_000 });

export const StartGoalSchema = Type.Object(
  {
    goal: GoalIdSchema,
    fileIds: GoalItems,
    /** Absent: this computer. */
    remote: Type.Optional(RemoteName),
    mode: Type.Union([Type.Literal('automated'), Type.Literal('manual')], { default: 'manual' }),
    /** automated mode: where decrypted results go (a folder the user picked). */
    outDir: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  },
  { additionalProperties: false },
);

export const StartedGoalSchema = Type.Object({
  jobs: Type.Array(DesktopJobSchema),
  /** Items the goal wants a poster for: how many have one, and how many are being made. */
  posters: Type.Object({ ready: Type.Integer(), coming: Type.Integer() }),
});
export type StartedGoal = Static<typeof StartedGoalSchema>;

export const EstimateGoalSchema = Type.Object(
  {
    goal: GoalIdSchema,
    fileIds: GoalItems,
    /** The paired server it would run on: its measured speed is used. */
    remote: Type.Optional(RemoteName),
  },
  { additionalProperties: false },
);
export type EstimateGoalBody = Static<typeof EstimateGoalSchema>;

export const GoalEstimateSchema = Type.Object({
  /** Time until every job is done, run as many at once as the engine runs jobs. */
  seconds: Type.Number(),
  /** Room the results need in the data folder. */
  bytes: Type.Number(),
  /** Free room in the data folder now. */
  freeBytes: Type.Number(),
  /** Whether the free room holds the results with a margin. */
  enough: Type.Boolean(),
  /** Items whose length or size is not known yet, left out of the figures. */
  unknownItems: Type.Integer(),
  /** True when the speeds were measured on this machine (or the server), not assumed. */
  measured: Type.Boolean(),
});
export type GoalEstimateView = Static<typeof GoalEstimateSchema>;

// --- Paired servers -------------------------------------------------------------------------

export const ServerPreviewSchema = Type.Object(
  { url: Type.String({ minLength: 8, maxLength: 2048 }) },
  { additionalProperties: false },
);
export const ServerFingerprintSchema = Type.Object({
  url: Type.String(),
  /** SHA-256 of the server's CA certificate, as `keepsake serve` and `pair` print it. */
  fingerprint: Type.String(),
  /** Six groups of five digits derived from it, which `serve` and `pair` print too. */
  shortFingerprint: Type.String(),
});
export type ServerFingerprint = Static<typeof ServerFingerprintSchema>;

export const PairServerSchema = Type.Object(
  {
    name: RemoteName,
    url: Type.String({ minLength: 8, maxLength: 2048 }),
    code: Type.String({ minLength: 4, maxLength: 64 }),
    /** The fingerprint the user compared: pairing fails if the server shows another. */
    fingerprint: Type.String({ minLength: 16, maxLength: 128 }),
  },
  { additionalProperties: false },
);
export type PairServerBody = Static<typeof PairServerSchema>;

export const ServerViewSchema = Type.Object({
  name: Type.String(),
  url: Type.String(),
  fingerprint: Type.String(),
  shortFingerprint: Type.String(),
  pairedAt: Type.Optional(Type.Number()),
  health: Type.Union([
    Type.Object({
      status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('failing')]),
      reasons: Type.Array(Type.Object({ severity: Type.String(), message: Type.String() })),
      /** The server's helpers (`keepsake worker`s) it has heard from, and their load. */
      workers: Type.Optional(
        Type.Array(
          Type.Object({
            name: Type.String(),
            /** Seconds since it last checked in, by the server's clock. */
            silentSeconds: Type.Number(),
            /** Jobs it runs now, and how many it runs at once. */
            running: Type.Integer(),
            slots: Type.Integer(),
            /** Whether it has a graphics chip that passed its test. */
            chip: Type.Boolean(),
          }),
        ),
      ),
    }),
    Type.Object({ status: Type.Literal('unreachable'), message: Type.String() }),
  ]),
});
export type ServerView = Static<typeof ServerViewSchema>;

// --- Activity -------------------------------------------------------------------------------

export const ActivityEntrySchema = Type.Object({
  seq: Type.Integer(),
  at: Type.Number(),
  action: Type.String(),
  target: Type.Optional(Type.String()),
  /** What the target is called for people (a file's name), while it still exists. */
  name: Type.Optional(Type.String()),
  outcome: Type.String(),
  detail: Type.Optional(Type.String()),
});
export type ActivityEntry = Static<typeof ActivityEntrySchema>;
