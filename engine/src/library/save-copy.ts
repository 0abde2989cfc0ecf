// "Save a copy": a vault copy decrypted into a folder the user picked, under its original
// name and modification time. Nothing there is ever replaced: when the name is taken, the
// next free `name 2.ext`, `name 3.ext`… is used (as automated delivery does).

import { mkdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { KeepsakeError, isKeepsakeError } from '../core/errors';
import { isSafeName } from '../fs/paths';
import { removeStaleTemps } from '../fs/stale-temps';
import { decryptFile } from '../vault/file-ops';
import type { Vault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import type { LibraryFile } from './library-types';

const MAX_SUFFIX = 100;

/**
 * The vault copy "Save a copy" saves for a library file: the current one, else the copy
 * held from before its source changed (`earlier`). NOT_ENCRYPTED, in words, when the
 * vault holds none.
 */
export function copyToSave(file: LibraryFile): { path: string; earlier: boolean } {
  if (file.encryptedPath) return { path: file.encryptedPath, earlier: false };
  if (file.heldCopyPath) return { path: file.heldCopyPath, earlier: true };
  throw new KeepsakeError(
    'NOT_ENCRYPTED',
    file.kind === 'other'
      ? `${file.rel} is not a photo, video or sound recording, so Keepsake does not protect it and the vault has no copy of it`
      : `${file.rel} is not protected yet, so the vault has no copy of it`,
  );
}

/**
 * Decrypts `vaultPath` into `dir`; returns the file written. Partial files that an
 * interrupted save left in `dir` (its process gone) are removed first.
 */
export async function saveCopy(
  vaultPath: string,
  vault: Vault,
  dir: string,
  options: { fallbackName: string; onBytes?: (n: number) => void },
): Promise<string> {
  try {
    return await saveInto(vaultPath, vault, dir, options);
  } catch (err) {
    throw copyProblem(err, vaultPath, options.fallbackName) ?? err;
  }
}

/** The vault file's own problems, told of the family's file rather than its copy's path. */
const DAMAGED: ReadonlySet<string> = new Set([
  'HEADER_CORRUPT',
  'PAYLOAD_CORRUPT',
  'TRUNCATED',
  'NOT_A_VAULT_FILE',
  'UNSUPPORTED_VERSION',
]);

function copyProblem(err: unknown, vaultPath: string, name: string): KeepsakeError | undefined {
  if (!isKeepsakeError(err) || err.file !== vaultPath) return undefined;
  const detail = err.message.slice(`${vaultPath}: `.length);
  if (err.code === 'NOT_FOUND') {
    return new KeepsakeError(
      'NOT_FOUND',
      `its protected copy is missing from Keepsake's data folder (${vaultPath}); nothing was saved. A backup made with batch-encrypt can bring it back.`,
      { file: name, cause: err },
    );
  }
  if (!DAMAGED.has(err.code)) return undefined;
  return new KeepsakeError(
    err.code,
    `its protected copy is damaged (${detail}); nothing was saved. A backup made with batch-encrypt can bring it back.`,
    { file: name, cause: err },
  );
}

async function saveInto(
  vaultPath: string,
  vault: Vault,
  dir: string,
  options: { fallbackName: string; onBytes?: (n: number) => void },
): Promise<string> {
  const name = await originalName(vaultPath, vault, options.fallbackName);
  await mkdir(dir, { recursive: true }).catch((err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    throw new KeepsakeError(
      'OUTPUT_UNWRITABLE',
      code === 'EEXIST' || code === 'ENOTDIR'
        ? 'that is a file, not a folder: choose a folder to save into'
        : `cannot make the folder (${code ?? String(err)})`,
      { file: dir },
    );
  });
  await removeStaleTemps(dir);
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
