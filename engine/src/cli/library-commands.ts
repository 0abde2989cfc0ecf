// `keepsake library …`: the desktop library on the same data folder, for scripts and for
// homes without a screen. Same rules as the app: adding protects the files (unless
// --no-encrypt or the setting says otherwise), removing keeps the encrypted copies unless
// --delete-encrypted, and export never replaces a file.

import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { readSettings } from '../session/settings';
import { resolveDataDir } from '../core/data-dir';
import { KeepsakeError } from '../core/errors';
import { ItemLabelStore } from '../library/item-labels';
import { capturedOf, itemFacts } from '../library/library-items';
import type { Library } from '../library/library';
import { folderName, type LibraryFolder } from '../library/library';
import type { InfoReader } from '../library/info-reader';
import type { PreviewMaker } from '../library/preview-maker';
import type { Vault } from '../vault/keyring';
import { leftOutWords, type LeftOut } from '../library/library-left-out';
import { copyToSave, saveCopy } from '../library/save-copy';
import { formatBytes } from './progress';
import { globals, openVault, output, progressFor, type GlobalOptions } from './context';
import { withLibrary } from './library-context';
import { registerLibraryItemCommands } from './library-item-commands';
import { printable } from './printable';

function folderJson(library: Library, folder: LibraryFolder) {
  const s = library.summary(folder);
  return {
    id: s.id,
    name: folderName(folder),
    path: s.path,
    source: s.source,
    watching: s.watching,
    addedAt: s.addedAt,
    scannedAt: s.scannedAt,
    files: s.total.files,
    bytes: s.total.bytes,
    encrypted: s.encrypted,
    pending: s.pending,
    vaultOnly: s.vaultOnly,
  };
}

/**
 * Encrypts a folder's pending media, then reads the dates and details of what is in the
 * vault and not read yet, and makes the pictures it lacks (as the app does in the
 * background), with progress.
 */
async function protect(
  g: GlobalOptions,
  library: Library,
  info: InfoReader,
  previews: PreviewMaker,
  folderId: string,
  opened?: Vault,
) {
  const pending = library.summary(library.folder(folderId)).pending;
  if (pending === 0 && info.leftToRead() === 0 && previews.leftToMake() === 0) {
    return { done: 0, failed: 0, read: 0, pictured: 0 };
  }
  const vault = opened ?? (await openVault(g));
  const progress = progressFor(g);
  progress.setTotals({ files: pending, bytes: 0 });
  progress.start();
  let done;
  try {
    done = await library.encrypt(folderId, vault, { onFile: () => progress.fileDone() });
  } finally {
    progress.stop();
  }
  const reading = progressFor(g);
  reading.setTotals({ files: info.leftToRead(), bytes: 0 });
  reading.start();
  let read = 0;
  let unread: string | undefined;
  try {
    const result = await info.run(vault, () => reading.fileDone());
    read = result.done;
    if (result.failed > 0) unread = `${result.failed} items: ${info.lastError ?? 'unknown'}`;
  } catch (err) {
    // Protecting is what matters; dates and details are read again next time.
    unread = (err as Error).message;
  } finally {
    reading.stop();
  }
  if (unread !== undefined && !g.json) {
    process.stderr.write(
      `keepsake: dates and details not read (${printable(unread)}); they are read at the next add or rescan\n`,
    );
  }
  const picturing = progressFor(g);
  picturing.setTotals({ files: previews.leftToMake(), bytes: 0 });
  picturing.start();
  let pictured = 0;
  let unpictured: string | undefined;
  try {
    const result = await previews.run(vault, () => picturing.fileDone());
    pictured = result.done;
    if (result.failed > 0) {
      unpictured = `${result.failed} items: ${previews.lastError ?? 'unknown'}`;
    }
  } catch (err) {
    // As for dates: pictures are made again next time.
    unpictured = (err as Error).message;
  } finally {
    picturing.stop();
  }
  if (unpictured !== undefined && !g.json) {
    process.stderr.write(
      `keepsake: pictures not made (${printable(unpictured)}); they are made at the next add or rescan\n`,
    );
  }
  return {
    done: done.done,
    failed: done.failed,
    read,
    ...(unread !== undefined ? { unread } : {}),
    pictured,
    ...(unpictured !== undefined ? { unpictured } : {}),
    lastError: library.summary(library.folder(folderId)).lastError,
  };
}

