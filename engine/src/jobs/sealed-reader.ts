// Reads a job's sealed outputs back for verification: small ones decrypted in memory,
// media served decrypted on loopback (as FFmpeg's input is), never written out plain.

import { KeepsakeError } from '../core/errors';
import { serveLoopback, vaultByteSource } from '../ffmpeg/input-source';
import type { SealedOutput } from '../ffmpeg/output-sink';
import type { Vault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import type { OutputReader } from './verify';

/** Reads sealed outputs back for verification: decrypted in memory, served on loopback. */
export function sealedReader(
  sealed: ReadonlyMap<string, SealedOutput>,
  vault: Vault,
): OutputReader {
  const open = (name: string) => {
    const output = sealed.get(name);
    if (!output) {
      throw new KeepsakeError('OUTPUT_CHECK_FAILED', `${name}: was not produced`);
    }
    return VaultFile.open(output.path, { vault });
  };
  return {
    names: () => [...sealed.keys()],
    async text(name) {
      const file = await open(name);
      try {
        return (await file.read(0, file.size)).toString('utf8');
      } finally {
        await file.close();
      }
    },
    async withStream(name, use) {
      const file = await open(name);
      try {
        return await use(vaultByteSource(file).stream(0, file.size));
      } finally {
        await file.close();
      }
    },
    async withUrl(name, use) {
      const file = await open(name);
      try {
        const served = await serveLoopback(vaultByteSource(file));
        try {
          const result = await use(served).catch((err: unknown) => {
            throw served.error ?? err;
          });
          if (served.error) throw served.error;
          return result;
        } finally {
          await served.close();
        }
      } finally {
        await file.close();
      }
    },
  };
}
