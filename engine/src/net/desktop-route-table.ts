// The desktop API's route table: every route the embedded engine answers, with its method,
// path and TypeBox schemas for the request and every response (the error body included).
// The routes in http/ register from it, so Fastify validates requests and serialises
// replies by these schemas; @fastify/swagger publishes it as /v1/openapi.json; and the
// renderer's client (renderer/src/engine-client.ts) takes its paths and types from it,
// through renderer/src/api-routes.ts, which a test regenerates from this table.

import { Type, type Static, type TSchema } from 'typebox';
import { ApiErrorSchema, JobId, JobStateSchema, PresetListSchema } from './contract';
import { LiveSchema, OpenApiDocumentSchema, StatusSchema } from './desktop-api';
import {
  ActivityEntrySchema,
  AddFolderSchema,
  AddedFolderSchema,
  CreateDesktopJobSchema,
  CreateVaultSchema,
  CreatedVaultSchema,
  DesktopJobSchema,
  EstimateGoalSchema,
  FileId,
  FileViewSchema,
  FolderId,
  FolderViewSchema,
  GoalEstimateSchema,
  GoalViewSchema,
  LibraryItemSchema,
  LibraryItemsSchema,
  LockVaultSchema,
  PairServerSchema,
  RemovalImpactSchema,
  RememberWatchedSchema,
  SaveCopySchema,
  SaveTaskSchema,
  ScanCancelledSchema,
  ServerFingerprintSchema,
  ServerPreviewSchema,
  ServerViewSchema,
  SetLabelsSchema,
  SettingsSchema,
  StartGoalSchema,
  StartedGoalSchema,
  UnlockVaultSchema,
  UpdateSettingsSchema,
  UploadedFileSchema,
  VaultStateSchema,
  WatchedListSchema,
} from './desktop-contract';
import { NewRecoveryKeySchema, SetPasswordSchema, VaultKeysSchema } from './desktop-vault-contract';
import { AnalyseTapeSchema, TapeAnalysisViewSchema } from './desktop-tape-contract';
import {
  CutListQuerySchema,
  CutListViewSchema,
  ClipExportSchema,
  ImportCutListQuerySchema,
  SaveCutListSchema,
} from './desktop-clip-contract';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A reply that is not JSON (the job event stream): described by media type. */
interface StreamResponse {
  description: string;
  content: Record<string, { schema: TSchema }>;
}

interface RouteSchema {
  summary: string;
  description?: string;
  tags: readonly string[];
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
  /** Media types of a body that is not JSON (uploads). */
  consumes?: readonly string[];
  /** `[]` for a route answered without the bearer token (the document's default). */
  security?: readonly [];
  response: { readonly [status: number]: TSchema | StreamResponse };
}

/** Every route may fail, and always says why the same way: `{code, message}`. */
const ERROR_RESPONSES = { '4xx': ApiErrorSchema, '5xx': ApiErrorSchema };

/**
 * No body (204, or a 202 that only says "accepted"). Typed as `undefined` so a handler
 * answers `reply.code(204).send()`; documented as JSON Schema `null`, which OpenAPI
 * tools read as "no content".
 */
const Empty = (description: string) => Type.Unsafe<undefined>(Type.Null({ description }));

function route<const M extends Method, const U extends string, const S extends RouteSchema>(
  method: M,
  url: U,
  schema: S,
) {
  return {
    method,
    url,
    schema: { ...schema, response: { ...schema.response, ...ERROR_RESPONSES } },
  };
}

const folderParams = Type.Object({ id: FolderId });
const fileParams = Type.Object({ id: FileId });
const jobParams = Type.Object({ id: JobId });
const saveParams = Type.Object({ id: Type.String({ pattern: '^s[\\w-]{12}$' }) });
const serverParams = Type.Object({ name: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }) });

const engine = ['engine'] as const;
const vault = ['vault'] as const;
const library = ['library'] as const;
const jobs = ['jobs'] as const;
const servers = ['servers'] as const;

