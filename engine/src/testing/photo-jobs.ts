// What the photo-web tests share: a job run to success, an item's sealed labels, an
// output's plaintext, and a camera's JPEG with its capture date.

import sharp from 'sharp';
import { expect } from 'vitest';
import type { JobEngine } from '../jobs/job-engine';
import { sealJobLabels } from '../jobs/job-labels';
import type { Job, JobSpec } from '../jobs/queue';
import type { OutputLabels } from '../presets/output-labels';
import type { Vault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import { finishJob } from './engine';

/** The library item the labelled jobs are made from. */
const FILE_ID = 'fi0123456789abcdef';

export async function runJob(engine: JobEngine, spec: Omit<JobSpec, 'outputDir'>): Promise<Job> {
  const done = await finishJob(engine, spec);
  expect(done.state, done.lastError?.message).toBe('succeeded');
  return done;
}

/** A job's options carrying the item's title and date, sealed as the desktop seals them. */
export function labelled(vault: Vault, labels: OutputLabels) {
  return { libraryFile: FILE_ID, labels: sealJobLabels(vault, FILE_ID, labels) };
}

export async function plaintext(path: string, vault: Vault): Promise<Buffer> {
  const file = await VaultFile.open(path, { vault });
  try {
    return await file.read(0, file.size);
  } finally {
    await file.close();
  }
}

/** A camera's JPEG: noise (so its copies are large), with its capture date in EXIF. */
export async function cameraJpeg(side: number): Promise<Buffer> {
  const noise = Buffer.alloc(side * side * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  return sharp(noise, { raw: { width: side, height: side, channels: 3 } })
    .jpeg({ quality: 95 })
    .withExif({ IFD2: { DateTimeOriginal: '2003:05:17 09:15:00', OffsetTimeOriginal: '+02:00' } })
    .toBuffer();
}
