// Recently watched: what the family played in the viewer, newest first, by the item's
// title and name; a click opens it again. The list is file ids in this browser's storage
// (recently-watched.ts); names and titles come from the library while the vault is open.
import { useMemo } from 'react';
import { errorText } from './errors-text';
import { capturedWords, durationWords } from './item-words';
import { useLibraryItems } from './queries';
import { recentlyWatched } from './recently-watched';
import { useUiStore } from './ui-store';
import './viewer.css';

export function RecentlyWatchedScreen() {
  const items = useLibraryItems();
  const view = useUiStore((s) => s.view);
  const go = useUiStore((s) => s.go);
  // Read again whenever the viewer closes (something may have been played in it).
  const viewing = useUiStore((s) => s.viewing);
  const ids = useMemo(() => (viewing === undefined ? recentlyWatched() : []), [viewing]);
  const byId = new Map((items.data ?? []).map((i) => [i.id, i]));
  const watched = ids.flatMap((id) => byId.get(id) ?? []);

  return (
    <section className="panel" aria-labelledby="watched-heading">
      <h2 id="watched-heading">Recently watched</h2>
      {items.isError && (
        <p role="alert" className="error">
          {errorText(items.error)}
        </p>
      )}
      {items.data && watched.length === 0 && (
        <div className="empty">
          <p>Nothing watched yet. Videos you play from the library show up here.</p>
          <button type="button" onClick={() => go('library')}>
            Go to the library
          </button>
        </div>
      )}
      {watched.length > 0 && (
        <ul className="watched-list" data-testid="watched-list">
          {watched.map((item) => {
            const when = capturedWords(item.capturedAt, item.capturedFrom);
            const length = durationWords(item.durationSeconds);
            return (
              <li key={item.id}>
                <button
                  type="button"
                  className="watched-item"
                  onClick={() => view(item.id)}
                  aria-label={`Watch ${item.title ?? item.name}`}
                >
                  {item.pictures.thumb ? (
                    <img src={item.pictures.thumb} alt="" loading="lazy" />
                  ) : (
                    <span className="watched-blank" aria-hidden="true" />
                  )}
                  <span className="watched-words">
                    <strong>{item.title ?? item.name}</strong>
                    {item.title && <span className="muted small">{item.name}</span>}
                    <span className="muted small">
                      {[when, length].filter(Boolean).join(' · ')}
                    </span>
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
