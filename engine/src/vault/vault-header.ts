// The header of a vault file (`.ksv`, see vault-file.ts): its fixed part, the file key
// wrapped by the vault's master key (or a job key derived from it), and the metadata sealed
// under a key derived from the file key. Built for a new file, read and authenticated
// before the payload is touched.

import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { KeepsakeError } from '../core/errors';
import { newHexId128 } from '../core/ids';
import { wrappingKey, type Vault } from './keyring';

export const MAGIC = Buffer.from('KSVF', 'latin1');
export const FORMAT_VERSION = 1;
export const FIXED_SIZE = MAGIC.length + 1 + 4;
/** Headers are a few hundred bytes; anything past this is not ours. */
export const MAX_HEADER_SIZE = 64 * 1024;
const CONTEXT_LABEL = Buffer.from('keepsake vault file v1\0');

export interface FileMeta {
  /** Original file name (display form; invalid UTF-8 shows as U+FFFD). */
  name: string;
  /** The exact name bytes, base64, when the name is not valid UTF-8. */
  nameBytes?: string;
  size: number;
  mtimeMs: number;
  mediaType: string;
}

export interface HeaderJson {
  vault: string;
  kid: string;
  fid: string;
  wk: string;
  meta: string;
}

/** What is needed to open a file: the unlocked vault, or just this file's key. */
export type FileKeySource = { vault: Vault } | { fileKey: Buffer };

function sealGcm(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  cipher.setAAD(aad);
  return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function openGcm(key: Buffer, sealed: Buffer, aad: Buffer): Buffer | undefined {
  if (sealed.length < 28) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12), {
    authTagLength: 16,
  });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([
      decipher.update(sealed.subarray(12, sealed.length - 16)),
      decipher.final(),
    ]);
  } catch {
    return undefined;
  }
}

const fileKeyAad = (vaultId: string, fileId: string) =>
  Buffer.from(`keepsake file key v1|${vaultId}|${fileId}`);

function metaKey(fileKey: Buffer, fileId: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', fileKey, Buffer.from(fileId), 'keepsake file metadata v1', 32),
  );
}

export function payloadContext(preamble: Buffer): Buffer {
  return createHash('sha256').update(CONTEXT_LABEL).update(preamble).digest();
}

/** Builds the header bytes for a new file under `vault`, with a fresh random file key. */
export function buildHeader(
  vault: Vault,
  meta: FileMeta,
  fileKey: Buffer = randomBytes(32),
): { preamble: Buffer; fileKey: Buffer; fileId: string } {
  const fileId = newHexId128();
  const header: HeaderJson = {
    vault: vault.vaultId,
    kid: vault.masterKeyId,
    fid: fileId,
    wk: sealGcm(vault.masterKey, fileKey, fileKeyAad(vault.vaultId, fileId)).toString('base64'),
    meta: sealGcm(
      metaKey(fileKey, fileId),
      Buffer.from(JSON.stringify(meta)),
      Buffer.from(fileId),
    ).toString('base64'),
  };
  const json = Buffer.from(JSON.stringify(header));
  const fixed = Buffer.alloc(FIXED_SIZE);
  MAGIC.copy(fixed);
  fixed.writeUInt8(FORMAT_VERSION, MAGIC.length);
  fixed.writeUInt32BE(json.length, MAGIC.length + 1);
  return { preamble: Buffer.concat([fixed, json]), fileKey, fileId };
}

export interface ParsedHeader {
  preamble: Buffer;
  header: HeaderJson;
  fileKey: Buffer;
  meta: FileMeta;
}

export async function readExactly(
  handle: FileHandle,
  length: number,
  position: number,
): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** Reads and authenticates what can be authenticated of a header without the payload. */
export async function readHeader(
  handle: FileHandle,
  source: FileKeySource,
  file: string,
): Promise<ParsedHeader> {
  const fixed = await readExactly(handle, FIXED_SIZE, 0);
  if (fixed.length < FIXED_SIZE || !fixed.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new KeepsakeError('NOT_A_VAULT_FILE', 'not a Keepsake vault file (bad magic)', { file });
  }
  const version = fixed.readUInt8(MAGIC.length);
  if (version !== FORMAT_VERSION) {
    throw new KeepsakeError(
      'UNSUPPORTED_VERSION',
      `vault file version ${version} is not supported`,
      { file },
    );
  }
  const length = fixed.readUInt32BE(MAGIC.length + 1);
  if (length > MAX_HEADER_SIZE) {
    throw new KeepsakeError('HEADER_CORRUPT', `header length ${length} is implausible`, { file });
  }
  const json = await readExactly(handle, length, FIXED_SIZE);
  if (json.length < length)
    throw new KeepsakeError('TRUNCATED', 'the file ends inside its header', { file });
  let header: HeaderJson;
  try {
    header = JSON.parse(json.toString('utf8')) as HeaderJson;
  } catch {
    throw new KeepsakeError('HEADER_CORRUPT', 'the header is not readable', { file });
  }
  if (
    !header ||
    typeof header.fid !== 'string' ||
    typeof header.wk !== 'string' ||
    typeof header.meta !== 'string'
  ) {
    throw new KeepsakeError('HEADER_CORRUPT', 'the header is missing fields', { file });
  }
  let fileKey: Buffer;
  if ('vault' in source) {
    const { vault } = source;
    if (header.vault !== vault.vaultId) {
      throw new KeepsakeError('WRONG_VAULT', 'this file belongs to a different vault', { file });
    }
    const wrapKey = wrappingKey(vault, header.kid);
    if (!wrapKey) {
      throw new KeepsakeError(
        'WRONG_VAULT',
        `this file is wrapped under key ${header.kid}, unknown to this vault`,
        { file },
      );
    }
    const unwrapped = openGcm(
      wrapKey,
      Buffer.from(header.wk, 'base64'),
      fileKeyAad(vault.vaultId, header.fid),
    );
    if (!unwrapped)
      throw new KeepsakeError('HEADER_CORRUPT', 'the wrapped file key does not authenticate', {
        file,
      });
    fileKey = unwrapped;
  } else {
    fileKey = source.fileKey;
  }
  const metaJson = openGcm(
    metaKey(fileKey, header.fid),
    Buffer.from(header.meta, 'base64'),
    Buffer.from(header.fid),
  );
  if (!metaJson) {
    throw new KeepsakeError(
      'HEADER_CORRUPT',
      'the metadata does not authenticate (wrong key or edited header)',
      {
        file,
      },
    );
  }
  return {
    preamble: Buffer.concat([fixed, json]),
    header,
    fileKey,
    meta: JSON.parse(metaJson.toString()) as FileMeta,
  };
}
