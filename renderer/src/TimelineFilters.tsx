// The row above the timeline: what kind of item, which folder, only those needing
// attention or only in the vault, a search box, and how many items that leaves.
import { useId } from 'react';
import type { KindFilter, TimelineFilters as Filters } from './timeline-layout';
import { NO_FILTERS } from './timeline-layout';
import { useTimelineStore } from './timeline-store';

const KINDS: { id: KindFilter; label: string }[] = [
  { id: 'all', label: 'All' },
  { id: 'photo', label: 'Photos' },
  { id: 'video', label: 'Videos' },
  { id: 'tape', label: 'Tapes' },
];

const countWords = (n: number) => `${n.toLocaleString('en-US')} ${n === 1 ? 'item' : 'items'}`;

const filtered = (f: Filters) =>
  f.kind !== 'all' || f.folderId !== '' || f.attention || f.vaultOnly || f.search.trim() !== '';

export function TimelineFilters(props: {
  folders: { id: string; name: string }[];
  shown: number;
  total: number;
}) {
  const filters = useTimelineStore((s) => s.filters);
  const setFilters = useTimelineStore((s) => s.setFilters);
  const folderId = useId();
  const searchId = useId();
  const narrowed = filtered(filters);
  return (
    <div className="timeline-filters" role="search" aria-label="Find in the library">
      <div className="filters" role="group" aria-label="Show">
        {KINDS.map((k) => (
          <button
            key={k.id}
            type="button"
            aria-pressed={filters.kind === k.id}
            onClick={() => setFilters({ kind: k.id })}
          >
            {k.label}
          </button>
        ))}
      </div>
      {props.folders.length > 1 && (
        <span className="filter-field">
          <label htmlFor={folderId}>Folder</label>
          <select
            id={folderId}
            value={filters.folderId}
            onChange={(e) => setFilters({ folderId: e.currentTarget.value })}
          >
            <option value="">All folders</option>
            {props.folders.map((f) => (
              <option key={f.id} value={f.id}>
                {f.name}
              </option>
            ))}
          </select>
        </span>
      )}
      <label className="filter-check">
        <input
          type="checkbox"
          checked={filters.attention}
          onChange={(e) => setFilters({ attention: e.currentTarget.checked })}
        />{' '}
        Needs attention
      </label>
      <label className="filter-check">
        <input
          type="checkbox"
          checked={filters.vaultOnly}
          onChange={(e) => setFilters({ vaultOnly: e.currentTarget.checked })}
        />{' '}
        Only in the vault
      </label>
      <span className="filter-field filter-search">
        <label htmlFor={searchId} className="visually-hidden">
          Search by name, title or year
        </label>
        <input
          id={searchId}
          type="search"
          placeholder="Search names, titles, years"
          value={filters.search}
          onChange={(e) => setFilters({ search: e.currentTarget.value })}
        />
      </span>
      <span className="timeline-count" role="status" data-testid="timeline-count">
        {narrowed
          ? `${props.shown.toLocaleString('en-US')} of ${countWords(props.total)}`
          : countWords(props.total)}
      </span>
      {narrowed && (
        <button type="button" className="link" onClick={() => setFilters(NO_FILTERS)}>
          Show all
        </button>
      )}
    </div>
  );
}
