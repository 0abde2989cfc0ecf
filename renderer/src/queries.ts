// react-query hooks over the engine client: caching, retries, polling and the live job
// stream live here. Screens call these and never the client directly for reads.
import {
  QueryCache,
  QueryClient,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import type { QueryKey } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { notify } from './bridge';
import { useClient } from './client-context';
import type {
  CreateDesktopJobBody,
  DesktopJob,
  EngineClient,
  LibraryItem,
  PairServerBody,
  SettingsView,
  LockVaultBody,
  UnlockVaultBody,
} from './engine-client';
import { EngineError, needsVault } from './engine-client';
import { jobTitle } from './job-title';
import {
  JOB_LIST,
  JOB_LIST_LIMIT,
  JOBS,
  applyJobUpdates,
  clearJobViews,
  configureJobCache,
  forgetJob,
  loadJobList,
  parseDeletedEvent,
  parseJobEvent,
  rememberJob,
} from './live-jobs';
import { runSseStream } from './sse';
import { AUTO_REFRESH_MS, useUiStore } from './ui-store';
import type { EventsState } from './ui-store';

/** Jobs that ran at least this long announce their end with an OS notification. */
const LONG_JOB_MS = 30_000;
const FINISHED_WORDS: Record<string, string> = {
  succeeded: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};

export const keys = {
  status: ['engine', 'status'] as const,
  vault: ['vault'] as const,
  folders: ['folders'] as const,
  files: (folderId: string) => ['files', folderId] as const,
  presets: ['presets'] as const,
  /** The job list; the live views beside it are in live-jobs.ts. */
  jobs: JOB_LIST,
  servers: ['servers'] as const,
  activity: ['activity'] as const,
  settings: ['settings'] as const,
  /** Every library item, newest first (the timeline's and the viewer's order). */
  libraryItems: ['library-items'] as const,
};

/** Failures that asking again will not fix. */
function permanent(err: unknown): boolean {
  return (
    err instanceof EngineError &&
    (needsVault(err) ||
      (err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429) ||
      err.code === 'BAD_RESPONSE')
  );
}

/** The app's query client: no retries for permanent failures; a locked vault routes to the Vault screen. */
export function createQueryClient(): QueryClient {
  const client = new QueryClient({
    queryCache: new QueryCache({
      onError: (err) => {
        if (needsVault(err) && useUiStore.getState().screen !== 'vault') {
          useUiStore.getState().go('vault', 'Unlock the vault to continue.');
        }
      },
    }),
    defaultOptions: {
      queries: {
        retry: (failures, err) => !permanent(err) && failures < 2,
        refetchOnWindowFocus: false,
      },
    },
  });
  return configureJobCache(client);
}

/** How often the page asks for an engine it cannot reach (one restarting, say). */
const RECONNECT_MS = 2_000;
const unreachable = (err: unknown) =>
  err instanceof EngineError && err.code === 'ENGINE_UNREACHABLE';
/** Set while the engine cannot be reached; cleared by the first answer after. */
let engineWasDown = false;

export function useEngineStatus(client: EngineClient) {
  const autoRefresh = useUiStore((s) => s.autoRefresh);
  const queryClient = useQueryClient();
  const status = useQuery({
    queryKey: keys.status,
    queryFn: () => client.status(),
    // While the engine cannot be reached, keep asking: a restarted engine (same address
    // in browser mode) brings the page back by itself, without a reload.
    refetchInterval: (query) =>
      autoRefresh ? AUTO_REFRESH_MS : unreachable(query.state.error) ? RECONNECT_MS : false,
    // A wrong token will not get better by asking again.
    retry: (failures, err) =>
      !(err instanceof EngineError && err.code === 'UNAUTHORIZED') && failures < 2,
  });
  useEffect(() => {
    if (unreachable(status.error)) engineWasDown = true;
    else if (status.data && engineWasDown) {
      engineWasDown = false;
      // Back: everything else was read from the engine before it went (its vault was
      // open then; a restarted engine's is locked).
      void queryClient.invalidateQueries({ predicate: (q) => q.queryKey !== keys.status });
    }
  }, [status.error, status.data, status.dataUpdatedAt, queryClient]);
  return status;
}

export function useVault() {
  const client = useClient();
  return useQuery({
    queryKey: keys.vault,
    queryFn: () => client.vault(),
    // A lock waiting for running jobs happens by itself: follow it.
    refetchInterval: (query) => (query.state.data?.lockPending ? 1000 : false),
  });
}

/** Library data is only readable with the vault open. */
function useUnlocked(): boolean {
  return useVault().data?.unlocked === true;
}

/** `watch`: poll anyway (a folder being added shows up, with its scan, only once listed). */
export function useFolders(watch = false) {
  const client = useClient();
  const enabled = useUnlocked();
  return useQuery({
    queryKey: keys.folders,
    queryFn: () => client.folders(),
    enabled,
    // Scan and encryption progress show up in the folder list: follow them while they run.
    refetchInterval: (query) =>
      watch ||
      query.state.data?.some((f) => f.encrypting !== undefined || f.scanning || f.readingInfo)
        ? 1000
        : false,
  });
}

export function useSettings() {
  const client = useClient();
  return useQuery({ queryKey: keys.settings, queryFn: () => client.settings() });
}

export function useSettingsActions() {
  const client = useClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (changes: Partial<SettingsView>) => client.updateSettings(changes),
    onSuccess: (settings) => queryClient.setQueryData(keys.settings, settings),
  });
}

