// Automated mode's last step: a finished job's encrypted outputs, decrypted into a folder
// the user chose (the CLI's `--out`, the desktop's output folder). Output names come from
// the job record; any that would leave the folder are refused.

import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KeepsakeError } from '../errors';
import { isSafeName } from '../fs/paths';
import { decryptFile } from '../vault/file-ops';
import type { Vault } from '../vault/keyring';
import type { Job } from './queue';

export async function deliverOutputs(
  job: Job,
  vault: Vault,
  dir: string,
  overwrite: boolean,
): Promise<string[]> {
  const written: string[] = [];
  for (const out of job.outputs) {
    if (!out.name.split('/').every((part) => isSafeName(part))) {
      throw new KeepsakeError('HEADER_CORRUPT', `output name "${out.name}" is not safe`);
    }
    const dest = join(dir, out.name);
    await mkdir(dirname(dest), { recursive: true });
    await decryptFile(out.path, dest, { vault }, { overwrite });
    written.push(dest);
  }
  return written;
}
