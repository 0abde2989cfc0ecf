// Recently watched: what the family played in the viewer, newest first, by the item's
// title and name; a click opens it again. The engine keeps the list as item ids and times
// only (watched-queries.ts); names and titles come from the library while the vault is open.
import { errorText } from './errors-text';
import { capturedWords, durationWords } from './item-words';
import { useLibraryItems } from './queries';
import { useUiStore } from './ui-store';
import { useRecentlyWatched } from './watched-queries';
import './viewer.css';

export function RecentlyWatchedScreen() {
  const items = useLibraryItems();
  const view = useUiStore((s) => s.view);
  const go = useUiStore((s) => s.go);
  const list = useRecentlyWatched();
  const byId = new Map((items.data ?? []).map((i) => [i.id, i]));
  const watched = (list.data ?? []).flatMap((w) => byId.get(w.fileId) ?? []);

  return (
    <section className="panel" aria-labelledby="watched-heading">
      <h2 id="watched-heading">Recently watched</h2>
      {(items.isError || list.isError) && (
        <p role="alert" className="error">
          {errorText(items.error ?? list.error)}
        </p>
      )}
      {items.data && list.data && watched.length === 0 && (
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
