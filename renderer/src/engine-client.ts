// The renderer's only way to reach the engine: typed fetch calls with the per-launch
// bearer token. Shapes come from the engine's API contract as types only, so the UI
// bundle contains no engine code and a contract change fails this file's typecheck.

import type { ErrorCode } from '../../engine/src/core/errors';
import type { API_PATHS, ApiError, StatusResponse } from '../../engine/src/net/desktop-api';
import type { JobView } from '../../engine/src/net/contract';
import type {
  ActivityEntry,
  AddedFolder,
  CreateDesktopJobBody,
  CreatedVault,
  DESKTOP_PATHS,
  DesktopJob,
  FileView,
  FolderView,
  ItemInfo,
  PairServerBody,
  RemovalImpact,
  SaveTaskView,
  ServerFingerprint,
  ServerView,
  SettingsView,
  LockVaultBody,
  UnlockVaultBody,
  UploadedFile,
  VaultState,
} from '../../engine/src/net/desktop-contract';
import type {
  NewRecoveryKeyBody,
  SetPasswordBody,
  VAULT_KEY_PATHS,
  VaultKeys,
} from '../../engine/src/net/desktop-vault-contract';

export type {
  ActivityEntry,
  AddedFolder,
  CreateDesktopJobBody,
  CreatedVault,
  DesktopJob,
  FileView,
  FolderView,
  ItemInfo,
  PairServerBody,
  RemovalImpact,
  SaveTaskView,
  ServerFingerprint,
  ServerView,
  SettingsView,
  LockVaultBody,
  UnlockVaultBody,
  UploadedFile,
  VaultState,
};
export type { NewRecoveryKeyBody, SetPasswordBody, VaultKeys };
export type JobState = JobView['state'];

/** The vault-key routes (desktop-vault-contract.ts), typed as the engine's literals. */
export const KEY_PATHS: typeof VAULT_KEY_PATHS = {
  keys: '/v1/vault/keys',
  password: '/v1/vault/password',
  recoveryKey: '/v1/vault/recovery-key',
  recoveryKeyConfirm: '/v1/vault/recovery-key/confirm',
};

/** One preset as GET /v1/presets lists it; `parameters` is a JSON Schema object. */
export interface PresetInfo {
  name: string;
  description: string;
  scopes: string[];
  accepts: string;
  parameters: Record<string, unknown>;
}

type Desktop = typeof DESKTOP_PATHS;
type PathFn = (id: string) => string;

// Spelt out here (no runtime import), but typed as the engine's own literals and
// functions, so a renamed path fails the typecheck.
const seg = encodeURIComponent;
export const PATHS: {
  status: (typeof API_PATHS)['status'];
} & { [K in keyof Desktop]: Desktop[K] extends PathFn ? PathFn : Desktop[K] } = {
  status: '/v1/status',
  vault: '/v1/vault',
  vaultUnlock: '/v1/vault/unlock',
  vaultLock: '/v1/vault/lock',
  folders: '/v1/library',
  folder: (id) => `/v1/library/${seg(id)}`,
  folderFiles: (id) => `/v1/library/${seg(id)}/files`,
  folderEncrypt: (id) => `/v1/library/${seg(id)}/encrypt`,
  folderRescan: (id) => `/v1/library/${seg(id)}/rescan`,
  folderImpact: (id) => `/v1/library/${seg(id)}/removal`,
  folderCancel: (id) => `/v1/library/${seg(id)}/cancel`,
  uploads: '/v1/library/uploads',
  fileSave: (id) => `/v1/library/files/${seg(id)}/save`,
  save: (id) => `/v1/saves/${seg(id)}`,
  settings: '/v1/settings',
  presets: '/v1/presets',
  jobs: '/v1/jobs',
  jobEvents: '/v1/jobs/events',
  job: (id) => `/v1/jobs/${seg(id)}`,
  jobCancel: (id) => `/v1/jobs/${seg(id)}/cancel`,
  jobRetry: (id) => `/v1/jobs/${seg(id)}/retry`,
  jobSave: (id) => `/v1/jobs/${seg(id)}/save`,
  servers: '/v1/servers',
  serverPreview: '/v1/servers/preview',
  server: (name) => `/v1/servers/${seg(name)}`,
  activity: '/v1/activity',
};