/** What a scan left out, and the first few of them by name; nothing when none. */
function leftOutLines(leftOut: LeftOut | undefined): string[] {
  const words = leftOutWords(leftOut);
  if (!words || !leftOut) return [];
  return [words, ...leftOut.examples.map((e) => `  ${printable(e.rel)}`)];
}

export function registerLibraryCommands(program: Command): void {
  const lib = program
    .command('library')
    .description('the library of the desktop app: folders, their files and vault copies');

  lib
    .command('add <path>')
    .description('add a folder (scanned with everything inside it) and protect its media')
    .option('--no-encrypt', 'only scan; protect the files later (`keepsake library rescan`)')
    .action(async (path: string, opts: { encrypt: boolean }, cmd: Command) => {
      const g = globals(cmd);
      await withLibrary(g, async (library, db, info, previews, signal) => {
        const encrypt = opts.encrypt && readSettings(db).encryptOnAdd;
        // The password first: a wrong one must not leave a folder added and unprotected.
        const vault = encrypt ? await openVault(g) : undefined;
        const { folder, notice } = await library.addFolder(resolve(path), { signal });
        const leftOut = library.leftOut(folder.id);
        const encrypted = encrypt
          ? await protect(g, library, info, previews, folder.id, vault)
          : undefined;
        const summary = folderJson(library, library.folder(folder.id));
        output(
          g,
          [
            notice ??
              `Added “${printable(summary.name)}”: ${summary.files} files, ${formatBytes(summary.bytes)}.`,
            ...leftOutLines(leftOut),
            encrypted
              ? `Protected ${encrypted.done} files${encrypted.failed ? `; ${encrypted.failed} could not be read` : ''}.`
              : `${summary.pending} files are not protected yet.`,
            `Folder id: ${summary.id}`,
          ].join('\n'),
          { folder: summary, notice, leftOut, encrypted },
        );
        if (encrypted?.failed) process.exitCode = 5;
      });
    });

  lib
    .command('list')
    .description('the folders in the library')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      await withLibrary(g, async (library) => {
        const folders = library.folders().map((f) => folderJson(library, f));
        const text = folders
          .map(
            (f) =>
              `${f.id}  ${printable(f.name)}  ${f.files} files, ${formatBytes(f.bytes)}, ${f.encrypted} protected` +
              (f.pending ? `, ${f.pending} not yet` : '') +
              (f.vaultOnly ? `, ${f.vaultOnly} only in the vault` : '') +
              (f.watching ? '' : '  (no longer watched; copies kept)') +
              (f.scannedAt === 0 ? '  (its first scan has not finished)' : ''),
          )
          .join('\n');
        output(g, text || 'The library is empty.', { folders });
      });
    });

  lib
    .command('files <folderId>')
    .description("a folder's files: whether each is protected and whether its source is there")
    .action(async (folderId: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      await withLibrary(g, async (library, db, reader) => {
        library.folder(folderId); // NOT_FOUND, in words, for an unknown folder
        const ids = library.files(folderId).map((f) => f.id);
        // Dates and cameras are sealed with the vault: shown when it opens, as in the app.
        const vault =
          reader.anyRead(ids) || new ItemLabelStore(db).anySet(ids)
            ? await openVault(g)
            : undefined;
        const items = itemFacts(db, resolveDataDir(g.dataDir), vault, { folderId });
        const files = items.map((item) => {
          const { file: f, info, labels } = item;
          const captured = capturedOf(item);
          return {
            id: f.id,
            rel: f.rel,
            size: f.size,
            mtimeMs: f.mtimeMs,
            kind: f.kind,
            encrypted: f.encryptedPath !== undefined,
            sourceExists: f.sourceExists,
            ...(f.missingSince !== undefined ? { missingSince: f.missingSince } : {}),
            // What was read from the vault copy: null until it is read.
            title: labels?.title ?? null,
            // The date the family gave it wins over the one read from the file.
            capturedAt: captured?.capturedAt ?? null,
            capturedFrom: captured?.capturedFrom ?? null,
            durationSeconds: info?.durationSeconds ?? null,
            width: info?.width ?? null,
            height: info?.height ?? null,
            damaged: info?.attention === 'damaged',
            attention: info?.attention ?? null,
            // Its grid picture (a photo's thumbnail, a video's poster) is made.
            preview: item.pictures.has('thumb') || item.pictures.has('poster'),
          };
        });
        const text = files
          .map(
            (f) =>
              `${f.id}  ${printable(f.rel)}  ${formatBytes(f.size)}  ${f.encrypted ? 'protected' : 'not protected'}` +
              (f.sourceExists ? '' : '  (only in the vault)'),
          )
          .join('\n');
        output(g, text || 'No files.', { files });
      });
    });

  lib
    .command('remove <folderId>')
    .description('stop watching a folder; its encrypted copies stay unless --delete-encrypted')
    .option(
      '--delete-encrypted',
      'also delete its encrypted copies (for files whose source is gone, the only copy)',
    )
    .action(async (folderId: string, opts: { deleteEncrypted?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      await withLibrary(g, async (library) => {
        const impact = await library.removalImpact(folderId);
        await library.remove(folderId, { deleteEncrypted: opts.deleteEncrypted });
        output(
          g,
          opts.deleteEncrypted
            ? `Removed, and deleted ${impact.encrypted.files} encrypted copies (${formatBytes(impact.encrypted.bytes)}); ${impact.onlyCopies.files} of them were the only copy.`
            : `No longer watched. Its ${impact.encrypted.files} encrypted copies stay in the vault.`,
          { removed: folderId, deletedEncrypted: !!opts.deleteEncrypted, impact },
        );
      });
    });

  lib
    .command('rescan <folderId>')
    .description('look at a folder again: new files are added (and protected), vanished ones kept')
    .option('--no-encrypt', 'do not protect new files now')
    .action(async (folderId: string, opts: { encrypt: boolean }, cmd: Command) => {
      const g = globals(cmd);
      await withLibrary(g, async (library, db, info, previews, signal) => {
        const watched = library.folder(folderId);
        if (watched.source === 'disk' && !watched.watching) {
          throw new KeepsakeError(
            'USAGE',
            `“${printable(folderName(watched))}” is no longer watched (it was removed; its protected copies are kept). To watch it again: keepsake library add ${printable(watched.path)}`,
          );
        }
        await library.rescan(folderId, { signal });
        const leftOut = library.leftOut(folderId);
        const encrypt = opts.encrypt && readSettings(db).encryptOnAdd;
        const encrypted = encrypt ? await protect(g, library, info, previews, folderId) : undefined;
        const folder = folderJson(library, library.folder(folderId));
        output(
          g,
          [
            `“${printable(folder.name)}”: ${folder.files} files, ${folder.encrypted} protected, ${folder.pending} not yet, ${folder.vaultOnly} only in the vault.`,
            ...leftOutLines(leftOut),
          ].join('\n'),
          { folder, leftOut, encrypted },
        );
      });
    });

  lib
    .command('export <fileId> <outDir>')
    .description(
      'save a copy of a library file into OUT_DIR (original name and time; never replaces)',
    )
    .action(async (fileId: string, outDir: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      await withLibrary(g, async (library) => {
        const file = library.file(fileId);
        const copy = copyToSave({ ...file, rel: printable(file.rel) });
        const vault = await openVault(g);
        const progress = progressFor(g);
        progress.setTotals({ files: 1, bytes: file.size });
        progress.start();
        let written: string;
        try {
          written = await saveCopy(copy.path, vault, resolve(outDir), {
            fallbackName: basename(file.rel),
            onBytes: (n) => progress.addBytes(n),
          });
          progress.fileDone();
        } finally {
          progress.stop();
        }
        output(
          g,
          printable(written) +
            (copy.earlier
              ? '\n(the copy the vault holds: the file as it was before it changed on disk)'
              : ''),
          { file: fileId, path: written, earlierVersion: copy.earlier },
        );
      });
    });

  registerLibraryItemCommands(lib);
}
