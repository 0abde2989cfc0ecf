// What a running upload has done, for the progress line (bytes, percent, ETA), and which
// files of it were not finished, remembered in the browser so that a tab closed midway is
// reported when the family comes back instead of silently losing the rest.

export interface UploadFile {
  rel: string;
  size: number;
}

export interface UploadProgressView {
  total: number;
  done: number;
  current: string | undefined;
  bytesTotal: number;
  bytesDone: number;
  percent: number;
  /** Seconds left at the rate so far, once there is a rate. */
  etaSeconds: number | undefined;
}

/** Where unfinished uploads are remembered (per engine origin, by the browser). */
export const PENDING_KEY = 'keepsake.unfinishedUploads';

export class UploadTracker {
  private finishedBytes = 0;
  private currentBytes = 0;
  private filesDone = 0;
  private current: string | undefined;
  private readonly started: number;

  constructor(
    private readonly files: UploadFile[],
    private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
    this.save(files);
  }

  begin(rel: string): void {
    this.current = rel;
    this.currentBytes = 0;
  }

  sent(bytes: number): void {
    this.currentBytes = bytes;
  }

  /** The current file is over (stored, or failed and reported): it is no longer pending. */
  finish(file: UploadFile): void {
    this.filesDone += 1;
    this.finishedBytes += file.size;
    this.currentBytes = 0;
    this.current = undefined;
    this.save(this.pending().filter((f) => f.rel !== file.rel));
  }

  /** Stopped by the user: nothing is left to report later. */
  stop(): void {
    this.save([]);
  }

  view(): UploadProgressView {
    const bytesTotal = this.files.reduce((sum, f) => sum + f.size, 0);
    const bytesDone = Math.min(bytesTotal, this.finishedBytes + this.currentBytes);
    const elapsed = (this.now() - this.started) / 1000;
    const rate = elapsed > 1 && bytesDone > 0 ? bytesDone / elapsed : undefined;
    return {
      total: this.files.length,
      done: this.filesDone,
      current: this.current,
      bytesTotal,
      bytesDone,
      percent: bytesTotal > 0 ? (100 * bytesDone) / bytesTotal : 100,
      etaSeconds: rate ? (bytesTotal - bytesDone) / rate : undefined,
    };
  }

  private pending(): UploadFile[] {
    return readUnfinished(this.storage);
  }

  private save(files: UploadFile[]): void {
    try {
      if (files.length === 0) this.storage?.removeItem(PENDING_KEY);
      else this.storage?.setItem(PENDING_KEY, JSON.stringify(files));
    } catch {
      // Private browsing or a full quota: the upload still runs, just without the memo.
    }
  }
}

/** Files of an earlier upload that never finished (the tab was closed, the engine stopped). */
export function readUnfinished(storage: Pick<Storage, 'getItem'> | undefined): UploadFile[] {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(PENDING_KEY) ?? '[]');
    return Array.isArray(parsed)
      ? parsed.filter(
          (f): f is UploadFile =>
            typeof f === 'object' &&
            f !== null &&
            typeof (f as UploadFile).rel === 'string' &&
            typeof (f as UploadFile).size === 'number',
        )
      : [];
  } catch {
    return [];
  }
}

export function forgetUnfinished(storage: Pick<Storage, 'removeItem'> | undefined): void {
  try {
    storage?.removeItem(PENDING_KEY);
  } catch {
    // Nothing to forget where nothing could be stored.
  }
}
