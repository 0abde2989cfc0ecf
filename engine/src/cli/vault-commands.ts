import type { Command } from 'commander';
import { KeepsakeError } from '../errors';
import { DEFAULT_SCRYPT, changePassword, createVault } from '../vault/keyring';
import { globals, openVault, output, vaultDir } from './context';
import { newPassword, promptHidden, readSecretFile } from './secrets';

export function registerVaultCommands(program: Command): void {
  const vault = program.command('vault').description('create and manage the vault keyring');

  vault
    .command('init')
    .description('create a vault; prints its recovery key once')
    .option('--no-recovery', 'do not create a recovery key')
    .option(
      '--kdf-log-n <n>',
      `scrypt cost as log2(N), ${10}..${20} (default ${DEFAULT_SCRYPT.logN}; lower only for tests)`,
    )
    .action(async (opts: { recovery: boolean; kdfLogN?: string }, cmd: Command) => {
      const g = globals(cmd);
      const dir = vaultDir(g);
      const scrypt = { ...DEFAULT_SCRYPT };
      if (opts.kdfLogN !== undefined) {
        scrypt.logN = Number(opts.kdfLogN);
        if (!Number.isInteger(scrypt.logN))
          throw new KeepsakeError('USAGE', '--kdf-log-n must be a whole number');
        if (scrypt.logN < DEFAULT_SCRYPT.logN) scrypt.p = 1;
      }
      const password = await newPassword(g);
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
              'It opens the vault if the password is ever forgotten.',
            ]
          : []),
      ].join('\n');
      output(g, text, { vaultId: v.vaultId, dir, recoveryKey: recoveryKey ?? null });
    });

  vault
    .command('passwd')
    .description('set a new password (unlock with the old one or with --recovery-key-file)')
    .option('--new-password-file <file>', 'read the new password from this file')
    .action(async (opts: { newPasswordFile?: string }, cmd: Command) => {
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
      await changePassword(v, next);
      output(g, `Password changed for vault ${v.vaultId}`, { vaultId: v.vaultId });
    });
}
