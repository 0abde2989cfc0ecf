// "Save a copy": a vault copy decrypted into a folder the user picked, under its original
// name and modification time. Nothing there is ever replaced: when the name is taken, the
// next free `name 2.ext`, `name 3.ext`… is used (as automated delivery does).

import { mkdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { KeepsakeError, isKeepsakeError } from '../core/errors';
import { isSafeName } from '../fs/paths';
import { decryptFile } from '../vault/file-ops';
import type { Vault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';

const MAX_SUFFIX = 100;

/** Decrypts `vaultPath` into `dir`; returns the file written. */
export async function saveCopy(
  vaultPath: string,
  vault: Vault,
  dir: string,
  options: { fallbackName: string; onBytes?: (n: number) => void },
): Promise<string> {
  const name = await originalName(vaultPath, vault, options.fallbackName);
  await mkdir(dir, { recursive: true }).catch((err: unknown) => {
    throw new KeepsakeError('OUTPUT_UNWRITABLE', `cannot make the folder: ${String(err)}`, {
      file: dir,
    });
  });
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length) || name;
  for (let n = 1; n <= MAX_SUFFIX; n++) {
    const dest = join(dir, n === 1 ? name : `${stem} ${n}${ext}`);
    try {
      await decryptFile(vaultPath, dest, { vault }, { overwrite: false, onBytes: options.onBytes });
      return dest;
    } catch (err) {
      if (!isKeepsakeError(err) || err.code !== 'OUTPUT_EXISTS') throw err;
    }
  }
  throw new KeepsakeError('OUTPUT_EXISTS', `${name} and ${MAX_SUFFIX - 1} numbered copies exist`, {
    file: dir,
  });
}

/** The name stored in the vault file, if it is a plain file name; else the fallback. */
async function originalName(path: string, vault: Vault, fallback: string): Promise<string> {
  const vf = await VaultFile.open(path, { vault });
  try {
    return isSafeName(vf.meta.name) ? vf.meta.name : fallback;
  } finally {
    await vf.close();
  }
}
