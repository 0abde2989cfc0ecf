// The main navigation: one button per screen, the current one marked with aria-current.
// Tab reaches the list; arrow keys, Home and End move between entries.
import { useRef } from 'react';
import type { KeyboardEvent } from 'react';
import { SCREENS } from './ui-store';
import type { EventsState, ScreenId } from './ui-store';

const EVENT_LABELS: Record<EventsState, string> = {
  off: 'Live updates off (vault locked)',
  connecting: 'Connecting…',
  live: 'Live updates',
  retrying: 'Reconnecting…',
};

export function Nav({
  current,
  onGo,
  events,
}: {
  current: ScreenId;
  onGo: (id: ScreenId) => void;
  events: EventsState;
}) {
  const list = useRef<HTMLUListElement>(null);

  const onKeyDown = (e: KeyboardEvent<HTMLUListElement>) => {
    const buttons = [...(list.current?.querySelectorAll('button') ?? [])];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (at === -1) return;
    const move: Record<string, number> = {
      ArrowDown: at + 1,
      ArrowRight: at + 1,
      ArrowUp: at - 1,
      ArrowLeft: at - 1,
      Home: 0,
      End: buttons.length - 1,
    };
    const to = move[e.key];
    if (to === undefined) return;
    e.preventDefault();
    buttons[(to + buttons.length) % buttons.length]?.focus();
  };

  return (
    <nav className="nav" aria-label="Main">
      <ul ref={list} onKeyDown={onKeyDown}>
        {SCREENS.map((s) => (
          <li key={s.id}>
            <button
              type="button"
              aria-current={current === s.id ? 'page' : undefined}
              onClick={() => onGo(s.id)}
            >
              {s.label}
            </button>
          </li>
        ))}
      </ul>
      <p className="live" title="Live job updates" data-testid="events-state">
        <span className={`dot dot-${events}`} aria-hidden="true" />
        {EVENT_LABELS[events]}
      </p>
    </nav>
  );
}
