// Numbers for people: sizes, durations, rates and times, in one place so every screen
// says them the same way.

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** Decimal units (as file managers on macOS and GNOME show them): 1 KB = 1000 B. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  let value = bytes;
  for (let unit = 0; ; unit++) {
    const text = value.toFixed(value < 9.95 ? 1 : 0);
    // Round first, so 999,960 B reads "1.0 MB" rather than "1000 KB".
    if (Number(text) < 1000 || unit === UNITS.length - 1) return `${text} ${UNITS[unit]}`;
    value /= 1000;
  }
}

/** `1:05:09`, `4:07`, `0:09`: a clock-style duration, for ETAs and media times. */
export function formatClock(totalSeconds: number): string {
  if (!Number.isFinite(totalSeconds) || totalSeconds < 0) return '—';
  const s = Math.round(totalSeconds);
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return hours > 0 ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${minutes}:${pad(seconds)}`;
}

/** `about 3 min left`, `12 s left`, `about 2 h 5 min left`: for progress lines. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return 'estimating…';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s left`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `about ${minutes} min left`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `about ${h} h left` : `about ${h} h ${m} min left`;
}

export function formatSpeed(speed: number | undefined): string {
  if (speed === undefined || !Number.isFinite(speed)) return '—';
  return `${speed >= 10 ? speed.toFixed(0) : speed.toFixed(2)}×`;
}

export function formatFps(fps: number | undefined): string {
  if (fps === undefined || !Number.isFinite(fps)) return '—';
  return `${fps >= 10 ? fps.toFixed(0) : fps.toFixed(1)} fps`;
}

export function formatPercent(percent: number | undefined): string {
  if (percent === undefined || !Number.isFinite(percent)) return '—';
  return `${Math.min(100, Math.max(0, Math.floor(percent)))}%`;
}

/** A short local date and time; epoch milliseconds in. */
export function formatTime(ms: number, locale?: string): string {
  if (!Number.isFinite(ms)) return '—';
  return new Date(ms).toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * The overall ETA of a queue: running jobs finish in parallel, so the longest running
 * ETA counts; queued jobs (whose length is unknown) are reported separately.
 */
export function overallEta(
  jobs: readonly { state: string; progress?: { etaSeconds?: number } | undefined }[],
): { seconds: number | undefined; running: number; queued: number } {
  let seconds: number | undefined;
  let running = 0;
  let queued = 0;
  for (const job of jobs) {
    if (job.state === 'queued') queued++;
    if (job.state !== 'running') continue;
    running++;
    const eta = job.progress?.etaSeconds;
    if (eta !== undefined && Number.isFinite(eta)) seconds = Math.max(seconds ?? 0, eta);
  }
  return { seconds, running, queued };
}
