// The Library as a timeline: every item's picture under its year and month, newest first,
// with a year scrubber at the side. Only the rows in view are in the page (the layout is
// timeline-layout.ts), so a library of 10,000 items scrolls as lightly as one of 100.
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { KeyboardEvent, MouseEvent } from 'react';
import type { LibraryItem } from './engine-client';
import { TimelineFilters } from './TimelineFilters';
import {
  columnsFor,
  filterItems,
  groupByMonth,
  layoutRows,
  moveFocus,
  rangeIds,
  rowOfItem,
  visibleRows,
} from './timeline-layout';
import type { Layout, Row } from './timeline-layout';
import { useTimelineStore } from './timeline-store';
import { TimelineTile, timelineSprites, timelineThumbs } from './TimelineTile';
import { useUiStore } from './ui-store';

const MIN_TILE = 150;
const GAP = 8;
/** The name line under each picture. */
const CAPTION = 24;
const YEAR_HEADING = 56;
const MONTH_HEADING = 40;
/** Rows rendered beyond the viewport, in px, so a quick scroll does not show blanks. */
const OVERSCAN = 600;
/**
 * Faster than this (px/s), the family is flying past, not looking: tiles that come into
 * view wait to fetch their pictures until the scroll slows or stops (SETTLE_MS). Fetching
 * and decoding pictures nobody sees is what made long frames when flinging through
 * 10,000 items; reading speed is far below it, so pictures load as usual there.
 */
const FLING_PX_PER_S = 6000;
const SETTLE_MS = 120;

const NAV_KEYS = new Set(['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End']);
type NavKey = 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown' | 'Home' | 'End';

