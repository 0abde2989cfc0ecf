// The desktop API's library (net/desktop-route-table.ts): folders added and scanned (with
// progress and cancel), protected on add, removed without losing what the vault keeps,
// browser uploads encrypted as they stream in, "Save a copy" of any item, and the
// settings that steer it. Every change is recorded in the activity log.

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Readable } from 'node:stream';
import { basename, isAbsolute, normalize } from 'node:path';
import { backgroundFailure } from '../session/library-background';
import type { DesktopSession } from '../session/session';
import { KeepsakeError } from '../core/errors';
import { isSafeName } from '../fs/paths';
import type { FileJob } from '../jobs/queue';
import { folderName, type LibraryFile, type LibraryFolder } from '../library/library';
import { leftOutWords } from '../library/library-left-out';
import { copyToSave, saveCopy } from '../library/save-copy';
import { receiveUpload } from '../library/upload';
import type { Vault } from '../vault/keyring';
import type { AddedFolder, FileView, FolderView } from '../net/desktop-contract';
import { DESKTOP_ROUTES } from '../net/desktop-route-table';

export function libraryRoutes(options: { session: DesktopSession }): FastifyPluginAsync {
  const { session } = options;
  const library = session.library;

  /** Protects a folder's pending media in the background; progress shows on the folder. */
  const protect = (folderId: string, vault: Vault): void => {
    library
      .encrypt(folderId, vault)
      .then(
        (done) => {
          if (done.total === 0) return;
          session.readItemInfo();
          session.record(
            'library.encrypt',
            folderId,
            done.failed ? 'error' : 'ok',
            `${done.done} encrypted, ${done.failed} failed`,
          );
        },
        (err: unknown) =>
          session.record('library.encrypt', folderId, 'error', (err as Error).message),
      )
      // Recording the outcome can fail too (the activity log's database busy or full).
      .catch(backgroundFailure);
  };

  // Files added while the vault was locked are protected as soon as it opens.
  session.onUnlock((vault) => {
    if (!session.settings().encryptOnAdd) return;
    for (const id of library.foldersWithPending()) protect(id, vault);
  });

  /** The job queue while the vault is open (and the engine with it); else undefined. */
  const openQueue = () => {
    if (!session.currentVault()) return undefined;
    try {
      return session.requireEngine().queue;
    } catch {
      return undefined;
    }
  };

  /** The jobs of these files, newest first, by file (one query); none while locked. */
  const jobsByFile = async (fileIds: readonly string[]): Promise<Map<string, FileJob[]>> =>
    (await openQueue()?.jobsForFiles(fileIds)) ?? new Map<string, FileJob[]>();

  /** Files with a succeeded job, counted per folder: two queries, no job or file loaded. */
  const encodedByFolder = async (): Promise<Map<string, number>> => {
    const queue = openQueue();
    return queue ? library.countByFolder(await queue.encodedFiles()) : new Map<string, number>();
  };

  const folderView = (folder: LibraryFolder, encoded: Map<string, number>): FolderView => {
    const leftOut = leftOutWords(library.leftOut(folder.id));
    return {
      ...library.summary(folder),
      name: folderName(folder),
      encoded: encoded.get(folder.id) ?? 0,
      ...(session.info.progress() ? { readingInfo: true } : {}),
      ...(leftOut ? { leftOut } : {}),
    };
  };

  const fileView = (
    file: LibraryFile,
    byFile: Map<string, FileJob[]>,
    info = session.info.infoFor([file.id], session.currentVault()),
  ): FileView => ({
    id: file.id,
    folderId: file.folderId,
    rel: file.rel,
    size: file.size,
    mtimeMs: file.mtimeMs,
    kind: file.kind,
    encrypted: file.encryptedPath !== undefined,
    sourceExists: file.sourceExists,
    ...(file.missingSince !== undefined ? { missingSince: file.missingSince } : {}),
    jobs: byFile.get(file.id) ?? [],
    ...(info.has(file.id) ? { info: info.get(file.id)! } : {}),
  });

  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    // Browser uploads arrive as raw bytes and stream into the encryptor.
    app.addContentTypeParser('application/octet-stream', (_request, payload, done) =>
      done(null, payload),
    );

    app.route({
      ...DESKTOP_ROUTES.folders,
      handler: async () => {
        const encoded = await encodedByFolder();
        return library.folders().map((f) => folderView(f, encoded));
      },
    });

    // Answers when the scan is done; meanwhile the folder shows in the list with its
    // `scanning` progress, and POST …/cancel stops it (nothing is then added).
    app.route({
      ...DESKTOP_ROUTES.addFolder,
      handler: async (request, reply) => {
        const { folder, notice } = await library.addFolder(request.body.path);
        session.record('library.add', folder.id, 'ok', notice ?? folder.path);
        const vault = session.currentVault();
        if ((request.body.encrypt ?? session.settings().encryptOnAdd) && vault) {
          protect(folder.id, vault);
        }
        const view: AddedFolder = {
          ...folderView(folder, await encodedByFolder()),
          notice,
        };
        return reply.code(notice ? 200 : 201).send(view);
      },
    });

    app.route({
      ...DESKTOP_ROUTES.removalImpact,
      handler: async (request) => library.removalImpact(request.params.id),
    });

    app.route({
      ...DESKTOP_ROUTES.removeFolder,
      handler: async (request, reply) => {
        const { deleteEncrypted } = request.query;
        const impact = deleteEncrypted ? await library.removalImpact(request.params.id) : undefined;
        await library.remove(request.params.id, { deleteEncrypted });
        session.record(
          'library.remove',
          request.params.id,
          'ok',
          impact
            ? `deleted ${impact.encrypted.files} encrypted copies (${impact.onlyCopies.files} were the only copy)`
            : 'stopped watching; encrypted copies kept',
        );
        return reply.code(204).send();
      },
    });

    app.route({
      ...DESKTOP_ROUTES.cancelScan,
      handler: async (request, reply) => {
        library.folder(request.params.id);
        if (!library.cancelScan(request.params.id)) {
          throw new KeepsakeError('USAGE', 'this folder is not being scanned');
        }
        return reply.code(202).send({ cancelled: true });
      },
    });

    app.route({
      ...DESKTOP_ROUTES.rescanFolder,
      handler: async (request) => {
        const folder = await library.rescan(request.params.id);
        const vault = session.currentVault();
        if (session.settings().encryptOnAdd && vault) protect(folder.id, vault);
        return folderView(folder, await encodedByFolder());
      },
    });

    app.route({
      ...DESKTOP_ROUTES.folderFiles,
      handler: async (request) => {
        const files = library.files(request.params.id);
        const byFile = await jobsByFile(files.map((f) => f.id));
        const info = session.info.infoFor(
          files.map((f) => f.id),
          session.currentVault(),
        );
        return files.map((f) => fileView(f, byFile, info));
      },
    });

    app.route({
      ...DESKTOP_ROUTES.encryptFolder,
      handler: async (request, reply) => {
        const vault = session.requireVault();
        const folder = library.folder(request.params.id);
        protect(folder.id, vault);
        return reply.code(202).send(folderView(folder, await encodedByFolder()));
      },
    });

    app.route({
      ...DESKTOP_ROUTES.upload,
      handler: async (request, reply) => {
        const body = request.body as Readable;
        if (request.headers['content-type'] !== 'application/octet-stream') {
          throw new KeepsakeError('UNSUPPORTED_MEDIA_TYPE', 'uploads are application/octet-stream');
        }
        const rel = uploadName(request.headers['x-file-name']);
        const size = Number(request.headers['content-length']);
        if (!Number.isSafeInteger(size) || size < 0) {
          throw new KeepsakeError('USAGE', 'an upload needs its Content-Length');
        }
        const mtime = Number(request.headers['x-file-mtime']);
        const vault = session.requireVault();
        const { file, alreadyThere } = await receiveUpload(library, vault, body, {
          rel,
          size,
          mtimeMs: Number.isFinite(mtime) && mtime > 0 ? mtime : Date.now(),
        });
        if (!alreadyThere) session.record('library.upload', file.id, 'ok', file.rel);
        session.readItemInfo();
        return reply
          .code(alreadyThere ? 200 : 201)
          .send({ ...fileView(file, await jobsByFile([file.id])), alreadyThere });
      },
    });

    // --- Save a copy --------------------------------------------------------------------

    app.route({
      ...DESKTOP_ROUTES.saveFile,
      handler: async (request, reply) => {
        const vault = session.requireVault();
        const file = library.file(request.params.id);
        const dir = request.body.dir;
        if (!isAbsolute(dir)) {
          throw new KeepsakeError('USAGE', 'choose a folder to save into (a full path)');
        }
        // Before a changed source is protected again, the copy held is of the file as it was.
        const from = copyToSave(file).path;
        const task = session.saves.start(basename(file.rel), file.size, async (onBytes) => {
          const written = await saveCopy(from, vault, dir, {
            fallbackName: basename(file.rel),
            onBytes,
          });
          session.record('library.save', file.id, 'ok', written);
          return written;
        });
        return reply.code(202).send(task);
      },
    });

    app.route({
      ...DESKTOP_ROUTES.saveTask,
      handler: async (request) => session.saves.get(request.params.id),
    });

    // --- Recently watched: ids and times in the engine, names stay in the library ------
    app.route({
      ...DESKTOP_ROUTES.recentlyWatched,
      handler: async () => ({ items: session.watched() }),
    });
    app.route({
      ...DESKTOP_ROUTES.rememberWatched,
      handler: async (request) => ({ items: session.rememberWatched(request.body.fileIds) }),
    });

    // --- Settings -----------------------------------------------------------------------

    app.route({ ...DESKTOP_ROUTES.settings, handler: async () => session.settings() });

    app.route({
      ...DESKTOP_ROUTES.updateSettings,
      handler: async (request) => {
        const folder = request.body.deliveryFolder;
        if (folder !== undefined && (!isAbsolute(folder) || normalize(folder) !== folder)) {
          throw new KeepsakeError('USAGE', 'choose a folder for finished copies (a full path)');
        }
        const settings = session.updateSettings(request.body);
        session.record('settings.change', undefined, 'ok', JSON.stringify(request.body));
        return settings;
      },
    });
  };
}

