// Jobs: the queue, live over SSE. A virtualised list keeps 1,000 jobs smooth (it grows
// with the page, which scrolls); each row says how far a job is and how long is left
// (job-progress-text.ts), why it failed in the family's words (job-error-text.ts), the
// server a job waits for, and cancel / retry; a finished job's results open, save as a
// copy, and are removed only after the family has been told what goes.
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { DesktopJob } from './engine-client';
import { ErrorCode, ErrorMessage } from './ErrorMessage';
import { describeFailure } from './job-error-text';
import { describeProgress, needsClock, reliableEta } from './job-progress-text';
import { jobMatches, jobTitle } from './job-title';
import { canOpen, ConfirmRemove, SaveResultsButton } from './JobResults';
import { formatEta, formatPercent, formatTime, overallEta } from './format';
import { useAutoDismiss } from './use-auto-dismiss';
import { useNow } from './use-now';
import { useJobActions, useJobs } from './queries';
import { useUiStore } from './ui-store';
import type { JobFilter } from './ui-store';

const FILTERS: { id: JobFilter; label: string }[] = [
  { id: 'all', label: 'All' },
  { id: 'active', label: 'Active' },
  { id: 'queued', label: 'Queued' },
  { id: 'running', label: 'Running' },
  { id: 'succeeded', label: 'Done' },
  { id: 'failed', label: 'Failed' },
  { id: 'cancelled', label: 'Cancelled' },
];

const STATE_LABELS: Record<DesktopJob['state'], string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** When the Jobs screen was last left (or the app opened): jobs newer than that are new. */
let jobsLeftAt = Date.now();

export function matchesFilter(job: DesktopJob, filter: JobFilter): boolean {
  if (filter === 'all') return true;
  if (filter === 'active') return job.state === 'queued' || job.state === 'running';
  return job.state === filter;
}

export function JobsScreen() {
  const jobs = useJobs();
  const filter = useUiStore((s) => s.jobFilter);
  const setFilter = useUiStore((s) => s.setJobFilter);
  const search = useUiStore((s) => s.jobSearch);
  const setSearch = useUiStore((s) => s.setJobSearch);
  const go = useUiStore((s) => s.go);
  const [message, setMessage] = useState<string>();
  useAutoDismiss(message, () => setMessage(undefined));

  const all = useMemo(() => jobs.data ?? [], [jobs.data]);
  // A running job's first seconds read "Starting…": the clock ticks while any job runs.
  const now = useNow(all.some(needsClock) ? 1_000 : undefined);
  const needle = search.trim().toLowerCase();
  const visible = (j: DesktopJob) => matchesFilter(j, filter) && jobMatches(j, needle);
  const shown = all.filter(visible);
  // Jobs that arrived since the screen was last looked at (started from the Make screen's
  // goals, the CLI, another window, a retry) but that the filter or search hides: said,
  // with a way to see them.
  const [since, setSince] = useState(() => jobsLeftAt);
  useEffect(
    () => () => {
      jobsLeftAt = Date.now();
    },
    [],
  );
  const hiddenNew = all.filter((j) => j.createdAt >= since && !visible(j));
  // Jobs newer than any listed now are news after a choice made now (the engine's clock,
  // as their createdAt is).
  const newest = all.reduce((t, j) => Math.max(t, j.createdAt + 1), 0);
  const showAll = () => {
    setFilter('all');
    setSearch('');
    setSince(Math.max(since, newest));
  };
  // A filter or search just chosen: from the top of the page (the list scrolls with it),
  // not where the last list was scrolled to, which the shorter list may not reach; and
  // what it hides of the jobs there now was the family's choice, not news.
  const choose = (change: { filter?: JobFilter; search?: string }) => {
    if (change.filter !== undefined) setFilter(change.filter);
    if (change.search !== undefined) setSearch(change.search);
    window.scrollTo({ top: 0 });
    setSince(Math.max(since, newest));
  };
  const counts = useMemo(() => {
    const c: Record<string, number> = { all: all.length, active: 0 };
    for (const j of all) {
      c[j.state] = (c[j.state] ?? 0) + 1;
      if (j.state === 'queued' || j.state === 'running') c.active = (c.active ?? 0) + 1;
    }
    return c;
  }, [all]);
  // Only times left that a row itself would show count: not a start's wild guess.
  const eta = overallEta(
    all.map((j) => ({ state: j.state, progress: { etaSeconds: reliableEta(j, now) } })),
  );
  const waitingFor = [...new Set(all.flatMap((j) => (j.waiting ? [j.waiting.server] : [])))];
  const allWaiting = eta.queued > 0 && all.every((j) => j.state !== 'queued' || j.waiting);

  return (
    <section className="panel jobs-panel" aria-labelledby="jobs-heading">
      <h2 id="jobs-heading">Jobs</h2>
      <p className="overall" data-testid="overall-eta" role="status">
        {eta.running === 0 && eta.queued === 0
          ? 'Nothing is running.'
          : `${eta.running} running, ${eta.queued} waiting · ${
              eta.running > 0
                ? eta.seconds === undefined
                  ? 'working out how long this takes'
                  : `running jobs: ${formatEta(eta.seconds)}`
                : allWaiting
                  ? `waiting for ${waitingFor.map((s) => `“${s}”`).join(', ')} to be reachable`
                  : 'starting soon'
            }`}
      </p>
      <div className="toolbar">
        <div className="filters" role="group" aria-label="Show jobs">
          {FILTERS.map((f) => (
            <button
              key={f.id}
              type="button"
              aria-pressed={filter === f.id}
              onClick={() => choose({ filter: f.id })}
            >
              {f.label} <span className="count">{counts[f.id] ?? 0}</span>
            </button>
          ))}
        </div>
        <input
          type="search"
          aria-label="Search jobs"
          placeholder="Search by name, title or file"
          value={search}
          onChange={(e) => choose({ search: e.target.value })}
        />
      </div>
      {message && (
        <p className="notice" role="status">
          {message}
        </p>
      )}
      {hiddenNew.length > 0 && (
        <p className="notice" role="status" data-testid="hidden-new-jobs">
          <span>
            {hiddenNew.length === 1
              ? '1 new job is hidden by the filter.'
              : `${hiddenNew.length} new jobs are hidden by the filter.`}
          </span>
          <button type="button" className="link" onClick={showAll}>
            Show all
          </button>
        </p>
      )}
      {jobs.isPending && jobs.fetchStatus !== 'idle' && <p role="status">Loading jobs…</p>}
      {jobs.isError && (
        <p role="alert" className="error">
          <ErrorMessage error={jobs.error} />
        </p>
      )}
      {jobs.data && all.length === 0 && (
        <div className="empty">
          <p>No jobs yet. Choose a file and what to make from it.</p>
          <button type="button" onClick={() => go('make')}>
            Make something
          </button>
        </div>
      )}
      {all.length > 0 && shown.length === 0 && <p className="empty">No jobs match this filter.</p>}
      {shown.length > 0 && <JobList jobs={shown} now={now} onMessage={setMessage} />}
    </section>
  );
}

