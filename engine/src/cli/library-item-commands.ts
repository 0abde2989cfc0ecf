// `keepsake library preview` and `library set`: one item's picture, and the title and date
// the family gives it.

import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { KeepsakeError } from '../core/errors';
import { checkReplaceable, writeFileAtomic } from '../fs/atomic';
import { ItemLabelStore } from '../library/item-labels';
import { findPicture } from '../library/preview-store';
import { PREVIEW_KINDS, type PreviewKind } from '../library/preview-types';
import { globals, openVault, output } from './context';
import { withLibrary } from './library-context';
import { printable } from './printable';

export function registerLibraryItemCommands(lib: Command): void {
  lib
    .command('preview <fileId> <out>')
    .description(
      "save an item's picture decrypted into OUT: a photo's thumbnail, a video's poster, or --kind",
    )
    .option('--kind <kind>', `which picture: ${PREVIEW_KINDS.join(', ')}`)
    .option('--force', 'replace OUT if it exists')
    .action(
      async (
        fileId: string,
        out: string,
        opts: { kind?: string; force?: boolean },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        const kind = opts.kind as PreviewKind | undefined;
        if (kind !== undefined && !PREVIEW_KINDS.includes(kind)) {
          throw new KeepsakeError(
            'USAGE',
            `--kind is one of ${PREVIEW_KINDS.join(', ')}, not “${printable(kind)}”`,
          );
        }
        const dest = resolve(out);
        const force = opts.force === true;
        await withLibrary(g, async (library, db, _info, previews) => {
          const file = library.file(fileId);
          // Why there is no picture, or that OUT is taken, is said before the password is asked.
          findPicture(db, file.id, kind);
          await checkReplaceable(dest, force);
          const picture = await previews.picture(await openVault(g), file.id, kind);
          try {
            await checkReplaceable(dest, force);
            await writeFileAtomic(dest, picture.bytes, { exclusive: !force });
          } finally {
            picture.bytes.fill(0);
          }
          output(
            g,
            `Saved the ${picture.kind} of ${printable(basename(file.rel))} (${picture.width} × ${picture.height}) to ${printable(dest)}.`,
            {
              file: file.id,
              kind: picture.kind,
              width: picture.width,
              height: picture.height,
              frames: picture.frames,
              path: dest,
            },
          );
        });
      },
    );

  lib
    .command('set <fileId>')
    .description('give a library item a title and a date (they win over what the file says)')
    .option('--title <title>', 'e.g. "Christmas 1989"')
    .option(
      '--date <date>',
      'when it happened: 1989-12-24, optionally with a time (18:30), or only 1989-12 or 1989',
    )
    .option('--clear-title', 'remove the title')
    .option('--clear-date', 'go back to the date read from the file')
    .action(
      async (
        fileId: string,
        opts: { title?: string; date?: string; clearTitle?: boolean; clearDate?: boolean },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        if (
          (opts.title !== undefined && opts.clearTitle) ||
          (opts.date !== undefined && opts.clearDate)
        ) {
          throw new KeepsakeError('USAGE', 'give a new value or clear it, not both');
        }
        const title = opts.clearTitle ? null : opts.title;
        const date = opts.clearDate ? null : opts.date;
        if (title === undefined && date === undefined) {
          throw new KeepsakeError(
            'USAGE',
            'say what to set: --title, --date, --clear-title or --clear-date',
          );
        }
        await withLibrary(g, async (library, db) => {
          const file = library.file(fileId);
          const labels = new ItemLabelStore(db).set(await openVault(g), file.id, { title, date });
          const name = printable(basename(file.rel));
          const said = [
            labels.title !== undefined ? `titled "${printable(labels.title)}"` : 'untitled',
            labels.date !== undefined ? `dated ${labels.date}` : 'dated from the file',
          ];
          output(g, `${name} is now ${said.join(' and ')}.`, {
            file: file.id,
            title: labels.title ?? null,
            date: labels.date ?? null,
          });
        });
      },
    );
}
