// File paths as the operating system sees them. On POSIX a file name is bytes, not
// text: family archives copied from old cameras and Windows 98 machines contain names
// that are not valid UTF-8. Node decodes string paths as UTF-8, which would lose them,
// so batch code walks and restores trees with Buffer paths.

import { sep } from 'node:path';

export type FsPath = string | Buffer;

const SEP = Buffer.from(sep);

export function joinPath(base: FsPath, ...names: FsPath[]): FsPath {
  if (typeof base === 'string' && names.every((n) => typeof n === 'string')) {
    return [base, ...names].join(sep);
  }
  const parts: Buffer[] = [toBuffer(base)];
  for (const name of names) parts.push(SEP, toBuffer(name));
  return Buffer.concat(parts);
}

/** A path next to `path`, in the same folder. */
export function siblingPath(path: FsPath, name: string): FsPath {
  const buf = toBuffer(path);
  const cut = buf.lastIndexOf(SEP);
  const dir = cut < 0 ? Buffer.from('.') : buf.subarray(0, cut === 0 ? 1 : cut);
  const joined = Buffer.concat([dir, cut === 0 ? Buffer.alloc(0) : SEP, Buffer.from(name)]);
  return typeof path === 'string' ? joined.toString() : joined;
}

export function toBuffer(path: FsPath): Buffer {
  return typeof path === 'string' ? Buffer.from(path) : path;
}

/** A printable form for messages; invalid UTF-8 bytes show as U+FFFD. */
export function displayPath(path: FsPath): string {
  return typeof path === 'string' ? path : path.toString('utf8');
}

/**
 * Whether one path component, as stored in a vault file or a manifest, is safe to create
 * inside a target folder: no separators, no `.`/`..`, no NUL (and on Windows no `\` or
 * drive colon). `component` is the name's bytes read as latin1.
 */
export function isSafeName(
  component: string,
  platform: NodeJS.Platform = process.platform,
): boolean {
  if (component === '' || component === '.' || component === '..') return false;
  if (component.includes('/') || component.includes('\0')) return false;
  return platform !== 'win32' || !/[\\:]/.test(component);
}
