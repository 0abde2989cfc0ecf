// Activity: the engine's audit log, newest first, for the curious.
import { useMemo, useState } from 'react';
import { errorText } from './errors-text';
import { formatTime } from './format';
import { useActivity } from './queries';

const PAGE = 200;

export function ActivityScreen() {
  const activity = useActivity();
  const [shown, setShown] = useState(PAGE);
  // Newest first whatever order the engine sends (it currently sends oldest first).
  const entries = useMemo(
    () => [...(activity.data ?? [])].sort((a, b) => b.seq - a.seq),
    [activity.data],
  );

  return (
    <section className="panel" aria-labelledby="activity-heading">
      <div className="heading-row">
        <h2 id="activity-heading">Activity</h2>
        <button
          type="button"
          onClick={() => void activity.refetch()}
          disabled={activity.isFetching}
        >
          {activity.isFetching ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      <p className="muted">Everything the engine did on your behalf, newest first.</p>
      {activity.isPending && <p role="status">Loading the activity log…</p>}
      {activity.isError && (
        <p role="alert" className="error">
          {errorText(activity.error)}
        </p>
      )}
      {activity.data?.length === 0 && <p className="empty">Nothing has happened yet.</p>}
      {entries.length > 0 && (
        <table className="activity" aria-labelledby="activity-heading">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col">On</th>
              <th scope="col">Outcome</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {entries.slice(0, shown).map((e) => (
              <tr key={e.seq}>
                <td className="when">{formatTime(e.at)}</td>
                <td>{e.action}</td>
                <td className="id">{e.target ?? '—'}</td>
                <td className={e.outcome === 'ok' ? '' : 'error'}>{e.outcome}</td>
                <td>{e.detail ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {entries.length > shown && (
        <button type="button" onClick={() => setShown(shown + PAGE)}>
          Show {Math.min(PAGE, entries.length - shown)} more
        </button>
      )}
    </section>
  );
}
