// The "no plaintext on disk" check: every file under a folder that contains a marker.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function filesContaining(root: string, needle: Buffer): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  const hits: string[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    // The engine may still be writing (background pictures): a temporary file listed a
    // moment ago can have been renamed or removed since. The search covers what is on
    // disk when it reads; a file gone by then is not there to hold plaintext.
    const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (bytes?.includes(needle)) hits.push(path);
  }
  return hits;
}
