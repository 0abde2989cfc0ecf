// The engine's public library API (`@keepsake/engine`): what the CLI, the server and
// other packages build on. Internal modules stay importable only through this list.

export { ERROR_CODES, KeepsakeError, isKeepsakeError, type ErrorCode } from './core/errors';
export { defaultDataDir, defaultVaultDir, resolveDataDir } from './core/data-dir';
export { ENGINE_VERSION } from './core/version';

// Vault: keyring, C2SP chunked encryption (streaming and one-shot), vault files.
export {
  DEFAULT_SCRYPT,
  changePassword,
  createVault,
  parseRecoveryKey,
  unlockVault,
  vaultExists,
  type Unlock,
  type Vault,
} from './vault/keyring';
export {
  CHUNK_SIZE,
  ciphertextSize,
  decryptChunked,
  encryptChunked,
  plaintextSize,
} from './vault/chunked';
export { DecryptStream, EncryptStream } from './vault/chunked-stream';
export { VaultFile, writeVaultFile, type FileKeySource, type FileMeta } from './vault/vault-file';
export { decryptFile, encryptFile, verifyFile } from './vault/file-ops';

// Batches of folders.
export { batchEncrypt, type BatchEncryptReport } from './batch/batch-encrypt';
export { batchRestore, type BatchRestoreReport } from './batch/batch-restore';
export { batchVerify, type BatchVerifyReport } from './batch/batch-verify';

// FFmpeg and presets.
export { locateFfmpeg, type FfmpegLocation } from './ffmpeg/locate';
export { PRESETS, buildJob, describePresets, getPreset } from './presets';
export type { BuildContext, BuildResult, Preset } from './presets/preset';
