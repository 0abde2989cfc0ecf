// The "no plaintext on disk" check: every file under a folder that contains a marker.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function filesContaining(root: string, needle: Buffer): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  const hits: string[] = [];
  for (const e of entries) {
    if (e.isFile() && (await readFile(join(e.parentPath, e.name))).includes(needle)) {
      hits.push(join(e.parentPath, e.name));
    }
  }
  return hits;
}
