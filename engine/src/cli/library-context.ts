// Opening the library for one `keepsake library …` command: the database, the library and
// the readers of items' facts and pictures, closed again when the command is done.

import { readConfig } from '../core/config';
import { KeepsakeError } from '../core/errors';
import { resolveDataDir } from '../core/data-dir';
import { locateFfmpeg } from '../ffmpeg/locate';
import { databasePath, openDatabase, type Db } from '../jobs/db';
import { InfoReader } from '../library/info-reader';
import { Library } from '../library/library';
import { PreviewMaker } from '../library/preview-maker';
import type { GlobalOptions } from './context';

export interface OpenLibrary {
  db: Db;
  library: Library;
  info: InfoReader;
  previews: PreviewMaker;
}

export function openLibrary(g: GlobalOptions): OpenLibrary {
  const dataDir = resolveDataDir(g.dataDir);
  const db = openDatabase(databasePath(dataDir));
  const tools = async () => {
    const config = await readConfig(dataDir);
    return locateFfmpeg({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath });
  };
  const info = new InfoReader(db, dataDir, tools);
  const previews = new PreviewMaker(db, dataDir, tools);
  return { db, library: new Library(db, dataDir), info, previews };
}

/**
 * Runs one command on the library. Ctrl-C (or SIGTERM) during a scan stops it the way
 * the app's Stop does, so a folder whose first scan was stopped is not left half-added
 * (its scan's `signal` rejects with SCAN_CANCELLED); outside a scan, and at a second
 * Ctrl-C, the command stops as the signal says.
 */
export async function withLibrary<T>(
  g: GlobalOptions,
  fn: (
    library: Library,
    db: Db,
    info: InfoReader,
    previews: PreviewMaker,
    signal: AbortSignal,
  ) => Promise<T>,
): Promise<T> {
  const { db, library, info, previews } = openLibrary(g);
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (library.scanning && !abort.signal.aborted) {
      abort.abort(
        new KeepsakeError('SCAN_CANCELLED', 'the scan was stopped; nothing new was added'),
      );
      return;
    }
    db.close();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(library, db, info, previews, abort.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    db.close();
  }
}
