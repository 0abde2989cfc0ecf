// UI-only state (not engine data, which react-query owns): what the user chose on screen.
import { create } from 'zustand';

export const AUTO_REFRESH_MS = 5_000;

interface UiState {
  /** Re-check the engine status every AUTO_REFRESH_MS while on. */
  autoRefresh: boolean;
  setAutoRefresh: (on: boolean) => void;
}

export const useUiStore = create<UiState>()((set) => ({
  autoRefresh: false,
  setAutoRefresh: (on) => set({ autoRefresh: on }),
}));