/** Engine codes, plus the two failures only a client can see. */
export type ClientErrorCode = ErrorCode | 'ENGINE_UNREACHABLE' | 'BAD_RESPONSE';

export class EngineError extends Error {
  readonly code: ClientErrorCode;
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;

  constructor(code: ClientErrorCode, message: string, status: number) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
    this.status = status;
  }
}

/** The vault must be unlocked (or created) before this request can succeed. */
export function needsVault(err: unknown): boolean {
  if (!(err instanceof EngineError)) return false;
  // Typed as the registry's codes (no cast): a code the engine does not have is a type
  // error here. The engine says PASSWORD_REQUIRED for a locked vault.
  const codes: readonly ClientErrorCode[] = ['PASSWORD_REQUIRED', 'VAULT_NOT_FOUND'];
  return codes.includes(err.code);
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
  encryptFolder(id: string): Promise<void>;
  rescanFolder(id: string): Promise<FolderView | undefined>;
  /**
   * Uploads one file, encrypted by the engine as it arrives; `relPath` keeps the folder
   * structure of a dropped folder, and the file's own modification time is sent along.
   */
  upload(file: File, relPath: string, options?: UploadOptions): Promise<UploadedFile>;
  /** Starts decrypting a library item into `dir`; poll `saveTask` for progress. */
  saveFile(id: string, dir: string): Promise<SaveTaskView>;
  saveTask(id: string): Promise<SaveTaskView>;
  settings(): Promise<SettingsView>;
  updateSettings(changes: Partial<SettingsView>): Promise<SettingsView>;

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

interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE' | 'PATCH';
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (uploads). */
  raw?: Blob;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  accept?: string;
}

