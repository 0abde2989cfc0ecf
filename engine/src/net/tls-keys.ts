// The TLS private keys on disk: sealed (sealer.ts) under a key that only the KEK opens,
// bound to their role. Data folders from before sealing keep them as plain `ca.key` /
// `server.key`; server-ca.ts seals those once it has checked them, and the plaintext is
// scrubbed.

import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KeepsakeError, fromFsError } from '../core/errors';
import { writeFileAtomic } from '../fs/atomic';
import type { Sealer } from './sealer';

export const TLS_FILE_NAMES = {
  caCert: 'ca.crt',
  caKey: 'ca.key.sealed',
  cert: 'server.crt',
  key: 'server.key.sealed',
} as const;

/** Where the keys lay in plaintext before they were sealed; moved at the next start. */
export const LEGACY_KEY_NAMES = { caKey: 'ca.key', key: 'server.key' } as const;

export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromFsError(err, path, 'read');
  }
}

export type KeyRole = 'ca' | 'leaf';

const keyFiles = (role: KeyRole) =>
  role === 'ca'
    ? { sealed: TLS_FILE_NAMES.caKey, legacy: LEGACY_KEY_NAMES.caKey }
    : { sealed: TLS_FILE_NAMES.key, legacy: LEGACY_KEY_NAMES.key };
// The role is bound: the leaf's sealed key cannot be passed off as the CA's, or back.
const keyAad = (role: KeyRole) => `keepsake tls private key v1|${role}`;

interface SealedKeyFile {
  format: 'keepsake sealed key';
  v: 1;
  /** Which sealing key (sealer.id): names a mismatch instead of calling it damage. */
  sealedBy: string;
  data: string;
}

export function sealKey(sealer: Sealer, role: KeyRole, pem: string): string {
  const file: SealedKeyFile = {
    format: 'keepsake sealed key',
    v: 1,
    sealedBy: sealer.id,
    data: sealer.seal(Buffer.from(pem), keyAad(role)).toString('base64'),
  };
  return JSON.stringify(file) + '\n';
}

function openKey(sealer: Sealer, role: KeyRole, text: string, path: string, dir: string): string {
  let file: Partial<SealedKeyFile>;
  try {
    file = JSON.parse(text) as Partial<SealedKeyFile>;
  } catch {
    file = {};
  }
  if (file.format !== 'keepsake sealed key' || file.v !== 1 || typeof file.data !== 'string') {
    throw new KeepsakeError('SOURCE_UNREADABLE', 'is not a sealed key file', { file: path });
  }
  if (file.sealedBy !== sealer.id) {
    throw new KeepsakeError(
      'KEK_MISMATCH',
      `was sealed under another key (id ${String(file.sealedBy)}; this server's is ` +
        `${sealer.id}). engine.db and the folder ${dir} must come from the same backup, ` +
        'and the server must start with the KEK they were sealed under',
      { file: path },
    );
  }
  const pem = sealer.open(Buffer.from(file.data, 'base64'), keyAad(role));
  if (!pem) {
    throw new KeepsakeError('SOURCE_UNREADABLE', 'is damaged or was altered', { file: path });
  }
  return pem.toString('utf8');
}

/**
 * The private key for `role`: sealed, or (a data folder from before sealing) the plain
 * PEM, marked `legacy` for the caller to seal once it has checked it. A plain key left
 * beside a sealed one (a crash between sealing and removing) is removed here.
 */
export async function readKey(
  dir: string,
  role: KeyRole,
  sealer: Sealer,
): Promise<{ pem: string; path: string; legacy: boolean } | undefined> {
  const names = keyFiles(role);
  const sealedPath = join(dir, names.sealed);
  const legacyPath = join(dir, names.legacy);
  const [sealed, legacy] = await Promise.all([readOptional(sealedPath), readOptional(legacyPath)]);
  if (sealed !== undefined) {
    try {
      const pem = openKey(sealer, role, sealed, sealedPath, dir);
      if (legacy !== undefined) await scrub(legacyPath);
      return { pem, path: sealedPath, legacy: false };
    } catch (err) {
      // The plain key is still there (the seal did not complete): it decides.
      if (legacy === undefined) throw err;
    }
  }
  if (legacy === undefined) return undefined;
  return { pem: legacy, path: legacyPath, legacy: true };
}

/** Seals a plain key (atomically, durably), then removes the plaintext. */
export async function sealLegacyKey(dir: string, role: KeyRole, pem: string, sealer: Sealer) {
  const names = keyFiles(role);
  await writeFileAtomic(join(dir, names.sealed), sealKey(sealer, role, pem));
  await scrub(join(dir, names.legacy));
}

/**
 * Overwrites a plain key file with zeros before removing it. Best effort: a journal, a
 * copy-on-write file system or an SSD may keep the old blocks, so backups made before the
 * upgrade still hold the key (see security/README.md).
 */
export async function scrub(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fromFsError(err, path, 'write');
  }
  try {
    const { size } = await handle.stat();
    await handle.write(Buffer.alloc(size), 0, size, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rm(path, { force: true });
}
