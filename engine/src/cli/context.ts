// What every command shares: global options, the data directory and vault, output in
// text or JSON, and progress reporting.

import type { Command } from 'commander';
import { defaultVaultDir, resolveDataDir } from '../core/data-dir';
import { KeepsakeError, isKeepsakeError } from '../core/errors';
import { unlockVault, type Vault } from '../vault/keyring';
import { vaultNotFound } from '../vault/vault-data';
import { Progress } from './progress';
import { unlockSecret } from './secrets';
import { resolve } from 'node:path';

export interface GlobalOptions {
  dataDir?: string;
  vault?: string;
  passwordFile?: string;
  recoveryKeyFile?: string;
  json?: boolean;
  quiet?: boolean;
  fsync?: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

export function vaultDir(g: GlobalOptions): string {
  return g.vault ? resolve(g.vault) : defaultVaultDir(resolveDataDir(g.dataDir));
}

export async function openVault(g: GlobalOptions): Promise<Vault> {
  const dir = vaultDir(g);
  try {
    return await unlockVault(dir, await unlockSecret(g));
  } catch (err) {
    // Say whether to create a vault or restore one (never `init` over existing data).
    if (isKeepsakeError(err, 'VAULT_NOT_FOUND'))
      throw await vaultNotFound(resolveDataDir(g.dataDir), dir);
    throw err;
  }
}

/** Prints a result: `text` for people, `data` as one JSON object with --json. */
export function output(g: GlobalOptions, text: string, data: Record<string, unknown>): void {
  if (g.json) process.stdout.write(JSON.stringify({ ok: true, ...data }) + '\n');
  else if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function progressFor(g: GlobalOptions): Progress {
  return new Progress({ files: 0, bytes: 0 }, { json: !!g.json, quiet: !!g.quiet });
}

export function parseJobs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new KeepsakeError('USAGE', `--jobs must be a whole number from 1 to 64, not "${value}"`);
  }
  return n;
}

/**
 * Reports a run that finished but failed in part (a batch with failed files): the
 * details, then the error, as one JSON object with --json. Sets the exit status.
 */
export function fail(
  g: GlobalOptions,
  error: { code: KeepsakeError['code']; message: string },
  text: string,
  data: Record<string, unknown>,
): void {
  const err = new KeepsakeError(error.code, error.message);
  if (g.json) process.stdout.write(JSON.stringify({ ok: false, ...err.toJSON(), ...data }) + '\n');
  else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  process.stderr.write(`keepsake: ${err.message} [${err.code}]\n`);
  process.exitCode = err.exitCode;
}
