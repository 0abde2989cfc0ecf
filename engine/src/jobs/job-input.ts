// What a job's input is: a vault file (it starts with the vault magic) or a plain media
// file, which is only ever read.

import { open } from 'node:fs/promises';
import { KeepsakeError } from '../core/errors';
import { MAGIC } from '../vault/vault-file';
import type { JobInput } from './queue';

export async function jobInputFor(path: string): Promise<JobInput> {
  const handle = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new KeepsakeError(
      err.code === 'ENOENT' ? 'NOT_FOUND' : 'SOURCE_UNREADABLE',
      'cannot open the input',
      { file: path },
    );
  });
  try {
    if (!(await handle.stat()).isFile()) {
      throw new KeepsakeError('SOURCE_UNREADABLE', 'not a regular file', { file: path });
    }
    const head = Buffer.alloc(MAGIC.length);
    await handle.read(head, 0, head.length, 0);
    return { kind: head.equals(MAGIC) ? 'vault' : 'plain', path };
  } finally {
    await handle.close();
  }
}
