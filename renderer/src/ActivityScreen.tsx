// Activity: the engine's audit log, newest first, for the curious, in plain sentences
// (activity-text.ts) rather than the engine's action names and ids.
import { useMemo, useState } from 'react';
import { describeActivity } from './activity-text';
import { ErrorMessage } from './ErrorMessage';
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
          <ErrorMessage error={activity.error} />
        </p>
      )}
      {activity.data?.length === 0 && <p className="empty">Nothing has happened yet.</p>}
      {entries.length > 0 && (
        <table className="activity" aria-labelledby="activity-heading">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What happened</th>
            </tr>
          </thead>
          <tbody>
            {entries.slice(0, shown).map((e) => {
              const text = describeActivity(e);
              return (
                <tr key={e.seq} className={text.problem ? 'problem' : undefined}>
                  <td className="when">{formatTime(e.at)}</td>
                  <td className="what" data-action={e.action}>
                    {text.sentence}
                    {text.detail && <span className="detail muted small">{text.detail}</span>}
                  </td>
                </tr>
              );
            })}
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
