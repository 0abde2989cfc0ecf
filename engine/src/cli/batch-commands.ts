import { resolve } from 'node:path';
import type { Command } from 'commander';
import { batchEncrypt, type BatchEncryptReport, type BatchFailure } from '../batch/batch-encrypt';
import type { SkipKind } from '../batch/walk';
import { batchRestore } from '../batch/batch-restore';
import { fail, globals, openVault, output, parseJobs, progressFor } from './context';
import { openVaultForBatch } from './batch-vault';
import { formatBytes } from './progress';
import type { CleanedTemps } from '../fs/stale-temps';

/** The line that says an interrupted run's partial files were removed (empty if none). */
export function cleanedNote(cleaned: CleanedTemps, where: string): string {
  if (!cleaned.files) return '';
  return `Removed ${cleaned.files} partial file${cleaned.files === 1 ? '' : 's'} (${formatBytes(cleaned.bytes)}) left in ${where} by an interrupted run\n`;
}

const SKIP_WORDS: Record<SkipKind, [string, string, string]> = {
  link: ['link', 'links', 'not followed'],
  special: ['special file', 'special files', 'sockets, FIFOs or devices'],
  system: ['system folder', 'system folders', 'such as /proc'],
};

/** `Skipped 2 links (not followed), 1 special file (…)`, naming the first few; '' if none. */
function skippedLine(skipped: BatchEncryptReport['skipped']): string {
  if (!skipped.length) return '';
  const counts = (Object.keys(SKIP_WORDS) as SkipKind[])
    .map((kind) => [kind, skipped.filter((s) => s.kind === kind).length] as const)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => {
      const [one, many, why] = SKIP_WORDS[kind];
      return `${n} ${n === 1 ? one : many} (${why})`;
    });
  const shown = skipped.slice(0, 5).map((s) => `  ${s.file}: ${s.reason}`);
  const more =
    skipped.length > shown.length ? [`  … and ${skipped.length - shown.length} more`] : [];
  return `\nSkipped ${counts.join(', ')}:\n${[...shown, ...more].join('\n')}`;
}

const listFailures = (failures: BatchFailure[]) =>
  failures
    .map((f) => `  ${f.file}: ${f.message.replace(`${f.file}: `, '')} [${f.code}]`)
    .join('\n');

export function registerBatchCommands(program: Command): void {
  program
    .command('batch-encrypt <src> <dest>')
    .description('encrypt a folder tree; DEST reveals neither names nor structure')
    .option('--resume', 'continue an interrupted batch without redoing finished files')
    .option('--jobs <n>', 'files encrypted at once (default: 4 per core, at most 16)', parseJobs)
    .action(
      async (
        src: string,
        dest: string,
        opts: { resume?: boolean; jobs?: number },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        const vault = await openVault(g);
        const progress = progressFor(g).start();
        const report = await batchEncrypt(resolve(src), resolve(dest), vault, {
          resume: opts.resume,
          fsync: g.fsync,
          jobs: opts.jobs,
          onPlan: (t) => progress.setTotals(t),
          onBytes: (n) => progress.addBytes(n),
          onFileDone: () => progress.fileDone(),
        }).finally(() => progress.stop());
        const summary =
          `Encrypted ${report.encrypted} files (${formatBytes(report.bytes)})` +
          (report.alreadyDone ? `, ${report.alreadyDone} already done` : '') +
          ` into ${dest}` +
          skippedLine(report.skipped);
        if (report.failures.length) {
          fail(
            g,
            {
              code: 'BATCH_INCOMPLETE',
              message: `${report.failures.length} files failed; the rest are safe in ${dest}`,
            },
            `${summary}\n${report.failures.length} files failed:\n${listFailures(report.failures)}`,
            { ...report },
          );
          return;
        }
        output(g, summary, { ...report });
      },
    );

  program
    .command('batch-decrypt <dest> <restore>')
    .description(
      "restore a batch: the exact tree, names and modification times (the backup's own keyring opens it where the local vault is missing)",
    )
    .option('--jobs <n>', 'files decrypted at once (default: 4 per core, at most 16)', parseJobs)
    .option(
      '--resume',
      'continue an interrupted restore: keep the files it finished, restore the rest',
    )
    .action(
      async (
        dest: string,
        restore: string,
        opts: { jobs?: number; resume?: boolean },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        const vault = await openVaultForBatch(g, resolve(dest));
        const progress = progressFor(g).start();
        const report = await batchRestore(resolve(dest), resolve(restore), vault, {
          jobs: opts.jobs,
          resume: opts.resume,
          fsync: g.fsync,
          onPlan: (t) => progress.setTotals(t),
          onBytes: (n) => progress.addBytes(n),
          onFileDone: () => progress.fileDone(),
        }).finally(() => progress.stop());
        const summary =
          cleanedNote(report.cleaned, restore) +
          `Restored ${report.restored} files (${formatBytes(report.bytes)})` +
          (report.alreadyDone ? `, ${report.alreadyDone} already done` : '') +
          ` into ${restore}`;
        if (report.failures.length) {
          fail(
            g,
            {
              code: 'BATCH_INCOMPLETE',
              message: `${report.failures.length} files could not be restored`,
            },
            `${summary}\n${report.failures.length} files failed:\n${listFailures(report.failures)}`,
            { ...report },
          );
          return;
        }
        output(g, summary, { ...report });
      },
    );
}
