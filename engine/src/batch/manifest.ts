// The batch manifest: the only map from original names and folders to the opaque object
// files. It is itself a vault file, so the ciphertext tree reveals neither names nor
// structure. Object ids are an HMAC of the relative path under a per-batch key, so a
// resumed batch finds the object of a path it already wrote.

import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { KeepsakeError, isKeepsakeError } from '../core/errors';
import { newHexId128 } from '../core/ids';
import type { Vault } from '../vault/keyring';
import { VaultFile, writeVaultFile } from '../vault/vault-file';

export const MANIFEST_FILE = 'manifest.ksv';
export const OBJECTS_DIR = 'objects';

export interface ManifestEntry {
  /** Relative path bytes, base64. */
  path: string;
  object: string;
  fileId: string;
  size: number;
  mtimeMs: number;
  mode: number;
  /** Size of the object file, checked on resume. */
  stored: number;
}

export interface ManifestDir {
  path: string;
  mtimeMs: number;
  mode: number;
}

export interface Manifest {
  format: 'keepsake-batch';
  version: 1;
  batchId: string;
  batchKey: string;
  createdAt: string;
  updatedAt: string;
  /** True once every source file of the last run was encrypted. */
  complete: boolean;
  entries: ManifestEntry[];
  dirs: ManifestDir[];
}

export function newManifest(): Manifest {
  const now = new Date().toISOString();
  return {
    format: 'keepsake-batch',
    version: 1,
    batchId: newHexId128(),
    batchKey: randomBytes(32).toString('base64'),
    createdAt: now,
    updatedAt: now,
    complete: false,
    entries: [],
    dirs: [],
  };
}

export function objectId(manifest: Manifest, rel: Buffer): string {
  return createHmac('sha256', Buffer.from(manifest.batchKey, 'base64'))
    .update(rel)
    .digest('hex')
    .slice(0, 32);
}

export function objectPath(dest: string, id: string): string {
  return join(dest, OBJECTS_DIR, id.slice(0, 2), `${id}.ksv`);
}

export async function ensureObjectDirs(dest: string): Promise<void> {
  // 256 fan-out folders, made up front so that workers never race to create them.
  await mkdir(join(dest, OBJECTS_DIR), { recursive: true });
  await Promise.all(
    Array.from({ length: 256 }, (_, i) =>
      mkdir(join(dest, OBJECTS_DIR, i.toString(16).padStart(2, '0')), { recursive: true }),
    ),
  );
}

export async function saveManifest(dest: string, vault: Vault, manifest: Manifest): Promise<void> {
  manifest.updatedAt = new Date().toISOString();
  const json = Buffer.from(JSON.stringify(manifest));
  await writeVaultFile(
    Readable.from([json]),
    join(dest, MANIFEST_FILE),
    vault,
    {
      name: 'manifest.json',
      size: json.length,
      mtimeMs: Date.now(),
      mediaType: 'application/x-keepsake-manifest',
    },
    // The manifest is small and is the map to everything: always flushed to disk.
    { overwrite: true, durable: true },
  );
}

export async function loadManifest(dest: string, vault: Vault): Promise<Manifest> {
  const path = join(dest, MANIFEST_FILE);
  let file: VaultFile;
  try {
    file = await VaultFile.open(path, { vault });
  } catch (err) {
    if (isKeepsakeError(err, 'NOT_FOUND')) {
      throw new KeepsakeError(
        'MANIFEST_MISSING',
        'no batch manifest here (is this a batch folder?)',
        { file: dest },
      );
    }
    throw err;
  }
  try {
    const manifest = JSON.parse((await file.read(0, file.size)).toString('utf8')) as Manifest;
    if (manifest.format !== 'keepsake-batch' || !Array.isArray(manifest.entries)) {
      throw new KeepsakeError('MANIFEST_MISSING', 'the manifest is not a Keepsake batch manifest', {
        file: path,
      });
    }
    return manifest;
  } finally {
    await file.close();
  }
}

/** Every object file (and leftover temp file) present under `objects/`. */
export async function listObjectFiles(dest: string): Promise<string[]> {
  const root = join(dest, OBJECTS_DIR);
  const found: string[] = [];
  let fans: string[];
  try {
    fans = await readdir(root);
  } catch {
    return found;
  }
  for (const fan of fans) {
    const names = await readdir(join(root, fan)).catch(() => [] as string[]);
    for (const name of names) found.push(join(root, fan, name));
  }
  return found;
}