export function useFolderFiles(folderId: string | undefined, watch = false) {
  const client = useClient();
  const queryClient = useQueryClient();
  const enabled = useUnlocked() && folderId !== undefined;
  // When the work being followed ends, ask once more: its last items may have landed
  // after the last poll.
  const watched = useRef(watch);
  useEffect(() => {
    if (watched.current && !watch && folderId !== undefined) {
      void queryClient.invalidateQueries({ queryKey: keys.files(folderId) });
    }
    watched.current = watch;
  }, [watch, folderId, queryClient]);
  return useQuery({
    queryKey: keys.files(folderId ?? ''),
    queryFn: () => client.folderFiles(folderId ?? ''),
    enabled,
    // While files are protected, or the engine reads their dates and details (`watch`).
    refetchInterval: watch ? 1000 : false,
  });
}

/** Every item of the library, newest first; refreshed when jobs on them finish. */
export function useLibraryItems() {
  const client = useClient();
  const enabled = useUnlocked();
  return useQuery({
    queryKey: keys.libraryItems,
    queryFn: () => client.libraryItems(),
    enabled,
  });
}

/** Sets or clears an item's title and date; the answer replaces the item in the list. */
export function useSetLabels() {
  const client = useClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: { id: string; title?: string | null; date?: string | null }) =>
      client.setLabels(id, body),
    onSuccess: (item) => {
      queryClient.setQueryData<LibraryItem[]>(keys.libraryItems, (items) =>
        items?.map((i) => (i.id === item.id ? item : i)),
      );
      // Its place in the timeline may have moved with its date.
      void queryClient.invalidateQueries({ queryKey: keys.libraryItems });
    },
  });
}

/**
 * One job's latest view: from the live job list when it holds it (kept current by the
 * job stream), else asked for once (an old job beyond the list's limit).
 */
export function useJob(id: string | undefined) {
  const client = useClient();
  const jobs = useJobs();
  const listed = id === undefined ? undefined : jobs.data?.find((j) => j.id === id);
  const asked = useQuery({
    queryKey: ['job', id ?? ''],
    queryFn: () => client.job(id ?? ''),
    enabled: id !== undefined && jobs.data !== undefined && listed === undefined,
  });
  return listed ?? asked.data;
}

export function usePresets() {
  const client = useClient();
  return useQuery({
    queryKey: keys.presets,
    queryFn: () => client.presets(),
    staleTime: Infinity,
  });
}