export function Timeline(props: {
  items: readonly LibraryItem[];
  folders: { id: string; name: string }[];
}) {
  const filters = useTimelineStore((s) => s.filters);
  const shown = useMemo(() => filterItems(props.items, filters), [props.items, filters]);
  const sections = useMemo(() => groupByMonth(shown), [shown]);

  // The pictures kept in memory are let go with the timeline (leaving the Library, locking
  // the vault).
  useEffect(
    () => () => {
      timelineSprites.clear();
      timelineThumbs.clear();
    },
    [],
  );

  const scroller = useRef<HTMLDivElement>(null);
  const [box, setBox] = useState({ width: 0, height: 0 });
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setBox({ width: el.clientWidth, height: el.clientHeight });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const inner = Math.max(0, box.width - 2 * GAP);
  const columns = columnsFor(inner, MIN_TILE, GAP);
  const tileWidth = (inner - GAP * (columns - 1)) / columns;
  const tileRow = Math.round(tileWidth + CAPTION + GAP);
  const layout = useMemo(
    () =>
      layoutRows(sections, columns, {
        yearHeading: YEAR_HEADING,
        monthHeading: MONTH_HEADING,
        tiles: tileRow,
      }),
    [sections, columns, tileRow],
  );

  // Room below the end, so that the scrubber can bring the last year to the top too.
  const lastYear = layout.years.length > 1 ? (layout.years.at(-1)?.top ?? 0) : 0;
  const height = Math.max(layout.total, lastYear + box.height);

  // Which rows are in the page, and which year is at the top: both change far less often
  // than scroll events fire, so a scroll re-renders only when one of them does. The
  // handler compares against what it last set (`seen`) and calls no setter otherwise:
  // React does not always drop a same-value update before rendering, and a trace of
  // reading-pace scrolling showed a render of the timeline (and its garbage, collected
  // later in one long pause) for nearly every scroll event.
  const [range, setRange] = useState<[number, number]>([0, 0]);
  const [topYear, setTopYear] = useState<string | undefined>();
  const [flinging, setFlinging] = useState(false);
  const last = useRef({
    top: 0,
    at: 0,
    settle: 0,
    flinging: false,
    start: 0,
    end: 0,
    year: undefined as string | undefined,
  });
  useEffect(() => () => clearTimeout(last.current.settle), []);
  const update = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const now = performance.now();
    const seen = last.current;
    const speed = (Math.abs(el.scrollTop - seen.top) * 1000) / Math.max(1, now - seen.at);
    if (speed > FLING_PX_PER_S) {
      if (!seen.flinging) setFlinging((seen.flinging = true));
      clearTimeout(seen.settle);
      seen.settle = window.setTimeout(() => setFlinging((seen.flinging = false)), SETTLE_MS);
    }
    seen.top = el.scrollTop;
    seen.at = now;
    const [start, end] = visibleRows(layout.rows, el.scrollTop, el.clientHeight, OVERSCAN);
    if (start !== seen.start || end !== seen.end) {
      seen.start = start;
      seen.end = end;
      setRange([start, end]);
    }
    let year = layout.years[0]?.label;
    for (const y of layout.years) if (y.top <= el.scrollTop + 1) year = y.label;
    if (year !== seen.year) setTopYear((seen.year = year));
  }, [layout]);
  useLayoutEffect(update, [update, box.height]);

  const selected = useTimelineStore((s) => s.selected);
  const [focusIndex, setFocusIndex] = useState(0);
  const pendingFocus = useRef<number | undefined>(undefined);
  const rendered = layout.rows.slice(range[0], range[1]);
  // Tab lands on the tile last focused when it is in the page, else on the first one shown.
  const firstShown = rendered.find((r) => r.type === 'tiles');
  const focusRendered = rendered.some(
    (r) => r.type === 'tiles' && focusIndex >= r.first && focusIndex < r.first + r.items.length,
  );
  const tabbable = focusRendered
    ? focusIndex
    : firstShown?.type === 'tiles'
      ? firstShown.first
      : -1;

  useEffect(() => {
    const index = pendingFocus.current;
    if (index === undefined) return;
    const button = scroller.current?.querySelector<HTMLElement>(`[data-index="${index}"]`);
    if (button) {
      pendingFocus.current = undefined;
      button.focus({ preventScroll: true });
    }
  });

  const onOpen = useCallback(
    (index: number, e: MouseEvent) => {
      const item = layout.order[index];
      if (!item) return;
      if (e.shiftKey || e.ctrlKey || e.metaKey) {
        selectTo(layout, index, e.shiftKey);
        return;
      }
      useUiStore.getState().view(item.id);
    },
    [layout],
  );
  const onTick = useCallback(
    (index: number, shift: boolean) => selectTo(layout, index, shift),
    [layout],
  );

  const onKeyDown = (e: KeyboardEvent) => {
    const target = e.target as HTMLElement;
    const at = Number(target.dataset.index);
    if (!target.classList.contains('tile-open') || !Number.isInteger(at)) return;
    if (e.key === ' ') {
      e.preventDefault();
      selectTo(layout, at, e.shiftKey);
      return;
    }
    if (!NAV_KEYS.has(e.key)) return;
    e.preventDefault();
    const next = moveFocus(layout, at, e.key as NavKey);
    if (next < 0 || next === at) return;
    setFocusIndex(next);
    pendingFocus.current = next;
    const row = layout.rows[rowOfItem(layout, next)];
    const el = scroller.current;
    if (row && el) {
      if (row.top < el.scrollTop) el.scrollTop = row.top;
      else if (row.top + row.height > el.scrollTop + el.clientHeight) {
        el.scrollTop = row.top + row.height - el.clientHeight;
      }
      update();
    }
  };

  // The scrubber keeps the year at the top of the timeline in its own view (by hand: the
  // browser's scrollIntoView would scroll the page too).
  const scrubber = useRef<HTMLElement>(null);
  useEffect(() => {
    const nav = scrubber.current;
    const current = nav?.querySelector<HTMLElement>('[aria-current="true"]');
    if (!nav || !current) return;
    const top = current.offsetTop;
    if (top < nav.scrollTop) nav.scrollTop = top;
    else if (top + current.offsetHeight > nav.scrollTop + nav.clientHeight) {
      nav.scrollTop = top + current.offsetHeight - nav.clientHeight;
    }
  }, [topYear]);

  const scrollToYear = (top: number) => {
    const el = scroller.current;
    if (!el) return;
    el.scrollTop = top;
    update();
  };

  return (
    <div className="timeline">
      <TimelineFilters folders={props.folders} shown={shown.length} total={props.items.length} />
      <div className="timeline-body">
        <div
          className="timeline-scroller"
          ref={scroller}
          onScroll={update}
          data-testid="timeline-scroll"
        >
          {shown.length === 0 && (
            <p className="empty timeline-empty">
              {props.items.length === 0
                ? 'Nothing to show yet. Pictures appear here as the folders are looked through and protected.'
                : 'Nothing matches. Try another search, or show all.'}
            </p>
          )}
          <div
            className="timeline-rows"
            data-testid="timeline-grid"
            role="group"
            aria-label="Pictures by date"
            style={{ height }}
            onKeyDown={onKeyDown}
            onKeyUp={(e) => e.key === ' ' && e.preventDefault()}
          >
            {rendered.map((row) => (
              <TimelineRow
                key={row.key}
                row={row}
                columns={columns}
                selected={selected}
                // Only the row holding the Tab stop sees it, so the others stay memoised.
                tabbable={
                  row.type === 'tiles' &&
                  tabbable >= row.first &&
                  tabbable < row.first + row.items.length
                    ? tabbable
                    : -1
                }
                deferPictures={flinging}
                onOpen={onOpen}
                onTick={onTick}
                onFocusTile={setFocusIndex}
              />
            ))}
          </div>
        </div>
        {layout.years.length > 1 && (
          <nav className="year-scrubber" aria-label="Years" ref={scrubber}>
            <ol>
              {layout.years.map((y) => (
                <li key={y.label}>
                  <button
                    type="button"
                    aria-current={y.label === topYear ? 'true' : undefined}
                    aria-label={y.year === undefined ? y.label : `Go to ${y.label}`}
                    onClick={() => scrollToYear(y.top)}
                  >
                    {y.year ?? '?'}
                  </button>
                </li>
              ))}
            </ol>
          </nav>
        )}
      </div>
      <SelectionBar order={layout.order} />
    </div>
  );
}

