// A worker's configuration (`keepsake worker -c worker.json`): which coordinator, the
// worker credential it was paired with, and the coordinator's CA fingerprint, to which
// every connection is pinned. The file holds the credential's key, so it is written 0600
// and must be kept like an SSH key; it never holds a job key.
//
//   { "coordinator": "https://nas.home:8443", "clientId": "…", "key": "…",
//     "caFingerprint": "AB:CD:…", "dataDir": "/var/lib/keepsake-worker", "threads": 4 }

import { readFile } from 'node:fs/promises';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { KeepsakeError } from '../core/errors';
import { writeFileAtomic } from '../fs/atomic';
import { normalizeFingerprint } from '../net/fingerprint';
import { fetchServerCa, type Remote } from '../net/pair-client';

export const WorkerConfigSchema = Type.Object(
  {
    coordinator: Type.String({ pattern: '^https://' }),
    clientId: Type.String({ minLength: 1, maxLength: 128 }),
    key: Type.String({ minLength: 1, maxLength: 128 }),
    caFingerprint: Type.String({ minLength: 64, maxLength: 128 }),
    /** Where jobs in flight are kept (ciphertext only); default: the engine's data folder. */
    dataDir: Type.Optional(Type.String({ minLength: 1 })),
    /** FFmpeg threads per job (default: every core). */
    threads: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    /** Jobs at once (default 1). */
    slots: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    /**
     * How often the worker tells the coordinator it is alive (default 5). Each beat renews
     * its hold on its job, a BullMQ lock of 15 s (DEFAULT_LOCK_MS): beats further apart
     * than a third of it would lose every job to the stalled-job check.
     */
    heartbeatSeconds: Type.Optional(Type.Number({ minimum: 1, maximum: 5 })),
  },
  { additionalProperties: false },
);
export type WorkerConfig = Static<typeof WorkerConfigSchema>;

export async function readWorkerConfig(path: string): Promise<WorkerConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new KeepsakeError('USAGE', `${path}: not a readable JSON file`, { cause: err });
  }
  if (!Value.Check(WorkerConfigSchema, raw)) {
    const first = [...Value.Errors(WorkerConfigSchema, raw)][0];
    throw new KeepsakeError(
      'USAGE',
      `${path}: ${first ? `${first.instancePath || '/'} ${first.message}` : 'invalid'}`,
    );
  }
  return raw;
}

/** The config a pairing gives (`keepsake worker pair`), written 0600. */
export async function writeWorkerConfig(path: string, paired: Remote): Promise<WorkerConfig> {
  const config: WorkerConfig = {
    coordinator: paired.url,
    clientId: paired.clientId,
    key: paired.key,
    caFingerprint: paired.caFingerprint,
  };
  await writeFileAtomic(path, JSON.stringify(config, null, 2) + '\n'); // 0600
  return config;
}

/** The coordinator's CA, fetched and checked against the pinned fingerprint. */
export async function pinnedCa(config: WorkerConfig): Promise<string> {
  const { caCertPem, caFingerprint } = await fetchServerCa(config.coordinator);
  if (caFingerprint !== normalizeFingerprint(config.caFingerprint)) {
    throw new KeepsakeError(
      'SERVER_NOT_TRUSTED',
      `${config.coordinator} shows a CA whose fingerprint is not the one in the worker's configuration`,
    );
  }
  return caCertPem;
}
