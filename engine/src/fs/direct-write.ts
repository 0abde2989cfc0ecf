// Sequential writes of large new files around the page cache (O_DIRECT). An upload of
// ciphertext is written once and read back only when its job runs, so caching it evicts
// what the machine does use, and in an LXC container the cache counts against the memory
// limit. On a VM, taking fresh pages for it also costs more than the disk: here a 2 GiB
// write ran at ~410 MB/s through the page cache and ~1.9 GB/s direct.
//
// O_DIRECT wants the memory, the file position and the length aligned to the device's
// block. Node cannot ask for aligned memory, and Electron refuses the external buffers a
// native addon would hand out, so each staging buffer is over-allocated and probed once:
// the first offset in it from which the kernel takes a full-size direct write is aligned.
// Whole blocks go direct; the unaligned head and tail of a run go through the page cache
// (the kernel keeps the two coherent); a filesystem that refuses O_DIRECT, or a write it
// turns down, gets every byte through the page cache instead.

import { constants } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { tempSuffix } from '../core/ids';

/** File positions and lengths of direct writes are multiples of this (the page size). */
export const DIRECT_ALIGN = 4096;
/** Bytes staged before each write. */
export const STAGING_BYTES = 1024 * 1024;

const alignDown = (n: number) => n - (n % DIRECT_ALIGN);
const alignUp = (n: number) => alignDown(n + DIRECT_ALIGN - 1);
const isEinval = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code === 'EINVAL';

/**
 * Staging buffers for one folder's filesystem, aligned for direct writes when it takes
 * them. Returned buffers are kept for reuse, up to `keep`.
 */
export class StagingBuffers {
  private readonly free: Buffer[] = [];
  /** Unknown until the first probe; false sends every write through the page cache. */
  private directOk: boolean | undefined;

  private readonly keep: number;

  /** `direct: false` sends every write through the page cache. */
  constructor(
    private readonly dir: string,
    { direct = true, keep = 4 }: { direct?: boolean; keep?: number } = {},
  ) {
    if (!direct) this.directOk = false;
    this.keep = keep;
  }

  /** Whether buffers from here are aligned for direct writes (known after one `take`). */
  get direct(): boolean {
    return this.directOk === true;
  }

  async take(): Promise<Buffer> {
    const reused = this.free.pop();
    if (reused) return reused;
    if (this.directOk === false) return Buffer.allocUnsafeSlow(STAGING_BYTES);
    // Zeroed: the probe writes it to disk, and old memory could hold anything.
    const aligned = await this.probe(Buffer.alloc(STAGING_BYTES + DIRECT_ALIGN));
    if (aligned) return aligned;
    this.directOk = false;
    return Buffer.allocUnsafeSlow(STAGING_BYTES);
  }

  give(buffer: Buffer): void {
    if (this.free.length < this.keep && buffer.length === STAGING_BYTES) this.free.push(buffer);
  }

  /** The aligned STAGING_BYTES inside `raw`, or undefined if no direct write is taken. */
  private async probe(raw: Buffer): Promise<Buffer | undefined> {
    const path = join(this.dir, `.direct-probe-${tempSuffix()}`);
    let handle: FileHandle;
    try {
      handle = await open(
        path,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT,
        0o600,
      );
    } catch (err) {
      await rm(path, { force: true });
      if (isEinval(err)) return undefined; // this filesystem has no O_DIRECT
      throw err;
    }
    try {
      // malloc aligns to 16 bytes, so the aligned start is at one of these offsets.
      for (let at = 0; at < DIRECT_ALIGN; at += 16) {
        try {
          await handle.write(raw, at, STAGING_BYTES, 0);
          this.directOk = true;
          return raw.subarray(at, at + STAGING_BYTES);
        } catch (err) {
          if (!isEinval(err)) throw err;
        }
      }
      return undefined;
    } finally {
      await handle.close();
      await rm(path, { force: true });
    }
  }
}

/**
 * Writes a file sequentially from `position`, one staging buffer at a time: one buffer is
 * written (on the thread pool) while the next fills, so at most two are in memory.
 */