/** The desktop API. Every route but `live` sits behind the per-launch bearer token. */
export const DESKTOP_ROUTES = {
  live: route('GET', '/live', {
    summary: 'Liveness probe (no token needed)',
    tags: engine,
    security: [],
    response: { 200: LiveSchema },
  }),
  status: route('GET', '/v1/status', {
    summary: 'Engine version, data folder, vault presence and FFmpeg',
    tags: engine,
    response: { 200: StatusSchema },
  }),
  openapi: route('GET', '/v1/openapi.json', {
    summary: 'This document',
    tags: engine,
    response: { 200: OpenApiDocumentSchema },
  }),

  // --- Vault ------------------------------------------------------------------------------
  vault: route('GET', '/v1/vault', {
    summary: 'Whether the vault exists and is open',
    tags: vault,
    response: { 200: VaultStateSchema },
  }),
  createVault: route('POST', '/v1/vault', {
    summary: 'Create the vault; answers the recovery key, shown once',
    tags: vault,
    body: CreateVaultSchema,
    response: { 201: CreatedVaultSchema },
  }),
  unlockVault: route('POST', '/v1/vault/unlock', {
    summary: 'Open the vault with the password or the recovery key',
    tags: vault,
    body: UnlockVaultSchema,
    response: { 204: Empty('Unlocked') },
  }),
  lockVault: route('POST', '/v1/vault/lock', {
    summary: 'Lock the vault',
    description:
      'With jobs running, the body says whether to wait for them (202: it locks when they ' +
      'are done) or stop them; without it the lock fails with JOBS_RUNNING. The body is optional.',
    tags: vault,
    body: LockVaultSchema,
    response: { 202: Empty('Locks when the running jobs are done'), 204: Empty('Locked') },
  }),
  vaultKeys: route('GET', '/v1/vault/keys', {
    summary: 'What the key screens need to know',
    tags: vault,
    response: { 200: VaultKeysSchema },
  }),
  setPassword: route('POST', '/v1/vault/password', {
    summary: 'Set a new password',
    tags: vault,
    body: SetPasswordSchema,
    response: { 204: Empty('Changed') },
  }),
  newRecoveryKey: route('POST', '/v1/vault/recovery-key', {
    summary: 'Make a new recovery key (the old one stops working)',
    tags: vault,
    body: NewRecoveryKeySchema,
    response: { 201: CreatedVaultSchema },
  }),
  confirmRecoveryKey: route('POST', '/v1/vault/recovery-key/confirm', {
    summary: 'The user proved they stored the recovery key',
    tags: vault,
    response: { 204: Empty('Confirmed') },
  }),

  // --- Library ----------------------------------------------------------------------------
  folders: route('GET', '/v1/library', {
    summary: 'The library folders, with counts and progress',
    tags: library,
    response: { 200: Type.Array(FolderViewSchema) },
  }),
  addFolder: route('POST', '/v1/library', {
    summary: 'Add and scan a folder (protected on add, by the setting)',
    description: 'Answers when the scan is done; 200 with a notice when nothing new was added.',
    tags: library,
    body: AddFolderSchema,
    response: { 200: AddedFolderSchema, 201: AddedFolderSchema },
  }),
  removalImpact: route('GET', '/v1/library/:id/removal', {
    summary: 'What removing the folder would touch',
    tags: library,
    params: folderParams,
    response: { 200: RemovalImpactSchema },
  }),
  removeFolder: route('DELETE', '/v1/library/:id', {
    summary: 'Stop watching a folder; its encrypted copies go only with deleteEncrypted',
    tags: library,
    params: folderParams,
    querystring: Type.Object(
      { deleteEncrypted: Type.Boolean({ default: false }) },
      { additionalProperties: false },
    ),
    response: { 204: Empty('Removed') },
  }),
  cancelScan: route('POST', '/v1/library/:id/cancel', {
    summary: 'Stop a running scan (nothing is then added)',
    tags: library,
    params: folderParams,
    response: { 202: ScanCancelledSchema },
  }),
  rescanFolder: route('POST', '/v1/library/:id/rescan', {
    summary: 'Scan a folder again',
    tags: library,
    params: folderParams,
    response: { 200: FolderViewSchema },
  }),
  folderFiles: route('GET', '/v1/library/:id/files', {
    summary: "A folder's files, with their jobs and what was read from them",
    tags: library,
    params: folderParams,
    response: { 200: Type.Array(FileViewSchema) },
  }),
  encryptFolder: route('POST', '/v1/library/:id/encrypt', {
    summary: "Protect a folder's pending files; progress shows on the folder",
    tags: library,
    params: folderParams,
    response: { 202: FolderViewSchema },
  }),
  upload: route('POST', '/v1/library/uploads', {
    summary: 'Upload one file from a browser, encrypted as it streams in',
    description:
      'A raw body with Content-Length, X-File-Name (the URL-encoded relative path) and ' +
      'X-File-Mtime (ms since the epoch). 200 when the same file was there already.',
    tags: library,
    consumes: ['application/octet-stream'],
    body: Type.Unknown({ description: 'The file bytes' }),
    response: { 200: UploadedFileSchema, 201: UploadedFileSchema },
  }),
  libraryItems: route('GET', '/v1/library/items', {
    summary: 'Every item of every library folder, newest first, with its pictures',
    description:
      'Items whose capture date is not known yet come last. Picture and media URLs are ' +
      'capability paths (`/pic/...`, `/media/...`) opened without the bearer token, valid ' +
      'until the engine restarts. Dates and titles show only while the vault is open.',
    tags: library,
    response: { 200: LibraryItemsSchema },
  }),
  setLabels: route('PATCH', '/v1/library/files/:id', {
    summary: "Set or clear an item's title and date (null clears, absent keeps)",
    tags: library,
    params: fileParams,
    body: SetLabelsSchema,
    response: { 200: LibraryItemSchema },
  }),
  cutList: route('GET', '/v1/library/files/:id/clips', {
    summary: "A tape's clips: the newest saved cut list (or `?version=N`), and every version",
    description:
      'Version 0 with no clips means none was saved yet. Duration and frame rate are the ' +
      "engine's, read from the vault copy. Encrypted videos only; the vault must be open.",
    tags: library,
    params: fileParams,
    querystring: CutListQuerySchema,
    response: { 200: CutListViewSchema },
  }),
  saveCutList: route('PUT', '/v1/library/files/:id/clips', {
    summary: "Save a tape's clips as a new version (refused if another was saved since basedOn)",
    tags: library,
    params: fileParams,
    body: SaveCutListSchema,
    response: { 200: CutListViewSchema },
  }),
  cutListCsv: route('GET', '/v1/library/files/:id/clips.csv', {
    summary: "A tape's clips as CSV (start, end, title, date), as a download",
    tags: library,
    params: fileParams,
    querystring: CutListQuerySchema,
    response: {
      200: {
        description: 'One row per clip after a header row; times as h:mm:ss.sss.',
        content: { 'text/csv': { schema: Type.String() } },
      },
    },
  }),
  importCutListCsv: route('POST', '/v1/library/files/:id/clips.csv', {
    summary: "Save a CSV file (start, end, title, date) as the tape's next version of clips",
    description: 'A text/csv body of at most 1 MB; a bad row is named by its number.',
    tags: library,
    params: fileParams,
    querystring: ImportCutListQuerySchema,
    consumes: ['text/csv'],
    body: Type.Unknown({ description: 'The CSV file' }),
    response: { 200: CutListViewSchema },
  }),
  makeClips: route('POST', '/v1/library/files/:id/clips/make', {
    summary: "Make the tape's newest saved clips into library items of their own",
    description:
      'One job per clip not made yet (exact FFV1 + FLAC, frame-accurate); each finished clip ' +
      'joins the library under "Clips of <tape>" with its title and date. Clips made before ' +
      'are kept and relabelled, never made twice; the tape is only read.',
    tags: library,
    params: fileParams,
    response: { 202: ClipExportSchema },
  }),
  tapeAnalysis: route('GET', '/v1/library/files/:id/tape-analysis', {
    summary: "A tape's newest analysis: where it is, and once done what it found",
    description:
      'Field order, a suggested crop, proposed cuts with their confidence, a quality summary ' +
      'and the stretches that could not be decoded. State `none` when it was never analysed.',
    tags: library,
    params: fileParams,
    response: { 200: TapeAnalysisViewSchema },
  }),
  analyseTape: route('POST', '/v1/library/files/:id/tape-analysis', {
    summary: 'Look through a tape: queue its analysis (or answer the one under way)',
    description:
      'On this computer, or with `remote` on a paired server, which reads the encrypted ' +
      'tape and seals what it finds. The body is optional.',
    tags: library,
    params: fileParams,
    body: AnalyseTapeSchema,
    response: { 202: TapeAnalysisViewSchema },
  }),
  saveFile: route('POST', '/v1/library/files/:id/save', {
    summary: 'Save a decrypted copy of a library item into a folder; answers a save task',
    tags: library,
    params: fileParams,
    body: SaveCopySchema,
    response: { 202: SaveTaskSchema },
  }),
  saveTask: route('GET', '/v1/saves/:id', {
    summary: 'Progress of a save task',
    tags: library,
    params: saveParams,
    response: { 200: SaveTaskSchema },
  }),
  recentlyWatched: route('GET', '/v1/library/watched', {
    summary: 'Recently watched: item ids and when, newest first (at most 50)',
    tags: library,
    response: { 200: WatchedListSchema },
  }),
  rememberWatched: route('POST', '/v1/library/watched', {
    summary: 'Mark items as just watched (newest first); ids not in the library are skipped',
    tags: library,
    body: RememberWatchedSchema,
    response: { 200: WatchedListSchema },
  }),
  settings: route('GET', '/v1/settings', {
    summary: 'The library settings',
    tags: library,
    response: { 200: SettingsSchema },
  }),
  updateSettings: route('PATCH', '/v1/settings', {
    summary: 'Change library settings',
    tags: library,
    body: UpdateSettingsSchema,
    response: { 200: SettingsSchema },
  }),

  // --- Jobs -------------------------------------------------------------------------------
  presets: route('GET', '/v1/presets', {
    summary: 'The presets, each with a JSON Schema of its parameters',
    tags: jobs,
    response: { 200: PresetListSchema },
  }),
  jobs: route('GET', '/v1/jobs', {
    summary: 'Jobs, newest first',
    tags: jobs,
    querystring: Type.Object(
      {
        state: Type.Optional(JobStateSchema),
        limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
      },
      { additionalProperties: false },
    ),
    response: { 200: Type.Array(DesktopJobSchema) },
  }),
  createJob: route('POST', '/v1/jobs', {
    summary: 'Run a preset on a protected library file',
    tags: jobs,
    body: CreateDesktopJobSchema,
    response: { 201: DesktopJobSchema },
  }),
  jobEvents: route('GET', '/v1/jobs/events', {
    summary: 'Live progress of every job, as Server-Sent Events',
    tags: jobs,
    response: {
      200: {
        description:
          '`job` events carry a job as GET /v1/jobs/:id answers it; `deleted` events `{id}`.',
        content: { 'text/event-stream': { schema: Type.String() } },
      },
    },
  }),
  job: route('GET', '/v1/jobs/:id', {
    summary: 'One job',
    tags: jobs,
    params: jobParams,
    response: { 200: DesktopJobSchema },
  }),
  cancelJob: route('POST', '/v1/jobs/:id/cancel', {
    summary: 'Cancel a job',
    tags: jobs,
    params: jobParams,
    response: { 200: DesktopJobSchema },
  }),
  retryJob: route('POST', '/v1/jobs/:id/retry', {
    summary: 'Run a failed or cancelled job again, as a new job',
    tags: jobs,
    params: jobParams,
    response: { 201: DesktopJobSchema },
  }),
  saveJob: route('POST', '/v1/jobs/:id/save', {
    summary: "Save a decrypted copy of a finished job's results; answers a save task",
    tags: jobs,
    params: jobParams,
    body: SaveCopySchema,
    response: { 202: SaveTaskSchema },
  }),
  deleteJob: route('DELETE', '/v1/jobs/:id', {
    summary: 'Remove a job and its outputs',
    tags: jobs,
    params: jobParams,
    response: { 204: Empty('Removed') },
  }),

  // --- Goals ------------------------------------------------------------------------------
  goals: route('GET', '/v1/goals', {
    summary: 'What the family can ask for, in plain words, each a chain of presets',
    tags: jobs,
    response: { 200: Type.Array(GoalViewSchema) },
  }),
  startGoal: route('POST', '/v1/goals', {
    summary: 'Start a goal on library items: answers the jobs made',
    description:
      'Every item must be of a kind the goal is for (PRESET_KIND_MISMATCH otherwise) and ' +
      'encrypted; nothing is started unless every item can be.',
    tags: jobs,
    body: StartGoalSchema,
    response: { 201: StartedGoalSchema },
  }),
  estimateGoal: route('POST', '/v1/goals/estimate', {
    summary: 'How long a goal would take, the room its results need, and the room free',
    tags: jobs,
    body: EstimateGoalSchema,
    response: { 200: GoalEstimateSchema },
  }),

  // --- Paired servers ---------------------------------------------------------------------
  previewServer: route('POST', '/v1/servers/preview', {
    summary: "A server's CA fingerprint, for the user to compare before pairing",
    tags: servers,
    body: ServerPreviewSchema,
    response: { 200: ServerFingerprintSchema },
  }),
  pairServer: route('POST', '/v1/servers', {
    summary: 'Pair with a server (one-time code and the compared fingerprint)',
    tags: servers,
    body: PairServerSchema,
    response: { 201: ServerViewSchema },
  }),
  servers: route('GET', '/v1/servers', {
    summary: 'Paired servers and their health',
    tags: servers,
    response: { 200: Type.Array(ServerViewSchema) },
  }),
  unpairServer: route('DELETE', '/v1/servers/:name', {
    summary: 'Forget a paired server',
    tags: servers,
    params: serverParams,
    response: { 204: Empty('Unpaired') },
  }),

  // --- Activity ---------------------------------------------------------------------------
  activity: route('GET', '/v1/activity', {
    summary: 'The activity log, newest first',
    tags: ['activity'],
    querystring: Type.Object(
      { limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }) },
      { additionalProperties: false },
    ),
    response: { 200: Type.Array(ActivityEntrySchema) },
  }),
};

