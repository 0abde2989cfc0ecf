import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { batchVerify } from '../batch/batch-verify';
import { MANIFEST_FILE } from '../batch/manifest';
import { KeepsakeError } from '../core/errors';
import { isSafeName } from '../fs/paths';
import { decryptFile, encryptFile, verifyFile } from '../vault/file-ops';
import { VaultFile } from '../vault/vault-file';
import { openVaultForBatch } from './batch-vault';
import { fail, globals, openVault, output, progressFor } from './context';
import { formatBytes } from './progress';
import { cleanedNote } from './batch-commands';
import { removeStaleTemps } from '../fs/stale-temps';

const isDir = (p: string) =>
  stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );

/** A vault file's original name, safe to use as a file name in the output folder. */
function restoredName(meta: VaultFile['meta']): string | Buffer {
  const name = meta.nameBytes ? Buffer.from(meta.nameBytes, 'base64') : meta.name;
  if (!isSafeName(Buffer.from(name).toString('latin1'))) {
    throw new KeepsakeError(
      'HEADER_CORRUPT',
      `the stored name "${meta.name}" is not a safe file name`,
    );
  }
  return name;
}

export function registerFileCommands(program: Command): void {
  program
    .command('encrypt <in> <out>')
    .description('encrypt one file into a vault file (OUT may be a folder)')
    .option('--force', 'replace OUT if it exists')
    .action(async (input: string, out: string, opts: { force?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const vault = await openVault(g);
      const dest = (await isDir(out)) ? join(out, `${basename(resolve(input))}.ksv`) : out;
      const cleaned = await removeStaleTemps(dirname(resolve(dest)));
      const size = (await stat(input).catch(() => ({ size: 0 }))).size;
      const progress = progressFor(g);
      progress.setTotals({ files: 1, bytes: size });
      progress.start();
      try {
        const { fileId, meta } = await encryptFile(resolve(input), dest, vault, {
          overwrite: !!opts.force,
          durable: g.fsync,
          onBytes: (n) => progress.addBytes(n),
        });
        progress.fileDone();
        progress.stop();
        output(
          g,
          cleanedNote(cleaned, dirname(resolve(dest))) +
            `Encrypted ${input} (${formatBytes(meta.size)}) -> ${dest}`,
          { output: dest, fileId, size: meta.size, cleaned },
        );
      } finally {
        progress.stop();
      }
    });

  program
    .command('decrypt <in> <out>')
    .description('decrypt one vault file (OUT may be a folder: the original name is used)')
    .option('--force', 'replace OUT if it exists')
    .action(async (input: string, out: string, opts: { force?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const vault = await openVault(g);
      let dest: string | Buffer = out;
      // Opened first for the size (progress) and the original name; refused early if bad.
      const vf = await VaultFile.open(input, { vault });
      await vf.close();
      if (await isDir(out)) {
        const name = restoredName(vf.meta);
        dest =
          typeof name === 'string'
            ? join(out, name)
            : Buffer.concat([Buffer.from(`${out}/`), name]);
      }
      // Partial plaintext that a killed decrypt left in this folder goes first.
      const folder = dirname(resolve(Buffer.from(dest).toString('utf8')));
      const cleaned = await removeStaleTemps(folder);
      const progress = progressFor(g);
      progress.setTotals({ files: 1, bytes: vf.size });
      progress.start();
      try {
        const meta = await decryptFile(
          input,
          dest,
          { vault },
          { overwrite: !!opts.force, durable: g.fsync, onBytes: (n) => progress.addBytes(n) },
        );
        progress.fileDone();
        const shown = Buffer.from(dest).toString('utf8');
        output(
          g,
          cleanedNote(cleaned, folder) +
            `Decrypted ${input} -> ${shown} (${formatBytes(meta.size)})`,
          { output: shown, name: meta.name, size: meta.size, cleaned },
        );
      } finally {
        progress.stop();
      }
    });

  program
    .command('verify <path>')
    .description('check every chunk of a vault file, or of a whole batch against its manifest')
    .action(async (path: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const folder = await isDir(path);
      // A batch backup carries its own keyring: it verifies without the local vault.
      const vault = folder ? await openVaultForBatch(g, path) : await openVault(g);
      if (folder) {
        if (!(await stat(join(path, MANIFEST_FILE)).catch(() => undefined))) {
          throw new KeepsakeError(
            'MANIFEST_MISSING',
            'no batch manifest here (is this a batch folder?)',
            { file: path },
          );
        }
        const progress = progressFor(g);
        const report = await batchVerify(path, vault, {
          onPlan: (t) => progress.setTotals(t),
          onBytes: (n) => progress.addBytes(n),
          onFileDone: () => progress.fileDone(),
        }).finally(() => progress.stop());
        const lines = report.problems.map((p) => `  ${p.kind.padEnd(8)} ${p.file}: ${p.detail}`);
        if (report.problems.length > 0) {
          fail(
            g,
            { code: 'VERIFY_FAILED', message: `${report.problems.length} problems in ${path}` },
            `Checked ${report.checked} files; ${report.problems.length} problems:\n${lines.join('\n')}`,
            { ...report },
          );
          return;
        }
        const note = report.complete
          ? ''
          : ' (the batch was not finished: run batch-encrypt --resume)';
        output(
          g,
          `OK: ${report.checked} files, ${formatBytes(report.bytes)}, every chunk intact${note}`,
          { ...report },
        );
        return;
      }
      const meta = await verifyFile(path, { vault });
      output(g, `OK: ${path} (${meta.name}, ${formatBytes(meta.size)}), every chunk intact`, {
        file: path,
        meta,
      });
    });
}
