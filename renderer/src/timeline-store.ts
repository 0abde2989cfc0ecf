// What the family chose on the Library screen: timeline or folder details, the filters,
// and the selection. Kept outside the components so it survives a visit to another screen.
import { create } from 'zustand';
import { NO_FILTERS } from './timeline-layout';
import type { TimelineFilters } from './timeline-layout';

export type LibraryView = 'timeline' | 'details';

interface TimelineState {
  view: LibraryView;
  setView: (view: LibraryView) => void;
  filters: TimelineFilters;
  setFilters: (changes: Partial<TimelineFilters>) => void;
  /** Selected item ids. */
  selected: ReadonlySet<string>;
  /** Where a shift-click range starts: the last item ticked or unticked. */
  anchor: string | undefined;
  toggle: (id: string) => void;
  /** Adds (or, when `on` is false, removes) these ids; the anchor moves to `anchor`. */
  selectRange: (ids: readonly string[], on: boolean, anchor: string) => void;
  clearSelection: () => void;
}

export const useTimelineStore = create<TimelineState>()((set) => ({
  view: 'timeline',
  setView: (view) => set({ view }),
  filters: NO_FILTERS,
  setFilters: (changes) => set((s) => ({ filters: { ...s.filters, ...changes } })),
  selected: new Set(),
  anchor: undefined,
  toggle: (id) =>
    set((s) => {
      const selected = new Set(s.selected);
      if (!selected.delete(id)) selected.add(id);
      return { selected, anchor: id };
    }),
  selectRange: (ids, on, anchor) =>
    set((s) => {
      const selected = new Set(s.selected);
      for (const id of ids) {
        if (on) selected.add(id);
        else selected.delete(id);
      }
      return { selected, anchor };
    }),
  clearSelection: () => set({ selected: new Set(), anchor: undefined }),
}));
