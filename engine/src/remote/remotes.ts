// The servers this engine is paired with: `<data dir>/remotes.json`. Each entry pins the
// server's CA; its HMAC key is sealed under a key derived from the vault's master key, so
// the file alone (a backup, a stolen disk) lets nobody act as this engine.

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeepsakeError } from '../core/errors';
import { writeFileAtomic } from '../fs/atomic';
import type { Vault } from '../vault/keyring';
import type { Remote } from '../net/pair-client';

interface StoredRemote extends Omit<Remote, 'key'> {
  keySealed: string;
}

export function remotesPath(dataDir: string): string {
  return join(dataDir, 'remotes.json');
}

function sealingKey(vault: Vault): Buffer {
  return Buffer.from(
    hkdfSync(
      'sha256',
      vault.masterKey,
      Buffer.from(vault.vaultId),
      'keepsake remote credential v1',
      32,
    ),
  );
}

const aad = (r: Pick<Remote, 'name' | 'url' | 'clientId'>) =>
  Buffer.from(`keepsake remote|${r.name}|${r.url}|${r.clientId}`);

function seal(vault: Vault, remote: Remote): StoredRemote {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(vault), nonce);
  cipher.setAAD(aad(remote));
  const body = Buffer.concat([cipher.update(Buffer.from(remote.key, 'base64')), cipher.final()]);
  const { key: _key, ...rest } = remote;
  void _key;
  return {
    ...rest,
    keySealed: Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64'),
  };
}

function unseal(vault: Vault, stored: StoredRemote): Remote {
  const sealed = Buffer.from(stored.keySealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', sealingKey(vault), sealed.subarray(0, 12));
  decipher.setAAD(aad(stored));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  let key: Buffer;
  try {
    key = Buffer.concat([
      decipher.update(sealed.subarray(12, sealed.length - 16)),
      decipher.final(),
    ]);
  } catch {
    throw new KeepsakeError(
      'VAULT_CORRUPT',
      `the credential for remote "${stored.name}" does not open with this vault (edited, or paired from another vault)`,
    );
  }
  const { keySealed: _sealed, ...rest } = stored;
  void _sealed;
  return { ...rest, key: key.toString('base64') };
}

async function readStored(dataDir: string): Promise<StoredRemote[]> {
  let text: string;
  try {
    text = await readFile(remotesPath(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    return JSON.parse(text) as StoredRemote[];
  } catch {
    throw new KeepsakeError('VAULT_CORRUPT', 'the remotes file is not readable', {
      file: remotesPath(dataDir),
    });
  }
}

async function writeStored(dataDir: string, remotes: StoredRemote[]): Promise<void> {
  // Mode 0600 and flushed to disk before the rename (writeFileAtomic's defaults).
  await writeFileAtomic(remotesPath(dataDir), JSON.stringify(remotes, null, 2) + '\n');
}

/** Names and URLs, without unsealing anything. */
export async function listRemotes(dataDir: string): Promise<Omit<Remote, 'key'>[]> {
  return (await readStored(dataDir)).map(({ keySealed: _k, ...rest }) => {
    void _k;
    return rest;
  });
}

export async function getRemote(dataDir: string, vault: Vault, name: string): Promise<Remote> {
  const stored = (await readStored(dataDir)).find((r) => r.name === name);
  if (!stored) {
    throw new KeepsakeError(
      'NOT_FOUND',
      `no paired server named "${name}" (see \`keepsake remote list\`)`,
    );
  }
  return unseal(vault, stored);
}

export async function saveRemote(dataDir: string, vault: Vault, remote: Remote): Promise<void> {
  const others = (await readStored(dataDir)).filter((r) => r.name !== remote.name);
  await writeStored(dataDir, [...others, seal(vault, remote)]);
}

export async function removeRemote(dataDir: string, name: string): Promise<void> {
  const all = await readStored(dataDir);
  if (!all.some((r) => r.name === name)) {
    throw new KeepsakeError('NOT_FOUND', `no paired server named "${name}"`);
  }
  await writeStored(
    dataDir,
    all.filter((r) => r.name !== name),
  );
}
