// What a job's progress line says, in the family's words: how far, and how long is left.
// Frame rates and encoding speed mean nothing to most people, so they go to a details
// line; and in a job's first seconds FFmpeg's figures are noise ("0 % · 46× · 1 s left"),
// so it says it is starting, then that it is working out the time, until they settle.
import type { DesktopJob } from './engine-client';
import { formatEta, formatFps, formatPercent, formatSpeed } from './format';

/** For this long after a job starts, it is "Starting…" whatever its figures say. */
export const STARTING_MS = 5_000;

export interface ProgressText {
  /** The line under the bar. */
  main: string;
  /** fps and speed, for the curious (absent when there are none). */
  details?: string;
  /** The bar's value, 0..100; undefined for a bar that only shows something happens. */
  bar: number | undefined;
}

/** A running job's progress line. `now` is this computer's clock, in ms (useNow). */
export function describeProgress(job: DesktopJob, now: number): ProgressText {
  const p = job.progress;
  const step = job.remotePhase;
  if (step?.phase === 'uploading') {
    return { main: `Uploading ${formatPercent(step.percent)}`, bar: step.percent };
  }
  if (step?.phase === 'downloading') {
    return { main: `Fetching the results ${formatPercent(step.percent)}`, bar: step.percent };
  }
  const since = job.startedAt === undefined ? undefined : now - job.startedAt;
  if (!p || (p.percent < 1 && (since === undefined || since < STARTING_MS))) {
    return { main: 'Starting…', bar: undefined };
  }
  const details = detailsOf(p);
  // Until there is a speed to go by (and something done), any time left is a guess.
  if (p.percent < 1 || p.etaSeconds === undefined || !Number.isFinite(p.etaSeconds)) {
    return { main: 'Working out how long this takes…', details, bar: p.percent };
  }
  return {
    main: `${formatPercent(p.percent)} · ${formatEta(p.etaSeconds)}`,
    details,
    bar: p.percent,
  };
}

/** Whether a job's line depends on the clock (running, under 1 %); others need no redraw. */
export function needsClock(job: DesktopJob): boolean {
  return job.state === 'running' && (job.progress?.percent ?? 0) < 1;
}

/**
 * A running job's time left when it can be trusted (the same rule as its progress line),
 * for the screen's overall "about 13 min left"; undefined while it starts or uploads.
 */
export function reliableEta(job: DesktopJob, now: number): number | undefined {
  if (job.state !== 'running') return undefined;
  if (job.remotePhase && job.remotePhase.phase !== 'working') return undefined;
  const text = describeProgress(job, now);
  return text.main.endsWith(' left') ? job.progress?.etaSeconds : undefined;
}

function detailsOf(p: NonNullable<DesktopJob['progress']>): string | undefined {
  const parts: string[] = [];
  if (p.fps !== undefined && Number.isFinite(p.fps)) parts.push(formatFps(p.fps));
  if (p.speed !== undefined && Number.isFinite(p.speed)) {
    parts.push(`${formatSpeed(p.speed)} real time`);
  }
  return parts.length > 0 ? parts.join(' · ') : undefined;
}
