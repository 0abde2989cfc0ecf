// The routed proxy's own certificate (`tls: {cert, key}` in the routes file), reloaded
// when the files change so a renewed certificate (certbot, an ACME client, a script that
// renames new files into place) is served without a restart. New connections get the
// new certificate; connections already open keep the one they shook hands with.
//
// The files are polled (fs.watchFile stats the path), which follows an atomic rename
// onto the path where fs.watch on the old inode would not. A pair that does not load
// (a bad PEM, a key that does not match, a half-written renewal) leaves the previous
// certificate in force and is reported; the next change is tried again.

import { unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { KeepsakeError } from '../core/errors';

export interface TlsFilesPair {
  cert: string;
  key: string;
}

export interface TlsPem {
  cert: string;
  key: string;
}

/** Reads and checks a pair: createSecureContext refuses bad PEM and a key that does not match. */
export async function loadTlsPair(files: TlsFilesPair): Promise<TlsPem> {
  let pem: TlsPem;
  try {
    pem = {
      cert: await readFile(files.cert, 'utf8'),
      key: await readFile(files.key, 'utf8'),
    };
  } catch (err) {
    throw new KeepsakeError('NOT_FOUND', 'cannot read the listener certificate or key', {
      file: (err as { path?: string }).path ?? files.cert,
      cause: err,
    });
  }
  try {
    createSecureContext(pem);
  } catch (err) {
    throw new KeepsakeError(
      'USAGE',
      `${files.cert} and ${files.key} are not a usable certificate and key (${(err as Error).message})`,
    );
  }
  return pem;
}

export interface TlsWatchOptions {
  /** How often the files are polled (default 2 s). */
  intervalMs?: number;
  /** A change is loaded this long after it is seen, so a cert and key renamed one after the other arrive together (default 100 ms). */
  settleMs?: number;
  onReload?: () => void;
  onError?: (err: unknown) => void;
}

/**
 * Calls `apply` with the pair whenever either file changes and the new pair loads.
 * Returns a function that stops watching.
 */
export function watchTlsPair(
  files: TlsFilesPair,
  apply: (pem: TlsPem) => void,
  options: TlsWatchOptions = {},
): () => void {
  const interval = options.intervalMs ?? 2_000;
  const settle = options.settleMs ?? 100;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // Two loads may overlap (the files changed again while one was reading); only the
  // latest may apply, or an older pair could replace a newer one.
  let latest = 0;
  const reload = () => {
    timer = undefined;
    const load = ++latest;
    loadTlsPair(files).then(
      (pem) => {
        if (stopped || load !== latest) return;
        apply(pem);
        options.onReload?.();
      },
      (err: unknown) => {
        if (!stopped && load === latest) options.onError?.(err);
      },
    );
  };
  const changed = (
    now: { mtimeMs: number; ino: number },
    before: { mtimeMs: number; ino: number },
  ) => {
    if (now.mtimeMs === before.mtimeMs && now.ino === before.ino) return;
    clearTimeout(timer);
    timer = setTimeout(reload, settle);
  };
  for (const file of [files.cert, files.key])
    watchFile(file, { interval, persistent: false }, changed);
  return () => {
    stopped = true;
    clearTimeout(timer);
    for (const file of [files.cert, files.key]) unwatchFile(file, changed);
  };
}
