// The renderer's only way to reach the engine: typed fetch calls with the per-launch
// bearer token. Every call names a route of the engine's route table
// (engine/src/net/desktop-route-table.ts): its method and path come from api-routes.ts,
// generated from that table, and its parameters, body and reply types from the table's
// own type (imported as a type only, so the UI bundle holds no engine code). A renamed
// route, a wrong body or a changed reply fails this file's typecheck.

import type { StatusResponse } from '../../engine/src/net/desktop-api';
import type { JobView } from '../../engine/src/net/contract';
import type {
  ActivityEntry,
  AddedFolder,
  CreateDesktopJobBody,
  CreatedVault,
  DesktopJob,
  FileView,
  FolderView,
  ItemInfo,
  LibraryItem,
  PairServerBody,
  RemovalImpact,
  SaveTaskView,
  SetLabelsBody,
  ServerFingerprint,
  ServerView,
  SettingsView,
  LockVaultBody,
  UnlockVaultBody,
  UploadedFile,
  VaultState,
  WatchedList,
} from '../../engine/src/net/desktop-contract';
import type {
  DesktopRouteName,
  RouteBody,
  RouteParams,
  RouteQuery,
  RouteReply,
} from '../../engine/src/net/desktop-route-table';
import type {
  ClipExportView,
  CutListView,
  SaveCutListBody,
} from '../../engine/src/net/desktop-clip-contract';
import type { AnalyseTapeBody, TapeAnalysisView } from '../../engine/src/net/desktop-tape-contract';
import type {
  NewRecoveryKeyBody,
  SetPasswordBody,
  VaultKeys,
} from '../../engine/src/net/desktop-vault-contract';
import { API_ROUTES } from './api-routes';
import { EngineError, badResponse, isApiError } from './engine-error';
import { uploadWithProgress } from './upload-request';

export { EngineError, needsVault } from './engine-error';

export type {
  ActivityEntry,
  AddedFolder,
  CreateDesktopJobBody,
  CreatedVault,
  DesktopJob,
  FileView,
  FolderView,
  ItemInfo,
  LibraryItem,
  PairServerBody,
  RemovalImpact,
  SaveTaskView,
  SetLabelsBody,
  ServerFingerprint,
  ServerView,
  SettingsView,
  LockVaultBody,
  UnlockVaultBody,
  UploadedFile,
  VaultState,
};
export type { NewRecoveryKeyBody, SetPasswordBody, VaultKeys };
export type { ClipExportView, CutListView, SaveCutListBody, TapeAnalysisView };
export type JobState = JobView['state'];

/** One preset as GET /v1/presets lists it; `parameters` is a JSON Schema object. */
export type PresetInfo = RouteReply<'presets'>[number];

/** A goal as GET /v1/goals lists it ("Preserve this tape"), and what starting one takes. */
export type GoalInfo = RouteReply<'goals'>[number];
export type GoalId = GoalInfo['id'];
export type GoalEstimate = RouteReply<'estimateGoal'>;
export type EstimateGoalBody = RouteBody<'estimateGoal'>;
export type StartGoalBody = RouteBody<'startGoal'>;
export type StartedGoal = RouteReply<'startGoal'>;

/**
 * What a request to route N carries, from the engine's route table: its path parameters,
 * query and JSON body, each required exactly when the route has one (so a wrong path or
 * body is a type error here, not a 400 at run time).
 */
export type ApiRequest<N extends DesktopRouteName> = (RouteParams<N> extends undefined
  ? { params?: undefined }
  : { params: RouteParams<N> }) &
  (RouteQuery<N> extends undefined ? { query?: undefined } : { query?: RouteQuery<N> }) &
  // A body the table leaves open (an upload's raw bytes) is sent through `raw` instead.
  (unknown extends RouteBody<N>
    ? { body?: undefined }
    : RouteBody<N> extends undefined
      ? { body?: undefined }
      : { body: RouteBody<N> });

/** The route's path with its `:params` filled in (each one URL-encoded) and its query. */
export function apiPath<N extends DesktopRouteName>(
  name: N,
  request: Pick<ApiRequest<N>, 'params' | 'query'>,
): string {
  return fillPath(name, request);
}

function fillPath(name: DesktopRouteName, request: { params?: unknown; query?: unknown }): string {
  const [, template] = API_ROUTES[name];
  const params = (request.params ?? {}) as Record<string, string | undefined>;
  const path = template.replace(/:(\w+)/g, (_match, key: string) => {
    const value = params[key];
    if (value === undefined) throw new Error(`${name}: no value for :${key}`);
    return encodeURIComponent(value);
  });
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined) query.set(key, String(value));
  }
  const qs = query.toString();
  return qs ? `${path}?${qs}` : path;
}

