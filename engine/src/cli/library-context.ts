// Opening the library for one `keepsake library …` command: the database, the library and
// the readers of items' facts and pictures, closed again when the command is done.

import { readConfig } from '../core/config';
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

export async function withLibrary<T>(
  g: GlobalOptions,
  fn: (library: Library, db: Db, info: InfoReader, previews: PreviewMaker) => Promise<T>,
): Promise<T> {
  const { db, library, info, previews } = openLibrary(g);
  try {
    return await fn(library, db, info, previews);
  } finally {
    db.close();
  }
}
