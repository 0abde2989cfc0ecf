import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveDataDir } from '../core/data-dir';
import { KeepsakeError } from '../core/errors';
import {
  DEFAULT_SCRYPT,
  KEYRING_FILE,
  changePassword,
  createVault,
  exportKeyring,
  restoreKeyring,
  type ScryptParams,
} from '../vault/keyring';
import { requireStrongPassword } from '../vault/password-policy';
import { refuseOverVaultData } from '../vault/vault-data';
import { globals, openVault, output, vaultDir, type GlobalOptions } from './context';
import { newPassword, promptHidden, readSecretFile } from './secrets';

const ALLOW_WEAK = [
  '--allow-weak-password',
  'accept a password the strength check refuses (not recommended)',
] as const;

const KDF_LOG_N = [
  '--kdf-log-n <n>',
  `scrypt cost as log2(N), ${10}..${20} (default ${DEFAULT_SCRYPT.logN}; lower only for tests)`,
] as const;

function scryptFrom(kdfLogN: string | undefined): ScryptParams {
  const scrypt = { ...DEFAULT_SCRYPT };
  if (kdfLogN !== undefined) {
    scrypt.logN = Number(kdfLogN);
    if (!Number.isInteger(scrypt.logN))
      throw new KeepsakeError('USAGE', '--kdf-log-n must be a whole number');
    if (scrypt.logN < DEFAULT_SCRYPT.logN) scrypt.p = 1;
  }
  return scrypt;
}

/** The recovery key for a restore: the file, else KEEPSAKE_RECOVERY_KEY, else a prompt. */
async function recoveryKeyFor(g: GlobalOptions): Promise<string> {
  const env = process.env.KEEPSAKE_RECOVERY_KEY;
  // Never handed on to a child process.
  delete process.env.KEEPSAKE_RECOVERY_KEY;
  if (g.recoveryKeyFile) return readSecretFile(g.recoveryKeyFile);
  if (env) return env;
  if (process.stdin.isTTY) return promptHidden('Recovery key: ');
  throw new KeepsakeError(
    'PASSWORD_REQUIRED',
    'a restore needs the recovery key: pass --recovery-key-file or set KEEPSAKE_RECOVERY_KEY',
  );
}

/** A backup folder holds its keyring as `keyring.json`; a file is taken as the keyring. */
async function keyringSource(path: string): Promise<string> {
  const full = resolve(path);
  const info = await stat(full).catch(() => undefined);
  if (!info) throw new KeepsakeError('NOT_FOUND', 'no such file or folder', { file: full });
  return info.isDirectory() ? join(full, KEYRING_FILE) : full;
}

export function registerVaultCommands(program: Command): void {
  const vault = program.command('vault').description('create and manage the vault keyring');

  vault
    .command('init')
    .description('create a vault; prints its recovery key once')
    .option('--no-recovery', 'do not create a recovery key')
    .option(...ALLOW_WEAK)
    .option(...KDF_LOG_N)
    .action(
      async (
        opts: { recovery: boolean; kdfLogN?: string; allowWeakPassword?: boolean },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        const dir = vaultDir(g);
        const scrypt = scryptFrom(opts.kdfLogN);
        // Before asking for a password: nothing to type if it cannot go ahead.
        await refuseOverVaultData(resolveDataDir(g.dataDir), dir);
        const password = await newPassword(g);
        await requireStrongPassword(password, { allowWeak: opts.allowWeakPassword });
        const { vault: v, recoveryKey } = await createVault(dir, password, {
          recovery: opts.recovery,
          scrypt,
        });
        const text = [
          `Created vault ${v.vaultId} in ${dir}`,
          ...(recoveryKey
            ? [
                '',
                'Recovery key (shown only now; write it down and keep it somewhere safe):',
                '',
                `    ${recoveryKey}`,
                '',
                'It opens the vault if the password is ever forgotten, and with any backup',
                'made by batch-encrypt (or `keepsake vault export-keyring`) on a new computer.',
              ]
            : []),
        ].join('\n');
        output(g, text, { vaultId: v.vaultId, dir, recoveryKey: recoveryKey ?? null });
      },
    );

  vault
    .command('passwd')
    .description('set a new password (unlock with the old one or with --recovery-key-file)')
    .option('--new-password-file <file>', 'read the new password from this file')
    .option(...ALLOW_WEAK)
    .action(
      async (opts: { newPasswordFile?: string; allowWeakPassword?: boolean }, cmd: Command) => {
        const g = globals(cmd);
        const v = await openVault(g);
        let next: string;
        if (opts.newPasswordFile) next = await readSecretFile(opts.newPasswordFile);
        else if (process.env.KEEPSAKE_NEW_PASSWORD) next = process.env.KEEPSAKE_NEW_PASSWORD;
        else if (process.stdin.isTTY) {
          next = await promptHidden('New password: ');
          if ((await promptHidden('Repeat the new password: ')) !== next) {
            throw new KeepsakeError('USAGE', 'the two passwords differ');
          }
        } else {
          throw new KeepsakeError(
            'PASSWORD_REQUIRED',
            'no new password: set KEEPSAKE_NEW_PASSWORD or pass --new-password-file',
          );
        }
        await requireStrongPassword(next, { allowWeak: opts.allowWeakPassword });
        await changePassword(v, next);
        output(g, `Password changed for vault ${v.vaultId}`, { vaultId: v.vaultId });
      },
    );

  vault
    .command('export-keyring <out>')
    .description(
      'write a copy of the keyring (wrapped keys only) to OUT, a file or a folder; with the recovery key it restores the vault anywhere',
    )
    .option('--force', 'replace an existing file at OUT')
    .action(async (out: string, opts: { force?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const target = resolve(out);
      const info = await stat(target).catch(() => undefined);
      const file = info?.isDirectory() ? join(target, KEYRING_FILE) : target;
      const { vaultId } = await exportKeyring(vaultDir(g), file, { overwrite: opts.force });
      output(
        g,
        `Wrote the keyring of vault ${vaultId} to ${file}\n` +
          'Keep it with your backups; the recovery key (or the password) opens it.',
        { vaultId, file },
      );
    });

  vault
    .command('restore <backup>')
    .description(
      'bring a vault back from a batch backup folder or an exported keyring, with the recovery key; sets a new password',
    )
    .option(...ALLOW_WEAK)
    .option(...KDF_LOG_N)
    .action(
      async (
        backup: string,
        opts: { kdfLogN?: string; allowWeakPassword?: boolean },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        const dir = vaultDir(g);
        const scrypt = scryptFrom(opts.kdfLogN);
        const source = await keyringSource(backup);
        const recoveryKey = await recoveryKeyFor(g);
        const password = await newPassword(g);
        await requireStrongPassword(password, { allowWeak: opts.allowWeakPassword });
        const v = await restoreKeyring(source, dir, recoveryKey, password, scrypt);
        output(
          g,
          `Restored vault ${v.vaultId} into ${dir} with a new password.\n` +
            'The recovery key still works. `keepsake batch-decrypt BACKUP OUT` brings the files back.',
          { vaultId: v.vaultId, dir },
        );
      },
    );
}