/** The file name a Content-Disposition gives (its UTF-8 form first), if any. */
function downloadName(res: Response): string | undefined {
  const header = res.headers.get('content-disposition') ?? '';
  const utf8 = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (utf8) {
    try {
      return decodeURIComponent(utf8[1]!);
    } catch {
      // A malformed one: the plain name below.
    }
  }
  return /filename="([^"]+)"/i.exec(header)?.[1];
}

/**
 * The token travels in the URL fragment (`#token=…`): fragments are never sent to a
 * server, logged, or leaked through Referer.
 */
export function tokenFromHash(hash: string): string | undefined {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('token');
  return token ? token : undefined;
}

export interface ListJobsOptions {
  state?: JobState;
  limit?: number;
}

export interface EngineClient {
  status(): Promise<StatusResponse>;

  vault(): Promise<VaultState>;
  createVault(password: string): Promise<CreatedVault>;
  unlockVault(body: UnlockVaultBody): Promise<void>;
  /** With jobs running, the body says whether to wait for them or stop them. */
  lockVault(body?: LockVaultBody): Promise<void>;
  vaultKeys(): Promise<VaultKeys>;
  /** A new password; `current` is not needed right after a recovery-key unlock. */
  setPassword(body: SetPasswordBody): Promise<void>;
  /** A new recovery key (shown once); the old one stops working. */
  newRecoveryKey(body: NewRecoveryKeyBody): Promise<CreatedVault>;
  confirmRecoveryKey(): Promise<void>;

  folders(): Promise<FolderView[]>;
  /** Scans (and, by the setting, protects) a folder; `notice` when nothing new was added. */
  addFolder(path: string): Promise<AddedFolder>;
  /** What removing would touch, for the confirmation. */
  removalImpact(id: string): Promise<RemovalImpact>;
  /** Stops watching; the encrypted copies go too only with `deleteEncrypted`. */
  removeFolder(id: string, deleteEncrypted: boolean): Promise<void>;
  cancelScan(id: string): Promise<void>;
  folderFiles(id: string): Promise<FileView[]>;
  /**
   * Every item of every folder, newest capture first (undated ones last), with capability
   * URLs of its pictures and of its vault copy (no token needed; valid until the engine
   * restarts).
   */
  libraryItems(): Promise<LibraryItem[]>;
  /** Sets (a value) or clears (null) an item's title and date; answers the item as it now is. */
  setLabels(id: string, body: SetLabelsBody): Promise<LibraryItem>;
  encryptFolder(id: string): Promise<void>;
  rescanFolder(id: string): Promise<FolderView | undefined>;
  /**
   * Uploads one file, encrypted by the engine as it arrives; `relPath` keeps the folder
   * structure of a dropped folder, and the file's own modification time is sent along.
   */
  upload(file: File, relPath: string, options?: UploadOptions): Promise<UploadedFile>;
  /** A tape's clips: the newest saved version (or `version`), and every version. */
  cutList(id: string, version?: number): Promise<CutListView>;
  /** Saves the clips as the next version; CUT_LIST_CHANGED when another came since `basedOn`. */
  saveCutList(id: string, body: SaveCutListBody): Promise<CutListView>;
  /** The clips as a CSV file, with the name the engine gives it. */
  cutListCsv(id: string, version?: number): Promise<{ name: string; csv: Blob }>;
  /** A CSV file (start, end, title, date) saved as the next version after `basedOn`. */
  importCutListCsv(id: string, basedOn: number, csv: Blob): Promise<CutListView>;
  /** Makes the newest saved clips into library items of their own (only those not made yet). */
  makeClips(id: string): Promise<ClipExportView>;
  /** A tape's newest analysis: queued, running, or what it found (proposed cuts and more). */
  tapeAnalysis(id: string): Promise<TapeAnalysisView>;
  /**
   * Starts looking through a tape (or answers the analysis under way): on this computer,
   * or with `remote` on that paired server.
   */
  analyseTape(id: string, body?: AnalyseTapeBody): Promise<TapeAnalysisView>;
  /** Starts decrypting a library item into `dir`; poll `saveTask` for progress. */
  saveFile(id: string, dir: string): Promise<SaveTaskView>;
  saveTask(id: string): Promise<SaveTaskView>;
  settings(): Promise<SettingsView>;
  updateSettings(changes: Partial<SettingsView>): Promise<SettingsView>;
  /** Recently watched: item ids and when, newest first (names come from libraryItems). */
  recentlyWatched(): Promise<WatchedList['items']>;
  /** Marks items (newest first) as just watched; answers the list as it now is. */
  rememberWatched(fileIds: string[]): Promise<WatchedList['items']>;