/** Ticks (or unticks) one item, or with shift the whole range from the last one ticked. */
function selectTo(layout: Layout<LibraryItem>, index: number, shift: boolean) {
  const item = layout.order[index];
  if (!item) return;
  const store = useTimelineStore.getState();
  const anchor =
    store.anchor === undefined ? -1 : layout.order.findIndex((i) => i.id === store.anchor);
  if (shift && anchor >= 0) {
    store.selectRange(rangeIds(layout.order, anchor, index), !store.selected.has(item.id), item.id);
  } else store.toggle(item.id);
}

const TimelineRow = memo(function TimelineRow(props: {
  row: Row<LibraryItem>;
  columns: number;
  selected: ReadonlySet<string>;
  tabbable: number;
  deferPictures: boolean;
  onOpen: (index: number, e: MouseEvent) => void;
  onTick: (index: number, shift: boolean) => void;
  onFocusTile: (index: number) => void;
}) {
  const { row } = props;
  const style = { transform: `translateY(${row.top}px)`, height: row.height };
  if (row.type === 'year') {
    return (
      <h3 className="timeline-year" style={style}>
        {row.label}
      </h3>
    );
  }
  if (row.type === 'month') {
    return (
      <h4 className="timeline-month" style={style}>
        {row.label}
        <span className="muted small"> · {row.count.toLocaleString('en-US')}</span>
      </h4>
    );
  }
  const selecting = props.selected.size > 0;
  return (
    <div
      className="timeline-tiles"
      style={{ ...style, gridTemplateColumns: `repeat(${props.columns}, minmax(0, 1fr))` }}
    >
      {row.items.map((item, i) => {
        const index = row.first + i;
        return (
          <TimelineTile
            key={item.id}
            item={item}
            index={index}
            selected={props.selected.has(item.id)}
            selecting={selecting}
            tabbable={props.tabbable === index}
            deferPicture={props.deferPictures}
            onOpen={props.onOpen}
            onTick={props.onTick}
            onFocusTile={props.onFocusTile}
          />
        );
      })}
    </div>
  );
});

function SelectionBar({ order }: { order: readonly LibraryItem[] }) {
  const selected = useTimelineStore((s) => s.selected);
  const clear = useTimelineStore((s) => s.clearSelection);
  if (selected.size === 0) return null;
  // In timeline order, so the Make screen lists them as the family sees them.
  const ids = order.filter((i) => selected.has(i.id)).map((i) => i.id);
  const hidden = selected.size - ids.length;
  const inOrder = new Set(ids);
  const all = [...ids, ...[...selected].filter((id) => !inOrder.has(id))];
  return (
    <div className="selection-bar" role="region" aria-label="Selection" data-testid="selection-bar">
      <span role="status">
        {selected.size.toLocaleString('en-US')} selected
        {hidden > 0 ? ` (${hidden.toLocaleString('en-US')} not shown by the filters)` : ''}
      </span>
      <button
        type="button"
        className="primary"
        onClick={() => useUiStore.getState().makeFromItems(all)}
      >
        Make…
      </button>
      <button type="button" onClick={clear}>
        Clear
      </button>
    </div>
  );
}