function JobList(props: { jobs: DesktopJob[]; now: number; onMessage: (text: string) => void }) {
  // The list is part of the page: with two jobs it is two rows high, with 1,000 the page
  // scrolls, and only the rows in view are in the DOM.
  const list = useRef<HTMLUListElement>(null);
  const [offset, setOffset] = useState(0);
  useLayoutEffect(() => {
    const at = () => setOffset((list.current?.getBoundingClientRect().top ?? 0) + window.scrollY);
    at();
    // What sits above the list (a notice, an error) moves it down.
    const observer = new ResizeObserver(at);
    if (list.current?.parentElement) observer.observe(list.current.parentElement);
    return () => observer.disconnect();
  }, []);
  const virtualizer = useWindowVirtualizer({
    count: props.jobs.length,
    estimateSize: () => 92,
    overscan: 6,
    scrollMargin: offset,
    getItemKey: (i) => props.jobs[i]?.id ?? i,
  });
  return (
    <div className="job-scroller" data-testid="job-list">
      <ul
        ref={list}
        aria-label="Jobs"
        style={{ height: virtualizer.getTotalSize(), position: 'relative' }}
        className="job-list"
      >
        {virtualizer.getVirtualItems().map((item) => {
          const job = props.jobs[item.index];
          if (!job) return null;
          return (
            <li
              key={item.key}
              data-index={item.index}
              ref={virtualizer.measureElement}
              aria-setsize={props.jobs.length}
              aria-posinset={item.index + 1}
              style={{
                transform: `translateY(${item.start - virtualizer.options.scrollMargin}px)`,
              }}
              className="job-row-wrap"
            >
              <JobRow
                job={job}
                // Only rows that say "Starting…" redraw as the clock ticks.
                now={needsClock(job) ? props.now : 0}
                onMessage={props.onMessage}
              />
            </li>
          );
        })}
      </ul>
    </div>
  );
}