  presets(): Promise<PresetInfo[]>;

  jobs(options?: ListJobsOptions): Promise<DesktopJob[]>;
  job(id: string): Promise<DesktopJob>;
  createJob(body: CreateDesktopJobBody): Promise<DesktopJob>;
  cancelJob(id: string): Promise<DesktopJob | undefined>;
  retryJob(id: string): Promise<DesktopJob | undefined>;
  deleteJob(id: string): Promise<void>;
  /** Starts decrypting a finished job's results into `dir`; poll `saveTask` for progress. */
  saveJob(id: string, dir: string): Promise<SaveTaskView>;
  /** The raw SSE response of GET /v1/jobs/events (see sse.ts for reading it). */
  openJobEvents(signal: AbortSignal): Promise<Response>;

  goals(): Promise<GoalInfo[]>;
  /** How long a goal would take on these items, the room it needs and the room free. */
  estimateGoal(body: EstimateGoalBody): Promise<GoalEstimate>;
  /** Starts a goal: answers the jobs it made. */
  startGoal(body: StartGoalBody): Promise<StartedGoal>;

  previewServer(url: string): Promise<ServerFingerprint>;
  pairServer(body: PairServerBody): Promise<ServerView>;
  servers(): Promise<ServerView[]>;
  unpairServer(name: string): Promise<void>;

  activity(): Promise<ActivityEntry[]>;
}

export interface EngineClientOptions {
  /** Engine origin; '' means the page's own origin (the engine serves the UI). */
  baseUrl?: string;
  token: string | undefined;
  fetch?: typeof fetch;
}

export interface UploadOptions {
  signal?: AbortSignal;
  /** Bytes sent so far (browsers only report this through XMLHttpRequest). */
  onProgress?: (sent: number) => void;
}

/** What a request carries besides its route's own parts. */
interface SendOptions {
  /** Sent as is (uploads). */
  raw?: Blob;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  accept?: string;
}

