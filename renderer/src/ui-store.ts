// UI-only state (not engine data, which react-query owns): what the user chose on screen.
import { create } from 'zustand';
import type { JobState } from './engine-client';

export const AUTO_REFRESH_MS = 5_000;

export const SCREENS = [
  { id: 'library', label: 'Library' },
  { id: 'vault', label: 'Vault' },
  { id: 'make', label: 'Make' },
  { id: 'jobs', label: 'Jobs' },
  { id: 'servers', label: 'Servers' },
  { id: 'watched', label: 'Recently watched' },
  { id: 'activity', label: 'Activity' },
  { id: 'settings', label: 'Settings' },
] as const;
export type ScreenId = (typeof SCREENS)[number]['id'];

export type JobFilter = JobState | 'all' | 'active';
export type EventsState = 'off' | 'connecting' | 'live' | 'retrying';

interface UiState {
  /** Re-check the engine status every AUTO_REFRESH_MS while on. */
  autoRefresh: boolean;
  setAutoRefresh: (on: boolean) => void;

  /** Undefined until the app has picked a first screen from the vault state. */
  screen: ScreenId | undefined;
  /** A one-line explanation of why the app moved the user (e.g. the vault is locked). */
  notice: string | undefined;
  go: (screen: ScreenId, notice?: string) => void;
  clearNotice: () => void;
  /**
   * While set, `go` to another screen stays here and shows this instead (the recovery
   * key on screen must be stored first; RecoveryKeyStep.tsx).
   */
  leaveGuard: string | undefined;
  setLeaveGuard: (reason: string | undefined) => void;

  /** The library file the Make screen starts from. */
  makeTarget: { folderId: string; fileId: string } | undefined;
  makeFrom: (folderId: string, fileId: string) => void;
  /** Library items (file ids) the Make screen's goals apply to: one item or a selection. */
  makeItems: readonly string[];
  makeFromItems: (fileIds: readonly string[]) => void;
  /** The library item open in the viewer (a file id), over whatever screen is showing. */
  viewing: string | undefined;
  /** Opens an item in the viewer; undefined closes it. */
  view: (fileId: string | undefined) => void;
  /**
   * What a job made, shown in the viewer of the item it was made from (the Jobs screen's
   * Play/Open); the viewer finds the item from the job.
   */
  playJobId: string | undefined;
  play: (jobId: string) => void;

  jobFilter: JobFilter;
  setJobFilter: (filter: JobFilter) => void;
  jobSearch: string;
  setJobSearch: (text: string) => void;

  /** The live job stream: off while locked, connecting until the engine answers. */
  events: EventsState;
  setEvents: (state: EventsState) => void;
}

export const useUiStore = create<UiState>()((set) => ({
  autoRefresh: false,
  setAutoRefresh: (on) => set({ autoRefresh: on }),

  screen: undefined,
  notice: undefined,
  go: (screen, notice) =>
    set((s) =>
      s.leaveGuard && s.screen !== undefined && screen !== s.screen
        ? { notice: s.leaveGuard }
        : // The app sends people to the Jobs screen with a notice after adding jobs: an old
          // filter ("Failed") or search must not hide the jobs just added.
          screen === 'jobs' && notice
          ? { screen, notice, jobFilter: 'all', jobSearch: '' }
          : { screen, notice },
    ),
  clearNotice: () => set({ notice: undefined }),
  leaveGuard: undefined,
  setLeaveGuard: (leaveGuard) => set({ leaveGuard }),

  makeTarget: undefined,
  makeFrom: (folderId, fileId) =>
    set({ makeTarget: { folderId, fileId }, makeItems: [], screen: 'make', notice: undefined }),
  makeItems: [],
  makeFromItems: (fileIds) =>
    set({
      makeItems: [...fileIds],
      makeTarget: undefined,
      viewing: undefined,
      screen: 'make',
      notice: undefined,
    }),
  viewing: undefined,
  view: (viewing) => set({ viewing, playJobId: undefined }),
  playJobId: undefined,
  play: (jobId) => set({ playJobId: jobId, viewing: undefined }),

  jobFilter: 'all',
  setJobFilter: (jobFilter) => set({ jobFilter }),
  jobSearch: '',
  setJobSearch: (jobSearch) => set({ jobSearch }),

  events: 'off',
  setEvents: (events) => set({ events }),
}));

/** A notice that reports ("Job added") closes itself after this long; a guard's stays. */
export const NOTICE_MS = 6_000;
let noticeTimer: ReturnType<typeof setTimeout> | undefined;
useUiStore.subscribe((state, previous) => {
  if (state.notice === previous.notice) return;
  clearTimeout(noticeTimer);
  const shown = state.notice;
  if (!shown || shown === state.leaveGuard) return;
  noticeTimer = setTimeout(() => {
    if (useUiStore.getState().notice === shown) useUiStore.getState().clearNotice();
  }, NOTICE_MS);
});