export function createEngineClient(options: EngineClientOptions): EngineClient {
  const baseUrl = options.baseUrl ?? '';
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function send(path: string, req: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: req.accept ?? 'application/json' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: BodyInit | undefined;
    if (req.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.json);
    } else if (req.raw !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      body = req.raw;
    }
    Object.assign(headers, req.headers);
    const init: RequestInit = { headers, cache: 'no-store' };
    if (req.method && req.method !== 'GET') init.method = req.method;
    if (body !== undefined) init.body = body;
    if (req.signal) init.signal = req.signal;
    let res: Response;
    try {
      res = await doFetch(`${baseUrl}${path}`, init);
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

  async function call<T>(path: string, req?: RequestOptions): Promise<T> {
    const res = await send(path, req);
    const body: unknown = await res.json().catch(() => undefined);
    if (body === undefined) throw badResponse(res.status);
    return body as T;
  }

  /** For routes that may answer 204 or a body: the body when there is one. */
  async function maybe<T>(path: string, req?: RequestOptions): Promise<T | undefined> {
    const res = await send(path, req);
    if (res.status === 204) return undefined;
    const text = await res.text();
    if (!text) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw badResponse(res.status);
    }
  }

  async function none(path: string, req?: RequestOptions): Promise<void> {
    const res = await send(path, req);
    await res.body?.cancel();
  }

  const post = (json?: unknown): RequestOptions => ({ method: 'POST', json: json ?? {} });

  return {
    status: () => call<StatusResponse>(PATHS.status),

    vault: () => call<VaultState>(PATHS.vault),
    // The app always has the user type part of the recovery key back (RecoveryKeyStep).
    createVault: (password) =>
      call<CreatedVault>(PATHS.vault, post({ password, checkRecoveryKey: true })),
    unlockVault: (body) => none(PATHS.vaultUnlock, post(body)),
    vaultKeys: () => call<VaultKeys>(KEY_PATHS.keys),
    setPassword: (body) => none(KEY_PATHS.password, post(body)),
    newRecoveryKey: (body) => call<CreatedVault>(KEY_PATHS.recoveryKey, post(body)),
    confirmRecoveryKey: () => none(KEY_PATHS.recoveryKeyConfirm, post()),
    lockVault: (body) => none(PATHS.vaultLock, post(body)),

    folders: () => call<FolderView[]>(PATHS.folders),
    addFolder: (path) => call<AddedFolder>(PATHS.folders, post({ path })),
    removalImpact: (id) => call<RemovalImpact>(PATHS.folderImpact(id)),
    removeFolder: (id, deleteEncrypted) =>
      none(deleteEncrypted ? `${PATHS.folder(id)}?deleteEncrypted=true` : PATHS.folder(id), {
        method: 'DELETE',
      }),
    cancelScan: (id) => none(PATHS.folderCancel(id), post()),
    folderFiles: (id) => call<FileView[]>(PATHS.folderFiles(id)),
    encryptFolder: (id) => none(PATHS.folderEncrypt(id), post()),
    rescanFolder: (id) => maybe<FolderView>(PATHS.folderRescan(id), post()),
    upload: (file, relPath, opts = {}) => {
      const headers = {
        'x-file-name': encodeURIComponent(relPath),
        'x-file-mtime': String(file.lastModified),
      };
      // fetch cannot report upload progress; XMLHttpRequest can, where there is one.
      if (opts.onProgress && typeof XMLHttpRequest !== 'undefined') {
        return uploadWithProgress(
          `${baseUrl}${PATHS.uploads}`,
          file,
          {
            ...headers,
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          },
          opts,
        );
      }
      return call<UploadedFile>(PATHS.uploads, {
        method: 'POST',
        raw: file,
        headers,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    },
    saveFile: (id, dir) => call<SaveTaskView>(PATHS.fileSave(id), post({ dir })),
    saveTask: (id) => call<SaveTaskView>(PATHS.save(id)),
    settings: () => call<SettingsView>(PATHS.settings),
    updateSettings: (changes) =>
      call<SettingsView>(PATHS.settings, { method: 'PATCH', json: changes }),

    presets: () => call<PresetInfo[]>(PATHS.presets),

    jobs: (opts = {}) => {
      const q = new URLSearchParams();
      if (opts.state) q.set('state', opts.state);
      if (opts.limit !== undefined) q.set('limit', String(opts.limit));
      const qs = q.toString();
      return call<DesktopJob[]>(qs ? `${PATHS.jobs}?${qs}` : PATHS.jobs);
    },
    job: (id) => call<DesktopJob>(PATHS.job(id)),
    createJob: (body) => call<DesktopJob>(PATHS.jobs, post(body)),
    cancelJob: (id) => maybe<DesktopJob>(PATHS.jobCancel(id), post()),
    retryJob: (id) => maybe<DesktopJob>(PATHS.jobRetry(id), post()),
    deleteJob: (id) => none(PATHS.job(id), { method: 'DELETE' }),
    saveJob: (id, dir) => call<SaveTaskView>(PATHS.jobSave(id), post({ dir })),
    openJobEvents: (signal) => send(PATHS.jobEvents, { signal, accept: 'text/event-stream' }),

    previewServer: (url) => call<ServerFingerprint>(PATHS.serverPreview, post({ url })),
    pairServer: (body) => call<ServerView>(PATHS.servers, post(body)),
    servers: () => call<ServerView[]>(PATHS.servers),
    unpairServer: (name) => none(PATHS.server(name), { method: 'DELETE' }),

    activity: () => call<ActivityEntry[]>(PATHS.activity),
  };
}

/** An upload through XMLHttpRequest, for its progress events; errors as `send` makes them. */
function uploadWithProgress(
  url: string,
  file: File,
  headers: Record<string, string>,
  opts: UploadOptions,
): Promise<UploadedFile> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('accept', 'application/json');
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => opts.onProgress?.(e.loaded);
    const abort = () => xhr.abort();
    opts.signal?.addEventListener('abort', abort, { once: true });
    const done = () => opts.signal?.removeEventListener('abort', abort);
    xhr.onload = () => {
      done();
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300 && body !== undefined) {
        resolve(body as UploadedFile);
      } else if (isApiError(body)) {
        reject(new EngineError(body.code, body.message, xhr.status));
      } else {
        reject(badResponse(xhr.status));
      }
    };
    xhr.onerror = () => {
      done();
      reject(new EngineError('ENGINE_UNREACHABLE', 'The engine is not reachable.', 0));
    };
    xhr.onabort = () => {
      done();
      reject(new DOMException('The upload was stopped.', 'AbortError'));
    };
    xhr.send(file);
  });
}

function badResponse(status: number): EngineError {
  return new EngineError(
    'BAD_RESPONSE',
    `The engine sent an unexpected response (HTTP ${status}).`,
    status,
  );
}

function isApiError(body: unknown): body is ApiError {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as ApiError).code === 'string' &&
    typeof (body as ApiError).message === 'string'
  );
}
