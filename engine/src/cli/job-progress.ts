// A job's live progress on stderr: a bar with percent, fps, speed and ETA. It redraws in
// place on a terminal, prints a line every few seconds otherwise, and one JSON object
// per update with --json.

import type { JobProgress, JobState } from '../jobs/queue';

function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function progressLine(state: JobState, p: Omit<JobProgress, 'at'> | undefined): string {
  const percent = p?.percent ?? 0;
  const width = 24;
  const filled = Math.round((percent / 100) * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const parts = [`${bar} ${percent.toFixed(1).padStart(5)}%`, state];
  if (p?.fps !== undefined) parts.push(`${p.fps.toFixed(0)} fps`);
  if (p?.speed !== undefined) parts.push(`${p.speed.toFixed(2)}x`);
  parts.push(`ETA ${formatEta(p?.etaSeconds)}`);
  return parts.join('  ');
}

export class JobProgressBar {
  private lastDraw = 0;
  private drawn = false;
  private readonly stream = process.stderr;

  constructor(private readonly mode: { json: boolean; quiet: boolean }) {}

  update(id: string, state: JobState, progress: Omit<JobProgress, 'at'> | undefined): void {
    if (this.mode.quiet) return;
    const tty = this.stream.isTTY && !this.mode.json;
    const now = Date.now();
    if (now - this.lastDraw < (tty ? 200 : 2000)) return;
    this.lastDraw = now;
    this.drawn = true;
    if (this.mode.json) {
      this.stream.write(JSON.stringify({ event: 'progress', id, state, ...progress }) + '\n');
    } else {
      const line = `${id}  ${progressLine(state, progress)}`;
      this.stream.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    }
  }

  done(): void {
    if (this.drawn && this.stream.isTTY && !this.mode.json) this.stream.write('\n');
  }
}