export class SequentialWriter {
  /** Bytes that went to the disk directly (the rest went through the page cache). */
  directBytes = 0;
  /** File position of staging[0]; always aligned. */
  private base: number;
  /** The staged bytes are staging[start, fill). */
  private start: number;
  private fill: number;
  private writing: Promise<void> = Promise.resolve();
  private spare: Buffer | undefined;

  private constructor(
    private readonly buffered: FileHandle,
    private direct: FileHandle | undefined,
    private readonly buffers: StagingBuffers,
    private staging: Buffer | undefined,
    position: number,
  ) {
    this.base = alignDown(position);
    this.start = this.fill = position - this.base;
  }

  /** Opens an existing file for writing at `position`. */
  static async open(
    path: string,
    position: number,
    buffers: StagingBuffers,
  ): Promise<SequentialWriter> {
    const staging = await buffers.take();
    let buffered: FileHandle;
    try {
      buffered = await open(path, 'r+');
    } catch (err) {
      buffers.give(staging);
      throw err;
    }
    const direct = buffers.direct
      ? await open(path, constants.O_WRONLY | constants.O_DIRECT).catch(() => undefined)
      : undefined;
    return new SequentialWriter(buffered, direct, buffers, staging, position);
  }

  /** Stages `chunk`, waiting only when a full buffer must wait for the one before it. */
  async write(chunk: Buffer): Promise<void> {
    for (let from = 0; from < chunk.length;) {
      const staging = this.staging!;
      const copied = chunk.copy(staging, this.fill, from);
      this.fill += copied;
      from += copied;
      if (this.fill === staging.length) await this.handOff();
    }
  }

  /** Writes what is staged and waits for every write; the file then holds all bytes. */
  async end(): Promise<void> {
    if (this.fill > this.start) await this.handOff();
    await this.writing;
  }

  /** Waits out the write in flight and closes the file. */
  async close(): Promise<void> {
    await this.writing.catch(() => undefined);
    for (const buffer of [this.staging, this.spare]) if (buffer) this.buffers.give(buffer);
    this.staging = this.spare = undefined;
    await this.direct?.close();
    await this.buffered.close();
  }

  /** Cuts the file to `length` once the write in flight is done, so none lands after. */
  async truncate(length: number): Promise<void> {
    await this.writing.catch(() => undefined);
    await this.buffered.truncate(length);
  }

  private async handOff(): Promise<void> {
    const batch = this.staging!;
    const [base, start, end] = [this.base, this.start, this.fill];
    // The previous batch must land first: writes stay in order, and its buffer is next.
    await this.writing;
    this.staging = this.spare ?? (await this.buffers.take());
    this.spare = batch;
    this.base += batch.length;
    this.start = this.fill = 0;
    this.writing = this.writeRun(batch, base, start, end);
    // Failures surface at the next hand-off or at end(); until then nothing is unhandled.
    this.writing.catch(() => undefined);
  }

  /** Writes batch[start, end) at file position base + start. */
  private async writeRun(batch: Buffer, base: number, start: number, end: number): Promise<void> {
    const from = this.direct ? Math.min(alignUp(start), end) : end;
    const to = this.direct ? Math.max(alignDown(end), from) : end;
    await writeAll(this.buffered, batch, start, from, base);
    if (to > from) {
      try {
        await writeAll(this.direct!, batch, from, to, base);
        this.directBytes += to - from;
      } catch (err) {
        if (!isEinval(err)) throw err;
        // Turned down after all (a stricter device than the probe saw): page cache from here.
        await this.direct?.close();
        this.direct = undefined;
        await writeAll(this.buffered, batch, from, to, base);
      }
    }
    await writeAll(this.buffered, batch, to, end, base);
  }
}

/** Writes buffer[from, to) at file position base + from, looping on short writes. */
async function writeAll(
  handle: FileHandle,
  buffer: Buffer,
  from: number,
  to: number,
  base: number,
): Promise<void> {
  while (from < to) {
    const { bytesWritten } = await handle.write(buffer, from, to - from, base + from);
    if (bytesWritten === 0) throw Object.assign(new Error('no bytes written'), { code: 'ENOSPC' });
    from += bytesWritten;
  }
}