// Characters a terminal or a log acts on (C0 and C1 controls, DEL, line and paragraph
// separators, bidi overrides): a name holding one could rewrite what a listing shows.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** NAME_MAX of the usual file systems, in bytes: a longer name cannot be saved back out. */
const NAME_MAX_BYTES = 255;

/** A dropped file's path inside the uploads: relative, plain names, no dot-files. */
function uploadName(header: string | string[] | undefined): string {
  let rel: string;
  try {
    rel = decodeURIComponent(typeof header === 'string' ? header : '');
  } catch {
    rel = '';
  }
  if (UNPRINTABLE_IN_NAME.test(rel)) {
    throw new KeepsakeError(
      'INVALID_FILE_NAME',
      `the file name ${JSON.stringify(rel)} holds control characters or line breaks; ` +
        'rename the file and add it again',
    );
  }
  const parts = rel.split('/');
  const long = parts.find((p) => Buffer.byteLength(p) > NAME_MAX_BYTES);
  if (long !== undefined) {
    throw new KeepsakeError(
      'INVALID_FILE_NAME',
      `the file name "${long.slice(0, 40)}…" is ${Buffer.byteLength(long)} bytes long; names ` +
        `can be at most ${NAME_MAX_BYTES}. Rename the file and add it again`,
    );
  }
  if (!rel || rel.length > 1024 || !parts.every((p) => isSafeName(p) && !p.startsWith('.'))) {
    throw new KeepsakeError(
      'USAGE',
      'X-File-Name must be the URL-encoded relative path of the file (no "..", no dot-files)',
    );
  }
  return rel;
}