export function createEngineClient(options: EngineClientOptions): EngineClient {
  const baseUrl = options.baseUrl ?? '';
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function send<N extends DesktopRouteName>(
    name: N,
    req: ApiRequest<N> & SendOptions,
  ): Promise<Response> {
    const [method] = API_ROUTES[name];
    const headers: Record<string, string> = { accept: req.accept ?? 'application/json' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: BodyInit | undefined;
    const json = (req as { body?: unknown }).body;
    if (req.raw !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      body = req.raw;
    } else if (json !== undefined || method === 'POST') {
      // A POST always carries a JSON body, `{}` when its route takes none.
      headers['content-type'] = 'application/json';
      body = JSON.stringify(json ?? {});
    }
    Object.assign(headers, req.headers);
    const init: RequestInit = { headers, cache: 'no-store' };
    if (method !== 'GET') init.method = method;
    if (body !== undefined) init.body = body;
    if (req.signal) init.signal = req.signal;
    let res: Response;
    try {
      res = await doFetch(`${baseUrl}${fillPath(name, req)}`, init);
    } catch (err) {
      if (req.signal?.aborted) throw err;
      const detail = err instanceof Error ? err.message : String(err);
      throw new EngineError('ENGINE_UNREACHABLE', `The engine is not reachable (${detail}).`, 0);
    }
    if (res.ok) return res;
    const errBody: unknown = await res.json().catch(() => undefined);
    if (isApiError(errBody)) throw new EngineError(errBody.code, errBody.message, res.status);
    throw badResponse(res.status);
  }

  /** For routes that answer a body. */
  async function call<N extends DesktopRouteName>(
    name: N,
    req: ApiRequest<N> & SendOptions,
  ): Promise<Exclude<RouteReply<N>, undefined>> {
    const res = await send(name, req);
    const body: unknown = await res.json().catch(() => undefined);
    if (body === undefined) throw badResponse(res.status);
    return body as Exclude<RouteReply<N>, undefined>;
  }

  /** For routes that may answer 204 or a body: the body when there is one. */
  async function maybe<N extends DesktopRouteName>(
    name: N,
    req: ApiRequest<N>,
  ): Promise<RouteReply<N> | undefined> {
    const res = await send(name, req as ApiRequest<N> & SendOptions);
    if (res.status === 204) return undefined;
    const text = await res.text();
    if (!text) return undefined;
    try {
      return JSON.parse(text) as RouteReply<N> | undefined;
    } catch {
      throw badResponse(res.status);
    }
  }

  /** For routes whose answer says nothing the caller needs. */
  async function none<N extends DesktopRouteName>(name: N, req: ApiRequest<N>): Promise<void> {
    const res = await send(name, req as ApiRequest<N> & SendOptions);
    await res.body?.cancel();
  }

  return {
    status: () => call('status', {}),

    vault: () => call('vault', {}),
    // The app always has the user type part of the recovery key back (RecoveryKeyStep).
    createVault: (password) => call('createVault', { body: { password, checkRecoveryKey: true } }),
    unlockVault: (body) => none('unlockVault', { body }),
    vaultKeys: () => call('vaultKeys', {}),
    setPassword: (body) => none('setPassword', { body }),
    newRecoveryKey: (body) => call('newRecoveryKey', { body }),
    confirmRecoveryKey: () => none('confirmRecoveryKey', {}),
    lockVault: (body) => none('lockVault', { body: body ?? {} }),

    folders: () => call('folders', {}),
    addFolder: (path) => call('addFolder', { body: { path } }),
    removalImpact: (id) => call('removalImpact', { params: { id } }),
    removeFolder: (id, deleteEncrypted) =>
      none('removeFolder', {
        params: { id },
        query: deleteEncrypted ? { deleteEncrypted: true } : {},
      }),
    cancelScan: (id) => none('cancelScan', { params: { id } }),
    folderFiles: (id) => call('folderFiles', { params: { id } }),
    libraryItems: async () => (await call('libraryItems', {})).items,
    setLabels: (id, body) => call('setLabels', { params: { id }, body }),
    encryptFolder: (id) => none('encryptFolder', { params: { id } }),
    rescanFolder: (id) => maybe('rescanFolder', { params: { id } }),
    upload: (file, relPath, opts = {}) => {
      const headers = {
        'x-file-name': encodeURIComponent(relPath),
        'x-file-mtime': String(file.lastModified),
      };
      // fetch cannot report upload progress; XMLHttpRequest can, where there is one.
      if (opts.onProgress && typeof XMLHttpRequest !== 'undefined') {
        return uploadWithProgress(
          `${baseUrl}${apiPath('upload', {})}`,
          file,
          {
            ...headers,
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          },
          opts,
        );
      }
      return call('upload', {
        raw: file,
        headers,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    },
    cutList: (id, version) => call('cutList', { params: { id }, query: { version } }),
    saveCutList: (id, body) => call('saveCutList', { params: { id }, body }),
    cutListCsv: async (id, version) => {
      const res = await send('cutListCsv', {
        params: { id },
        query: { version },
        accept: 'text/csv',
      });
      return { name: downloadName(res) ?? 'clips.csv', csv: await res.blob() };
    },
    importCutListCsv: (id, basedOn, csv) =>
      call('importCutListCsv', {
        params: { id },
        query: { basedOn },
        raw: csv,
        headers: { 'content-type': 'text/csv' },
      }),
    makeClips: (id) => call('makeClips', { params: { id } }),
    tapeAnalysis: (id) => call('tapeAnalysis', { params: { id } }),
    analyseTape: (id, body) => call('analyseTape', { params: { id }, body: body ?? {} }),
    saveFile: (id, dir) => call('saveFile', { params: { id }, body: { dir } }),
    saveTask: (id) => call('saveTask', { params: { id } }),
    settings: () => call('settings', {}),
    updateSettings: (changes) => call('updateSettings', { body: changes }),
    recentlyWatched: async () => (await call('recentlyWatched', {})).items,
    rememberWatched: async (fileIds) =>
      (await call('rememberWatched', { body: { fileIds } })).items,

    presets: () => call('presets', {}),

    jobs: (opts = {}) => call('jobs', { query: { state: opts.state, limit: opts.limit } }),
    job: (id) => call('job', { params: { id } }),
    createJob: (body) => call('createJob', { body }),
    cancelJob: (id) => maybe('cancelJob', { params: { id } }),
    retryJob: (id) => maybe('retryJob', { params: { id } }),
    deleteJob: (id) => none('deleteJob', { params: { id } }),
    saveJob: (id, dir) => call('saveJob', { params: { id }, body: { dir } }),
    openJobEvents: (signal) => send('jobEvents', { signal, accept: 'text/event-stream' }),

    goals: () => call('goals', {}),
    estimateGoal: (body) => call('estimateGoal', { body }),
    startGoal: (body) => call('startGoal', { body }),

    previewServer: (url) => call('previewServer', { body: { url } }),
    pairServer: (body) => call('pairServer', { body }),
    servers: () => call('servers', {}),
    unpairServer: (name) => none('unpairServer', { params: { name } }),

    activity: () => call('activity', {}),
  };
}
