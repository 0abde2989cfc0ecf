// The key-encryption key (KEK) that seals the server's credential store. It lives outside
// the database on purpose: a copied engine.db alone reveals no client key. It comes from
// the first of these that is set: an explicit file (config or flag), KEEPSAKE_KEK_FILE,
// KEEPSAKE_KEK (base64), systemd's $CREDENTIALS_DIRECTORY/keepsake-kek, Docker's
// /run/secrets/keepsake-kek.

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KeepsakeError, fromFsError } from '../core/errors';
import { writeFileAtomic } from '../fs/atomic';

export const KEK_BYTES = 32;
/** The credential name under systemd's LoadCredential= and Docker secrets. */
export const KEK_CREDENTIAL_NAME = 'keepsake-kek';
export const DOCKER_SECRET_PATH = join('/run/secrets', KEK_CREDENTIAL_NAME);

// A key file is a line of base64; anything much larger is the wrong file (or /dev/zero).
const MAX_FILE_BYTES = 4096;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

export interface LoadKekOptions {
  /** An explicit key file (config or flag): when given, it is the only source tried. */
  file?: string;
  /** The environment to read; KEEPSAKE_KEK is deleted from it. Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where Docker mounts secrets; replaceable for tests. */
  dockerSecret?: string;
}

export interface LoadedKek {
  kek: Buffer;
  /** Where it came from, for logs and error messages (never the key itself). */
  source: string;
}

export async function loadKek(options: LoadKekOptions = {}): Promise<LoadedKek> {
  const env = options.env ?? process.env;
  // Scrub the inline key whatever source wins: FFmpeg and every other child process
  // inherits the environment.
  const inline = env.KEEPSAKE_KEK;
  delete env.KEEPSAKE_KEK;

  if (options.file) return fromFile(options.file, options.file);
  if (env.KEEPSAKE_KEK_FILE) {
    return fromFile(env.KEEPSAKE_KEK_FILE, `KEEPSAKE_KEK_FILE (${env.KEEPSAKE_KEK_FILE})`);
  }
  if (inline) return { kek: parseKek(Buffer.from(inline), 'KEEPSAKE_KEK'), source: 'KEEPSAKE_KEK' };
  const optional = [
    env.CREDENTIALS_DIRECTORY && join(env.CREDENTIALS_DIRECTORY, KEK_CREDENTIAL_NAME),
    options.dockerSecret ?? DOCKER_SECRET_PATH,
  ];
  for (const path of optional) {
    if (!path) continue;
    const data = await readSmall(path, true);
    if (data) return { kek: parseKek(data, path), source: path };
  }
  throw new KeepsakeError(
    'KEK_NOT_FOUND',
    'no key-encryption key found for the credential store. Create one with ' +
      '`umask 077; head -c 32 /dev/urandom | base64 > /etc/keepsake/kek` and pass it as ' +
      'the KEK file (config or flag) or KEEPSAKE_KEK_FILE, or provide it as the ' +
      `"${KEK_CREDENTIAL_NAME}" credential (systemd LoadCredential=) or Docker secret`,
  );
}

async function fromFile(path: string, source: string): Promise<LoadedKek> {
  const data = (await readSmall(path, false)) ?? Buffer.alloc(0);
  return { kek: parseKek(data, source), source: path };
}

/** Reads at most MAX_FILE_BYTES + 1; a missing optional file yields undefined. */
async function readSmall(path: string, optional: boolean): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromFsError(err, path, 'read');
  }
  try {
    const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } catch (err) {
    throw fromFsError(err, path, 'read');
  } finally {
    await handle.close();
  }
}

/**
 * A key is the base64 of 32 bytes (whitespace around it ignored) or 32 raw bytes. Text
 * that looks like base64 is always read as base64, so a 32-character typed "key" is
 * refused (it decodes to 24 bytes) instead of being taken as 32 raw bytes.
 */
export function parseKek(data: Buffer, source: string): Buffer {
  if (data.length > MAX_FILE_BYTES) {
    throw new KeepsakeError(
      'INVALID_KEY',
      `the key-encryption key from ${source} is over ${MAX_FILE_BYTES} bytes: not a key file`,
    );
  }
  const text = data.toString('latin1').trim();
  let kek: Buffer;
  if (BASE64.test(text)) {
    kek = Buffer.from(text, 'base64'); // Node's decoder also takes the URL-safe alphabet.
  } else if (data.length === KEK_BYTES) {
    kek = Buffer.from(data);
  } else {
    throw new KeepsakeError(
      'INVALID_KEY',
      `the key-encryption key from ${source} is neither base64 nor ${KEK_BYTES} raw bytes ` +
        `(${data.length} bytes)`,
    );
  }
  if (kek.length !== KEK_BYTES) {
    throw new KeepsakeError(
      'INVALID_KEY',
      `the key-encryption key from ${source} is ${kek.length} bytes; it must be ${KEK_BYTES}`,
    );
  }
  return kek;
}

/**
 * A short, stable name for a KEK, stored beside what it seals so that the wrong key is
 * named as such instead of producing garbage. Domain-separated so it matches no other hash.
 */
export function kekId(kek: Buffer): string {
  return createHash('sha256').update('keepsake kek id v1\0').update(kek).digest('hex').slice(0, 16);
}

/** Writes a new random KEK as base64 (mode 0600), never replacing a file; returns its id. */
export async function generateKekFile(path: string): Promise<string> {
  const kek = randomBytes(KEK_BYTES);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    throw fromFsError(err, path, 'write');
  });
  await writeFileAtomic(path, kek.toString('base64') + '\n', { exclusive: true });
  return kekId(kek);
}
