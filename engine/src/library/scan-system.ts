// The computer's own folders, which a scan never walks: the kernel's views (/proc, /sys,
// /dev, /run) and pseudo file systems mounted anywhere. Part of the folder scanner's worker
// threads: scan.ts runs this function's source text in each thread beside scan-walker.ts
// and hands what it returns to the walker, so, like the walker, it must be
// self-contained (no imports but types, no helpers from outside its own body).

import type { Stats } from 'node:fs';

/** Says why the start cannot be scanned (the walker posts it to the main thread). */
export type Refuse = (kind: 'fs' | 'usage', path: string, message: string, errno?: string) => void;

export interface SystemFolders {
  /** The kernel's folders, skipped by path. */
  paths: readonly string[];
  /** Whether `path` is on a pseudo file system (proc, sysfs, cgroup…). */
  isPseudoFs(path: string): boolean;
  /**
   * The start: a real, readable folder that is not one of the kernel's; undefined (and
   * `refuse` called) otherwise.
   */
  checkStart(start: string, refuse: Refuse): { root: string; info: Stats } | undefined;
}

/**
 * The checks, for one thread. `override` replaces the system folders (tests: the real ones
 * cannot be crossed from a temp tree).
 */
export function systemFolders(override: string[] | undefined): SystemFolders {
  const fs = process.getBuiltinModule('node:fs');
  const linux = process.platform === 'linux';

  // Folders that are the kernel's views, never files: skipped by path when a scan crosses
  // them (a scan of `/`), refused as a start. /run holds runtime state, but removable
  // drives are mounted under /run/media on some systems: a start inside /run on a device
  // of its own (a real drive) is allowed.
  const SYSTEM_PATHS =
    override ?? (linux || process.platform === 'darwin' ? ['/proc', '/sys', '/dev', '/run'] : []);
  // statfs f_type of pseudo file systems (linux/magic.h). devtmpfs reports tmpfs's number,
  // so mount names from /proc/self/mountinfo are checked as well.
  const PSEUDO_MAGIC = new Set([
    0x9fa0, // proc
    0x62656572, // sysfs
    0x1cd1, // devpts
    0x27e0eb, // cgroup
    0x63677270, // cgroup2
    0x64626720, // debugfs
    0x74726163, // tracefs
    0x73636673, // securityfs
    0x6165676c, // pstore
    0xcafe4a11, // bpf
    0x62656570, // configfs
    0x65735543, // fusectl
    0x42494e4d, // binfmt_misc
    0x958458f6, // hugetlbfs
    0xde5e81e4, // efivarfs
    0xf97cff8c, // selinuxfs
    0x43415d53, // smackfs
    0x6e736673, // nsfs
    0x19800202, // mqueue
  ]);
  const PSEUDO_NAMES = new Set([
    'proc',
    'sysfs',
    'devtmpfs',
    'devpts',
    'cgroup',
    'cgroup2',
    'debugfs',
    'tracefs',
    'securityfs',
    'pstore',
    'bpf',
    'configfs',
    'fusectl',
    'binfmt_misc',
    'hugetlbfs',
    'efivarfs',
    'selinuxfs',
    'smackfs',
    'nsfs',
    'mqueue',
    'rpc_pipefs',
  ]);

  let mountTypes: Map<string, string> | undefined;
  /** Mount point → file system name, from /proc/self/mountinfo (Linux). */
  const mountType = (path: string): string | undefined => {
    if (!linux) return undefined;
    if (!mountTypes) {
      mountTypes = new Map();
      try {
        for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
          const fields = line.split(' ');
          const dash = fields.indexOf('-');
          if (dash < 0 || fields.length < dash + 2) continue;
          // Spaces and the like are octal escapes (\040) in mountinfo.
          const point = fields[4]!.replace(/\\([0-7]{3})/g, (_, o: string) =>
            String.fromCharCode(parseInt(o, 8)),
          );
          mountTypes.set(point, fields[dash + 1]!);
        }
      } catch {
        // No /proc (a container without it): statfs numbers still apply.
      }
    }
    return mountTypes.get(path);
  };

  const isPseudoFs = (path: string): boolean => {
    if (!linux) return false;
    const name = mountType(path);
    if (name !== undefined && PSEUDO_NAMES.has(name)) return true;
    try {
      return PSEUDO_MAGIC.has(Number(fs.statfsSync(path).type));
    } catch {
      return false;
    }
  };

  const systemPathOf = (path: string): string | undefined =>
    SYSTEM_PATHS.find((p) => path === p || path.startsWith(p + '/'));

  const checkStart = (start: string, refuse: Refuse): { root: string; info: Stats } | undefined => {
    let root: string;
    let info: Stats;
    try {
      root = fs.realpathSync.native(start);
      info = fs.lstatSync(root);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return void refuse('fs', start, e.message, e.code);
    }
    if (!info.isDirectory()) {
      return void refuse('usage', start, 'that is a file; add the folder that holds it');
    }
    const systemRoot = systemPathOf(root);
    let ownDrive = false;
    if (systemRoot !== undefined && root !== systemRoot) {
      try {
        ownDrive = fs.lstatSync(systemRoot).dev !== info.dev;
      } catch {
        ownDrive = false;
      }
    }
    if ((systemRoot !== undefined && !ownDrive) || isPseudoFs(root)) {
      return void refuse(
        'usage',
        start,
        "that is one of the computer's system folders, not a folder of files; choose your own folder or a drive",
      );
    }
    return { root, info };
  };

  return { paths: SYSTEM_PATHS, isPseudoFs, checkStart };
}
