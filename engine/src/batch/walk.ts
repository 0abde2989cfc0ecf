// Walks a source tree for a batch. Paths are bytes (see fs/paths.ts). Symbolic links
// are followed, as a family would expect of a shortcut to a folder, but a link that leads
// back into its own ancestry is reported as a loop instead of recursing forever.
// Sockets, FIFOs and devices are skipped: reading a FIFO would block forever.

import { opendir, stat } from 'node:fs/promises';
import { KeepsakeError, fromFsError } from '../core/errors';
import { displayPath, joinPath } from '../fs/paths';

export interface WalkFile {
  /** Path relative to the root, as bytes, `/`-separated. */
  rel: Buffer;
  size: number;
  mtimeMs: number;
  mode: number;
}

export interface WalkDir {
  rel: Buffer;
  mtimeMs: number;
  mode: number;
}

export interface WalkResult {
  files: WalkFile[];
  dirs: WalkDir[];
  errors: KeepsakeError[];
  skipped: { rel: Buffer; reason: string }[];
}

const SLASH = Buffer.from('/');

export async function walkTree(
  root: string,
  options: { skipDirs?: Set<string> } = {},
): Promise<WalkResult> {
  const result: WalkResult = { files: [], dirs: [], errors: [], skipped: [] };
  let rootInfo;
  try {
    rootInfo = await stat(root);
  } catch (err) {
    throw fromFsError(err, root, 'read');
  }
  if (!rootInfo.isDirectory())
    throw new KeepsakeError('USAGE', 'the source must be a folder', { file: root });

  const visit = async (rel: Buffer, ancestors: Set<string>): Promise<void> => {
    const full = rel.length ? joinPath(Buffer.from(root), rel) : Buffer.from(root);
    let dir;
    try {
      dir = await opendir(full, { encoding: 'buffer' } as unknown as { encoding: 'utf8' });
    } catch (err) {
      result.errors.push(fromFsError(err, displayPath(full), 'read'));
      return;
    }
    const children: Buffer[] = [];
    try {
      for await (const entry of dir) children.push(entry.name as unknown as Buffer);
    } catch (err) {
      result.errors.push(fromFsError(err, displayPath(full), 'read'));
      return;
    }
    children.sort(Buffer.compare);
    for (const name of children) {
      const childRel = rel.length ? Buffer.concat([rel, SLASH, name]) : name;
      const childFull = joinPath(Buffer.from(root), childRel);
      let info;
      try {
        info = await stat(childFull);
      } catch (err) {
        result.errors.push(fromFsError(err, displayPath(childFull), 'read'));
        continue;
      }
      if (info.isDirectory()) {
        const id = `${info.dev}:${info.ino}`;
        if (options.skipDirs?.has(id)) continue;
        if (ancestors.has(id)) {
          result.errors.push(
            new KeepsakeError(
              'SYMLINK_LOOP',
              'this link leads back into one of its own parent folders',
              {
                file: displayPath(childFull),
              },
            ),
          );
          continue;
        }
        result.dirs.push({ rel: childRel, mtimeMs: info.mtimeMs, mode: info.mode & 0o7777 });
        await visit(childRel, new Set([...ancestors, id]));
      } else if (info.isFile()) {
        result.files.push({
          rel: childRel,
          size: info.size,
          mtimeMs: info.mtimeMs,
          mode: info.mode & 0o7777,
        });
      } else {
        result.skipped.push({
          rel: childRel,
          reason: 'not a regular file (socket, FIFO or device)',
        });
      }
    }
  };

  await visit(Buffer.alloc(0), new Set([`${rootInfo.dev}:${rootInfo.ino}`]));
  return result;
}