export function useJobs() {
  const client = useClient();
  const queryClient = useQueryClient();
  const enabled = useUnlocked();
  return useQuery({
    queryKey: keys.jobs,
    queryFn: () => loadJobList(queryClient, () => client.jobs({ limit: JOB_LIST_LIMIT })),
    enabled,
    // Live updates arrive over SSE (useJobEvents); no polling.
    staleTime: Infinity,
  });
}

export function useServers(watch: boolean) {
  const client = useClient();
  return useQuery({
    queryKey: keys.servers,
    queryFn: () => client.servers(),
    refetchInterval: watch ? 15_000 : false,
  });
}

export function useActivity() {
  const client = useClient();
  return useQuery({ queryKey: keys.activity, queryFn: () => client.activity() });
}

/**
 * Follows GET /v1/jobs/events while the vault is open and merges each update into the
 * job list cache, batched per 100 ms so a busy queue costs one render per batch.
 * A (re)connect refetches the list once, covering whatever was missed.
 */
export function useJobEvents(): EventsState {
  const client = useClient();
  const queryClient = useQueryClient();
  const unlocked = useUnlocked();
  const state = useUiStore((s) => s.events);

  useEffect(() => {
    if (!unlocked) return;
    const controller = new AbortController();
    const setEvents = useUiStore.getState().setEvents;
    setEvents('connecting');
    let pending: DesktopJob[] = [];
    let opened = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      const updates = pending;
      pending = [];
      const finished = applyJobUpdates(queryClient, updates);
      for (const { job, before } of finished) {
        // Long jobs end while the family is elsewhere: tell them (in the app, not a
        // browser). Only for an end we saw happen, not for old jobs in the opening snapshot.
        const ranMs = (job.finishedAt ?? 0) - (job.startedAt ?? Infinity);
        if (before && ranMs >= LONG_JOB_MS) {
          notify(
            `${jobTitle(job)}: ${FINISHED_WORDS[job.state] ?? job.state}`,
            job.lastError?.message ?? '',
          );
        }
      }
      if (finished.length > 0) {
        // Finished jobs change what the library shows (encoded counts, file job lists).
        void queryClient.invalidateQueries({ queryKey: keys.folders });
        void queryClient.invalidateQueries({ queryKey: ['files'] satisfies QueryKey });
        void queryClient.invalidateQueries({ queryKey: keys.libraryItems });
      }
    };
    void runSseStream({
      signal: controller.signal,
      open: (signal) => client.openJobEvents(signal),
      onOpen: () => {
        setEvents('live');
        // The first connection follows the list load; a reconnect may have missed changes
        // (the engine's opening snapshot covers only active and recent jobs).
        if (opened++ > 0) void queryClient.invalidateQueries({ queryKey: keys.jobs });
      },
      onError: (err) => {
        setEvents('retrying');
        // The engine answers but the stream cannot open: it restarted (its vault locked)
        // or the token changed. Asking the state again takes the page where it can act
        // (the unlock screen, or the status panel's advice) instead of retrying forever.
        if (needsVault(err)) void queryClient.invalidateQueries({ queryKey: keys.vault });
        else if (err instanceof EngineError && err.code === 'UNAUTHORIZED') {
          void queryClient.invalidateQueries({ queryKey: keys.status });
        } else if (unreachable(err)) void queryClient.invalidateQueries({ queryKey: keys.status });
      },
      onMessage: (message) => {
        if (message.event === 'deleted') {
          const id = parseDeletedEvent(message.data);
          if (id) {
            forgetJob(queryClient, id);
            pending = pending.filter((j) => j.id !== id);
          }
          return;
        }
        if (message.event !== 'job') return;
        const job = parseJobEvent(message.data);
        if (!job) return;
        pending.push(job);
        timer ??= setTimeout(flush, 100);
      },
    });
    return () => {
      controller.abort();
      clearJobViews(queryClient);
      if (timer) clearTimeout(timer);
      setEvents('off');
    };
  }, [client, queryClient, unlocked]);

  return state;
}

// --- Mutations --------------------------------------------------------------------------

function useInvalidate() {
  const queryClient = useQueryClient();
  return (...keysToInvalidate: QueryKey[]) =>
    Promise.all(keysToInvalidate.map((queryKey) => queryClient.invalidateQueries({ queryKey })));
}

