// Progress on stderr for long runs: files, bytes, throughput and ETA. On a terminal the
// line redraws in place; otherwise (logs, CI) a line every few seconds; with --json,
// one JSON object per line.

export interface ProgressTotals {
  files: number;
  bytes: number;
}

export interface ProgressSnapshot {
  event: 'progress';
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  bytesPerSecond: number;
  etaSeconds: number | null;
}

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  private filesDone = 0;
  private bytesDone = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly interval: number;

  constructor(
    private totals: ProgressTotals,
    private readonly mode: { json: boolean; quiet: boolean; stream?: NodeJS.WriteStream } = {
      json: false,
      quiet: false,
    },
  ) {
    this.interval = this.stream.isTTY && !mode.json ? 250 : 5000;
  }

  private get stream(): NodeJS.WriteStream {
    return this.mode.stream ?? process.stderr;
  }

  start(): this {
    if (!this.mode.quiet) this.timer = setInterval(() => this.draw(), this.interval).unref();
    return this;
  }

  setTotals(totals: ProgressTotals): void {
    this.totals = totals;
  }

  addBytes(n: number): void {
    this.bytesDone += n;
  }

  fileDone(): void {
    this.filesDone++;
  }

  snapshot(): ProgressSnapshot {
    const elapsed = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = this.bytesDone / elapsed;
    const left = this.totals.bytes - this.bytesDone;
    return {
      event: 'progress',
      filesDone: this.filesDone,
      filesTotal: this.totals.files,
      bytesDone: this.bytesDone,
      bytesTotal: this.totals.bytes,
      bytesPerSecond: Math.round(rate),
      etaSeconds: rate > 0 ? Math.ceil(Math.max(left, 0) / rate) : null,
    };
  }

  private draw(): void {
    const snap = this.snapshot();
    this.lastDraw = Date.now();
    if (this.mode.json) {
      this.stream.write(JSON.stringify(snap) + '\n');
      return;
    }
    const eta = snap.etaSeconds === null ? '--' : formatSeconds(snap.etaSeconds);
    // Work counted in files only (no byte total given): said in files, not as 100 % done.
    const line =
      snap.bytesTotal > 0 || snap.filesTotal === 0
        ? `${snap.bytesTotal > 0 ? ((100 * snap.bytesDone) / snap.bytesTotal).toFixed(1) : '100.0'}%  ` +
          `files ${snap.filesDone}/${snap.filesTotal}  ` +
          `${formatBytes(snap.bytesDone)}/${formatBytes(snap.bytesTotal)}  ` +
          `${formatBytes(snap.bytesPerSecond)}/s  ETA ${eta}`
        : `${((100 * snap.filesDone) / snap.filesTotal).toFixed(1)}%  ` +
          `files ${snap.filesDone}/${snap.filesTotal}`;
    this.stream.write(this.stream.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.mode.quiet) return;
    // A final line if anything was drawn (short runs stay silent for people); with
    // --json always, so that scripts get the totals.
    if (this.lastDraw > 0 || this.mode.json) {
      this.draw();
      if (this.stream.isTTY && !this.mode.json) this.stream.write('\n');
    }
  }
}
