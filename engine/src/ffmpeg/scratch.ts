// The scratch folder: FFmpeg's working folder during a job.
//
// It holds no media: FFmpeg writes every output into the engine's loopback sink, which
// encrypts it on arrival (output-sink.ts), and no preset writes anything beside its
// outputs (no two-pass logs). So a disk-backed scratch is as safe as RAM, and every OS
// has one: /dev/shm on Linux, the system's temporary folder elsewhere. The root is still
// private to this user (0700, owned by us, not a link): /dev/shm is shared, and another
// local user must not be able to pre-create our folder or plant files in it.

import { lstat, mkdir, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeepsakeError } from '../core/errors';

/** statfs(2) magic numbers of RAM-backed file systems. */
const RAM_FILESYSTEMS: Record<number, string> = { 0x01021994: 'tmpfs', 0x858458f6: 'ramfs' };

export interface ScratchOptions {
  /** From the settings file. */
  configured?: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

export interface Scratch {
  root: string;
  /** The file system's name when it is RAM-backed; undefined for a disk (for reports only). */
  ramFs: string | undefined;
}

/**
 * Where scratch goes: KEEPSAKE_SCRATCH (a per-run override), else the settings file's
 * choice, else /dev/shm on Linux, else the system's temporary folder.
 */
export function scratchPath(options: ScratchOptions = {}): string {
  const env = options.env ?? process.env;
  if (env.KEEPSAKE_SCRATCH) return env.KEEPSAKE_SCRATCH;
  if (options.configured) return options.configured;
  if ((options.platform ?? process.platform) === 'linux') return '/dev/shm';
  return tmpdir();
}

/** Creates (if needed) and checks this user's private scratch folder inside the base. */
export async function openScratch(options: ScratchOptions = {}): Promise<Scratch> {
  const base = scratchPath(options);
  // The base may be shared (/dev/shm is); our private folder inside it may not be.
  await mkdir(base, { recursive: true, mode: 0o700 });
  const root = join(base, `keepsake-${process.getuid?.() ?? 'user'}`);
  await mkdir(root, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const info = await lstat(root);
  const uid = process.getuid?.();
  if (!info.isDirectory() || (uid !== undefined && info.uid !== uid) || (info.mode & 0o077) !== 0) {
    throw new KeepsakeError(
      'SCRATCH_UNSAFE',
      'the scratch folder must be a real folder owned by this user with mode 0700 (not a link, not shared)',
      { file: root },
    );
  }
  const ramFs = RAM_FILESYSTEMS[(await statfs(root)).type];
  return { root, ramFs };
}

/** A fresh private folder for one job; an old one (from a crash) is wiped first. */
export async function jobScratch(scratch: Scratch, jobId: string): Promise<string> {
  const dir = join(scratch.root, jobId);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

export async function wipeJobScratch(scratch: Scratch, jobId: string): Promise<void> {
  await rm(join(scratch.root, jobId), { recursive: true, force: true });
}
