// Seals HLS segments while FFmpeg is still encoding. FFmpeg writes each rendition's
// segments one after another and opens segment N+1 only once N is closed, so every
// segment but the newest in its folder is complete: it is checked, encrypted into the
// staging folder and its plaintext deleted at once. (The playlist cannot tell us: for a
// VOD playlist FFmpeg writes it only at the end.) The RAM scratch then holds a segment or
// two per rendition instead of the whole ladder of a two-hour tape.
//
// Checks made here, because the plaintext is gone by the time the step is verified: the
// first segment of each playlist is probed (its streams), and in thorough mode every
// segment is decoded before it is sealed.

import { open, readFile, readdir, rm, mkdir } from 'node:fs/promises';
import { dirname, join, posix, relative } from 'node:path';
import { KeepsakeError } from '../errors';
import { probeOutput, type ProbedStream } from '../ffmpeg/probe';
import { mediaTypeFor } from '../vault/media-type';
import type { Vault } from '../vault/keyring';
import { writeVaultFile } from '../vault/vault-file';
import type { JobOutput } from './queue';
import { decodeAll, type VerifyTools } from './verify';

/** Encrypts one scratch file into the staging folder, then deletes the plaintext. */
export async function encryptOutput(
  scratchDir: string,
  name: string,
  staging: string,
  vault: Vault,
): Promise<JobOutput> {
  const source = join(scratchDir, name);
  const dest = join(staging, `${name}.ksv`);
  await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
  const handle = await open(source, 'r');
  try {
    const info = await handle.stat();
    const meta = { name, size: info.size, mtimeMs: info.mtimeMs, mediaType: mediaTypeFor(name) };
    const written = await writeVaultFile({ handle, name }, dest, vault, meta);
    return { name, path: dest, size: written.storedSize };
  } finally {
    await handle.close();
    await rm(source, { force: true });
  }
}

const SEGMENT = /\.(ts|m4s)$/;

/** The segment URIs of a media playlist (none for a master playlist). */
export function playlistSegments(text: string): string[] {
  if (text.includes('#EXT-X-STREAM-INF')) return [];
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

export class SegmentSealer {
  /** Sealed segments by name (relative to the scratch folder). */
  readonly sealed = new Map<string, JobOutput>();
  /** Streams of each media playlist's first segment, by playlist name. */
  readonly firstSegmentStreams = new Map<string, ProbedStream[]>();
  /** The same, by segment folder, gathered while FFmpeg runs. */
  private readonly firstStreams = new Map<string, ProbedStream[]>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly dir: string,
    private readonly staging: string,
    private readonly vault: Vault,
    private readonly tools: VerifyTools,
    private readonly thorough: boolean,
  ) {}

  start(intervalMs = 500): void {
    this.timer = setInterval(() => {
      this.running = this.running
        .then(() => this.sweep())
        .catch((err: unknown) => {
          this.failure ??= err;
        });
    }, intervalMs);
  }

  /** Stops the timer; with `final` (FFmpeg succeeded), seals the rest and checks playlists. */
  async stop(final: boolean): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    if (this.failure) throw this.failure;
    if (!final) return;
    await this.sweep(true);
    await this.matchPlaylists();
  }

  /** Seals complete segments; `all` once FFmpeg has exited (the newest are complete too). */
  private async sweep(all = false): Promise<void> {
    const entries = await readdir(this.dir, { recursive: true, withFileTypes: true });
    const byFolder = new Map<string, string[]>();
    for (const entry of entries) {
      if (!entry.isFile() || !SEGMENT.test(entry.name)) continue;
      const name = relative(this.dir, join(entry.parentPath, entry.name));
      const folder = dirname(name);
      byFolder.set(folder, [...(byFolder.get(folder) ?? []), name]);
    }
    for (const [folder, names] of byFolder) {
      // Zero-padded numbers: name order is write order.
      names.sort();
      const complete = all ? names : names.slice(0, -1);
      for (const name of complete) {
        if (this.sealed.has(name)) continue;
        const path = join(this.dir, name);
        if (!this.firstStreams.has(folder)) {
          this.firstStreams.set(folder, (await probeOutput(this.tools.ffprobePath, path)).streams);
        }
        if (this.thorough) await decodeAll(this.tools, path, name);
        this.sealed.set(name, await encryptOutput(this.dir, name, this.staging, this.vault));
      }
    }
  }

  /**
   * After the final sweep: each media playlist must list exactly the segments sealed from
   * its folder, and its first segment's streams are reported for verification.
   */
  private async matchPlaylists(): Promise<void> {
    const entries = await readdir(this.dir, { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isFile() || !entry.name.endsWith('.m3u8')) continue;
      const playlist = relative(this.dir, join(entry.parentPath, entry.name));
      const listed = playlistSegments(await readFile(join(this.dir, playlist), 'utf8')).map((uri) =>
        posix.normalize(posix.join(posix.dirname(playlist), uri)),
      );
      if (listed.length === 0) continue; // a master playlist
      const folder = dirname(playlist);
      const sealedHere = [...this.sealed.keys()].filter((n) => dirname(n) === folder).sort();
      if (JSON.stringify([...listed].sort()) !== JSON.stringify(sealedHere)) {
        throw new KeepsakeError(
          'OUTPUT_CHECK_FAILED',
          `${playlist}: lists ${listed.length} segments, ${sealedHere.length} were written`,
        );
      }
      const streams = this.firstStreams.get(folder);
      if (streams) this.firstSegmentStreams.set(playlist, streams);
    }
  }
}