export function useVaultActions() {
  const client = useClient();
  const queryClient = useQueryClient();
  const invalidate = useInvalidate();
  const afterChange = async () => {
    await invalidate(keys.vault, keys.status);
    // Everything else was read under the old state.
    await queryClient.invalidateQueries({
      predicate: (q) => q.queryKey[0] !== 'vault' && q.queryKey[0] !== 'presets',
    });
  };
  return {
    create: useMutation({
      mutationFn: (password: string) => client.createVault(password),
      // Not awaited: the caller must get the recovery key before the vault state changes.
      onSuccess: () => void afterChange(),
    }),
    unlock: useMutation({
      mutationFn: (body: UnlockVaultBody) => client.unlockVault(body),
      onSuccess: afterChange,
    }),
    /** With jobs running, `{ jobs: 'wait' | 'stop' }` says what becomes of them. */
    lock: useMutation({
      mutationFn: (body?: LockVaultBody) => client.lockVault(body),
      onSuccess: async () => {
        queryClient.removeQueries({ queryKey: JOBS });
        queryClient.removeQueries({ queryKey: keys.folders });
        queryClient.removeQueries({ queryKey: ['files'] });
        queryClient.removeQueries({ queryKey: keys.libraryItems });
        await afterChange();
      },
    }),
  };
}

export function useLibraryActions() {
  const client = useClient();
  const invalidate = useInvalidate();
  const refresh = () => invalidate(keys.folders, ['files'], keys.libraryItems);
  return {
    add: useMutation({ mutationFn: (path: string) => client.addFolder(path), onSuccess: refresh }),
    remove: useMutation({
      mutationFn: ({ id, deleteEncrypted }: { id: string; deleteEncrypted: boolean }) =>
        client.removeFolder(id, deleteEncrypted),
      onSuccess: refresh,
    }),
    cancelScan: useMutation({
      mutationFn: (id: string) => client.cancelScan(id),
      onSuccess: refresh,
    }),
    encrypt: useMutation({
      mutationFn: (id: string) => client.encryptFolder(id),
      onSuccess: refresh,
    }),
    rescan: useMutation({
      mutationFn: (id: string) => client.rescanFolder(id),
      onSuccess: refresh,
    }),
    refresh,
  };
}

export function useJobActions() {
  const client = useClient();
  const queryClient = useQueryClient();
  const merge = (job: DesktopJob | undefined) => {
    if (job) rememberJob(queryClient, job);
  };
  const refetch = () => queryClient.invalidateQueries({ queryKey: keys.jobs });
  return {
    create: useMutation({
      mutationFn: (body: CreateDesktopJobBody) => client.createJob(body),
      onSuccess: (job) => {
        merge(job);
        void queryClient.invalidateQueries({ queryKey: ['files'] });
        void queryClient.invalidateQueries({ queryKey: keys.libraryItems });
      },
    }),
    cancel: useMutation({
      mutationFn: (id: string) => client.cancelJob(id),
      onSuccess: (job) => (job ? merge(job) : void refetch()),
    }),
    retry: useMutation({
      mutationFn: (id: string) => client.retryJob(id),
      onSuccess: (job) => (job ? merge(job) : void refetch()),
    }),
    remove: useMutation({
      mutationFn: (id: string) => client.deleteJob(id),
      onSuccess: (_v, id) => {
        forgetJob(queryClient, id);
        // The item no longer lists what the job made.
        void queryClient.invalidateQueries({ queryKey: keys.libraryItems });
      },
    }),
  };
}

export function useServerActions() {
  const client = useClient();
  const invalidate = useInvalidate();
  return {
    preview: useMutation({ mutationFn: (url: string) => client.previewServer(url) }),
    pair: useMutation({
      mutationFn: (body: PairServerBody) => client.pairServer(body),
      onSuccess: () => invalidate(keys.servers),
    }),
    unpair: useMutation({
      mutationFn: (name: string) => client.unpairServer(name),
      onSuccess: () => invalidate(keys.servers),
    }),
  };
}