const JobRow = memo(function JobRow({
  job,
  now,
  onMessage,
}: {
  job: DesktopJob;
  /** This computer's clock, for "Starting…" in a job's first seconds. */
  now: number;
  onMessage: (text: string) => void;
}) {
  const actions = useJobActions();
  const play = useUiStore((s) => s.play);
  const [confirming, setConfirming] = useState(false);
  const progress = job.state === 'running' ? describeProgress(job, now) : undefined;
  const failure = job.state === 'failed' ? describeFailure(job) : undefined;
  const title = jobTitle(job);
  const busy = actions.cancel.isPending || actions.retry.isPending || actions.remove.isPending;
  const failed: [string, unknown][] = [
    ['Could not cancel', actions.cancel.error],
    ['Could not retry', actions.retry.error],
    ['Could not remove', actions.remove.error],
  ];
  const actionError = failed.find(([, err]) => err);
  const finished = job.state === 'succeeded' || job.state === 'failed' || job.state === 'cancelled';

  return (
    <article
      className={`job job-${job.state}`}
      aria-label={title}
      data-testid={`job-${job.id}`}
      data-preset={job.preset}
    >
      <div className="job-top">
        <span className={`badge badge-${job.state}`} data-testid="job-state">
          {STATE_LABELS[job.state]}
        </span>
        <strong className="job-title" title={title}>
          {title}
        </strong>
        <span className="muted small">
          {job.remote ? `on ${job.remote}` : 'this computer'} · {formatTime(job.createdAt)}
          {job.attempts > 1 ? ` · attempt ${job.attempts} of ${job.maxAttempts}` : ''}
          {/* For support: which preset made it, and from which file when a title names it. */}
          {' · '}
          <span className="job-preset" data-testid="job-preset">
            {job.preset}
            {job.title && job.fileName ? ` · ${job.fileName}` : ''}
          </span>
        </span>
      </div>
      {(job.state === 'running' || job.state === 'queued') && (
        <div className="job-progress">
          <progress
            max={100}
            value={progress?.bar}
            aria-label={`Progress of ${title}`}
            aria-valuetext={
              progress?.bar === undefined
                ? (progress?.main ?? 'waiting')
                : formatPercent(progress.bar)
            }
          />
          <span className="stats" title={progress?.details}>
            {job.state === 'queued'
              ? job.waiting
                ? `Waiting for “${job.waiting.server}” — unreachable since ${formatSince(job.waiting.since)}. It starts by itself when the server is back.`
                : job.waitingForKeys
                  ? 'Waiting for its keys'
                  : 'Waiting to start'
              : progress?.main}
          </span>
          {progress?.details && (
            <span className="stats-details muted small" data-testid="job-details">
              {progress.details}
            </span>
          )}
        </div>
      )}
      {failure && (
        <p className="error reason" data-testid="job-error">
          {failure.sentence} <ErrorCode code={failure.code} title={failure.detail} />
        </p>
      )}
      {job.state === 'succeeded' && (
        <p className="muted small">
          {job.outputs.length} output{job.outputs.length === 1 ? '' : 's'}
          {job.finishedAt && job.startedAt
            ? ` · took ${Math.max(1, Math.round((job.finishedAt - job.startedAt) / 1000))} s`
            : ''}
        </p>
      )}
      {actionError && (
        <p className="error" role="alert" data-testid="job-action-error">
          <ErrorMessage lead={`${actionError[0]}:`} error={actionError[1]} />
        </p>
      )}
      <div className="job-actions">
        {job.state === 'succeeded' && canOpen(job) && (
          // A video plays; pictures (a photo, thumbnails) are shown: both in the viewer.
          <button
            type="button"
            className="primary"
            onClick={() => play(job.id)}
            aria-label={`${job.playUrl ? 'Play' : 'Open'} ${title}`}
          >
            {job.playUrl ? 'Play' : 'Open'}
          </button>
        )}
        {job.state === 'succeeded' && job.outputs.length > 0 && (
          <SaveResultsButton job={job} title={title} />
        )}
        {!finished && (
          <button
            type="button"
            disabled={busy}
            onClick={() => actions.cancel.mutate(job.id)}
            aria-label={`Cancel ${title}`}
          >
            Cancel
          </button>
        )}
        {(job.state === 'failed' || job.state === 'cancelled') && (
          <button
            type="button"
            disabled={busy}
            aria-label={`Retry ${title}`}
            onClick={() =>
              actions.retry.mutate(job.id, {
                onSuccess: (next) =>
                  onMessage(
                    next && next.id !== job.id
                      ? `Retrying as a new job (${STATE_LABELS[next.state].toLowerCase()}).`
                      : `Retrying ${title}${next ? ` (${STATE_LABELS[next.state].toLowerCase()})` : ''}.`,
                  ),
              })
            }
          >
            Retry
          </button>
        )}
        {finished && !confirming && (
          <button
            type="button"
            disabled={busy}
            aria-label={`Remove ${title}`}
            onClick={() =>
              // Results are hours of work: deleting them is asked first, by name.
              job.state === 'succeeded' && job.outputs.length > 0
                ? setConfirming(true)
                : actions.remove.mutate(job.id)
            }
          >
            {job.state === 'succeeded' && job.outputs.length > 0 ? 'Remove…' : 'Remove'}
          </button>
        )}
      </div>
      {confirming && (
        <ConfirmRemove
          job={job}
          title={title}
          busy={busy}
          onCancel={() => setConfirming(false)}
          onRemove={() => actions.remove.mutate(job.id, { onSettled: () => setConfirming(false) })}
        />
      )}
    </article>
  );
});

/** "10:42" today, else the date and time. */
export function formatSince(ms: number, now = Date.now()): string {
  const at = new Date(ms);
  return at.toDateString() === new Date(now).toDateString()
    ? at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : formatTime(ms);
}