// --- Types for clients (the renderer imports these with `import type`) ---------------------

export type DesktopRoutes = typeof DESKTOP_ROUTES;
export type DesktopRouteName = keyof DesktopRoutes;
type SchemaOf<N extends DesktopRouteName> = DesktopRoutes[N]['schema'];

/** Each route's method and path: what renderer/src/api-routes.ts must hold. */
export type DesktopRouteLines = {
  readonly [N in DesktopRouteName]: readonly [DesktopRoutes[N]['method'], DesktopRoutes[N]['url']];
};

export type RouteParams<N extends DesktopRouteName> =
  SchemaOf<N> extends { params: infer P extends TSchema } ? Static<P> : undefined;
/** Query fields with a default may be left out. */
export type RouteQuery<N extends DesktopRouteName> =
  SchemaOf<N> extends { querystring: infer Q extends TSchema } ? Partial<Static<Q>> : undefined;
export type RouteBody<N extends DesktopRouteName> =
  SchemaOf<N> extends { body: infer B extends TSchema } ? Static<B> : undefined;

type Success = 200 | 201 | 202 | 204;
type Responses<N extends DesktopRouteName> = SchemaOf<N>['response'];
type BodyOf<R> = R extends TSchema ? Static<R> : unknown;
/** What a successful reply holds; `undefined` for one without a body. */
export type RouteReply<N extends DesktopRouteName> = {
  [S in keyof Responses<N> & Success]: BodyOf<Responses<N>[S]>;
}[keyof Responses<N> & Success];
