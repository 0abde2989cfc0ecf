// Walks a source tree for a batch. Paths are bytes (see fs/paths.ts). Like the library's
// scanner (library/scan.ts), it never follows a symbolic link: a link may lead anywhere,
// to a folder already in the batch or to the whole computer (a link to `/` took the walk
// into /proc and /sys, with every file of the machine listed in memory), so links are
// skipped and named. Nor does it enter the computer's own folders (/proc, /sys, /dev,
// /run) or pseudo file systems mounted in the tree. Sockets, FIFOs and devices are
// skipped too: reading a FIFO would block forever.

import { lstat, opendir } from 'node:fs/promises';
import { KeepsakeError, fromFsError } from '../core/errors';
import { displayPath, joinPath } from '../fs/paths';
import { systemFolders } from '../library/scan-system';

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

/** Why an entry was left out: a link, a special file, or one of the computer's own folders. */
export type SkipKind = 'link' | 'special' | 'system';

export interface WalkResult {
  files: WalkFile[];
  dirs: WalkDir[];
  errors: KeepsakeError[];
  skipped: { rel: Buffer; kind: SkipKind; reason: string }[];
}

const SKIP_REASONS: Record<SkipKind, string> = {
  link: 'a link: links are not followed (one may lead anywhere, even to the whole computer)',
  special: 'not a regular file (socket, FIFO or device)',
  system: "one of the computer's own folders (such as /proc), not a folder of files",
};

const SLASH = Buffer.from('/');

export async function walkTree(
  root: string,
  options: { skipDirs?: Set<string> } = {},
): Promise<WalkResult> {
  const result: WalkResult = { files: [], dirs: [], errors: [], skipped: [] };
  const skip = (rel: Buffer, kind: SkipKind) =>
    result.skipped.push({ rel, kind, reason: SKIP_REASONS[kind] });
  const system = systemFolders(undefined);
  // The source may be given through a link: it is resolved, then checked like a folder
  // added to the library (never /proc and the like). The walk runs on its real path.
  let refused: KeepsakeError | undefined;
  const start = system.checkStart(root, (kind, _path, message, errno) => {
    refused =
      kind === 'usage'
        ? new KeepsakeError('USAGE', message, { file: root })
        : fromFsError(Object.assign(new Error(message), { code: errno }), root, 'read');
  });
  if (!start) throw refused!;
  const base = Buffer.from(start.root);
  const rootInfo = start.info;

  const visit = async (rel: Buffer, ancestors: Set<string>, parentDev: number): Promise<void> => {
    const full = rel.length ? joinPath(base, rel) : base;
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
      const childFull = joinPath(base, childRel);
      let info;
      try {
        info = await lstat(childFull);
      } catch (err) {
        result.errors.push(fromFsError(err, displayPath(childFull), 'read'));
        continue;
      }
      if (info.isSymbolicLink()) {
        skip(childRel, 'link');
      } else if (info.isDirectory()) {
        const id = `${info.dev}:${info.ino}`;
        if (options.skipDirs?.has(id)) continue;
        const path = childFull.toString('utf8');
        if (system.paths.includes(path) || (info.dev !== parentDev && system.isPseudoFs(path))) {
          skip(childRel, 'system');
          continue;
        }
        // Without links a walk cannot loop, but a bind mount of a parent folder can.
        if (ancestors.has(id)) {
          result.errors.push(
            new KeepsakeError('SYMLINK_LOOP', 'this folder is mounted inside itself', {
              file: displayPath(childFull),
            }),
          );
          continue;
        }
        result.dirs.push({ rel: childRel, mtimeMs: info.mtimeMs, mode: info.mode & 0o7777 });
        await visit(childRel, new Set([...ancestors, id]), info.dev);
      } else if (info.isFile()) {
        result.files.push({
          rel: childRel,
          size: info.size,
          mtimeMs: info.mtimeMs,
          mode: info.mode & 0o7777,
        });
      } else {
        skip(childRel, 'special');
      }
    }
  };

  await visit(Buffer.alloc(0), new Set([`${rootInfo.dev}:${rootInfo.ino}`]), rootInfo.dev);
  return result;
}
