// Where a password comes from: a prompt, KEEPSAKE_PASSWORD, or --password-file.
// Never from an argv value, which other users can read in the process list.

import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { KeepsakeError, fromFsError } from '../core/errors';
import type { Unlock } from '../vault/keyring';

export interface SecretOptions {
  passwordFile?: string;
  recoveryKeyFile?: string;
}

/** Reads a hidden line from the terminal. */
export async function promptHidden(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve, reject) => {
      // Ctrl-D (end of input) closes the prompt without an answer.
      const onClose = () =>
        reject(new KeepsakeError('PASSWORD_REQUIRED', 'no password was entered'));
      rl.once('close', onClose);
      rl.question(question, (answer) => {
        rl.off('close', onClose);
        resolve(answer);
      });
      muted = true;
    });
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

export async function readSecretFile(path: string): Promise<string> {
  try {
    // Only the first line counts, so an editor's trailing newline does not matter.
    return (await readFile(path, 'utf8')).split(/\r?\n/)[0] ?? '';
  } catch (err) {
    throw fromFsError(err, path, 'read');
  }
}

/** The password for a new vault (asked twice when prompting). */
export async function newPassword(options: SecretOptions): Promise<string> {
  const passwordEnv = takeEnv('KEEPSAKE_PASSWORD');
  if (options.passwordFile) return readSecretFile(options.passwordFile);
  if (passwordEnv) return passwordEnv;
  if (!process.stdin.isTTY) {
    throw new KeepsakeError(
      'PASSWORD_REQUIRED',
      'no password: set KEEPSAKE_PASSWORD or pass --password-file (no terminal to prompt on)',
    );
  }
  const first = await promptHidden('New vault password: ');
  const second = await promptHidden('Repeat the password: ');
  if (first !== second) throw new KeepsakeError('USAGE', 'the two passwords differ');
  return first;
}

/**
 * Reads a secret from the environment once and removes it, so that child processes
 * (FFmpeg, later) never inherit it.
 */
function takeEnv(name: string): string | undefined {
  const value = process.env[name];
  delete process.env[name];
  return value || undefined;
}

/** How to unlock an existing vault: explicit files first, then the environment, then a prompt. */
export async function unlockSecret(options: SecretOptions): Promise<Unlock> {
  const recoveryEnv = takeEnv('KEEPSAKE_RECOVERY_KEY');
  const passwordEnv = takeEnv('KEEPSAKE_PASSWORD');
  if (options.recoveryKeyFile)
    return { recoveryKey: await readSecretFile(options.recoveryKeyFile) };
  if (options.passwordFile) return { password: await readSecretFile(options.passwordFile) };
  if (recoveryEnv) return { recoveryKey: recoveryEnv };
  if (passwordEnv) return { password: passwordEnv };
  if (!process.stdin.isTTY) {
    throw new KeepsakeError(
      'PASSWORD_REQUIRED',
      'no password: set KEEPSAKE_PASSWORD or pass --password-file (no terminal to prompt on)',
    );
  }
  return { password: await promptHidden('Vault password: ') };
}
