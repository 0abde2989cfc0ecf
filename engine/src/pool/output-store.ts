// Where a worker's encrypted outputs arrive on the coordinator, resumably: each output is
// one file in a hidden staging folder beside the job's outputs, appended in signed
// chunks at the offset the coordinator says it stands at. A chunk is written whole or
// not at all (it is held and its signature checked before a byte is appended), so after
// a cut the worker asks where the output stands and sends the rest.
//
// The staging folder becomes the job's output folder only once every output decrypted
// and passed verification (coordinator.ts); a new attempt, a refusal or a lost worker
// discards it.

import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KeepsakeError } from '../core/errors';

/** Largest chunk a worker may send in one request (held in memory until signed). */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

const SEGMENT = /^[A-Za-z0-9._-]{1,100}$/;

/** Refuses a name that could leave the staging folder. */
export function checkOutputName(name: string): void {
  const parts = name.split('/');
  if (parts.length > 4 || parts.some((p) => !SEGMENT.test(p) || p === '.' || p === '..')) {
    throw new KeepsakeError('USAGE', `"${name}" is not an output name`);
  }
}

export class OutputStore {
  constructor(private readonly outputRoot: string) {}

  /** The staging folder of a job's outputs from a worker. */
  dir(jobId: string): string {
    return join(this.outputRoot, `.${jobId}.worker`);
  }

  /** The file holding one output's ciphertext, as the job's output folder names it. */
  path(jobId: string, name: string): string {
    checkOutputName(name);
    return join(this.dir(jobId), `${name}.ksv`);
  }

  /** How many bytes of the output have arrived (0 for none). */
  async offset(jobId: string, name: string): Promise<number> {
    return stat(this.path(jobId, name)).then(
      (s) => s.size,
      () => 0,
    );
  }

  /** Appends `chunk` at `offset`, which must be where the output stands. */
  async append(jobId: string, name: string, offset: number, chunk: Buffer): Promise<number> {
    const path = this.path(jobId, name);
    const current = await this.offset(jobId, name);
    if (offset !== current) {
      throw new KeepsakeError(
        'UPLOAD_OFFSET_MISMATCH',
        `output ${name} stands at ${current} bytes, not ${offset}`,
      );
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const handle = await open(path, 'a', 0o600);
    try {
      await handle.write(chunk);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return current + chunk.length;
  }

  /** Moves the staged outputs to `final` (the job's output folder). */
  async accept(jobId: string, final: string): Promise<void> {
    await rm(final, { recursive: true, force: true });
    await rename(this.dir(jobId), final);
  }

  /** Forgets whatever a worker sent for the job (a new attempt, a refusal, a lost worker). */
  async discard(jobId: string): Promise<void> {
    await rm(this.dir(jobId), { recursive: true, force: true });
  }
}
