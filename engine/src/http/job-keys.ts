// A server's job keys: in memory only, each with a time to live. The server never writes
// them anywhere, so after a restart (or once a key expires) the job waits, visibly, for
// its client to send the keys again instead of failing or guessing. The item's title and
// date (and a tape's chapters) come with the keys and are kept the same way: never in
// engine.db, never on disk.

import type { JobKeys } from '../jobs/execute';
import type { JobKeysBody } from '../net/contract';
import type { OutputLabels } from '../presets/output-labels';

export function jobKeysFrom(body: JobKeysBody): JobKeys {
  const { title, date, chapters } = body.labels ?? {};
  const labels = {
    ...(title ? { title } : {}),
    ...(date ? { date } : {}),
    ...(chapters?.length ? { chapters: chapters.map((c) => ({ ...c })) } : {}),
  };
  return {
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    input: { fileKey: Buffer.from(body.input, 'base64') },
    output: {
      dir: '',
      vaultId: body.output.vaultId,
      masterKeyId: body.output.keyId,
      masterKey: Buffer.from(body.output.key, 'base64'),
    },
  };
}

function copyLabels(labels: OutputLabels): OutputLabels {
  return {
    ...labels,
    ...(labels.chapters ? { chapters: labels.chapters.map((c) => ({ ...c })) } : {}),
  };
}

/**
 * A running job gets its own copy: expiry or deletion wipes the stored bytes, and must
 * never change the key a job is in the middle of encrypting with.
 */
function copyKeys(keys: JobKeys): JobKeys {
  return {
    input: 'fileKey' in keys.input ? { fileKey: Buffer.from(keys.input.fileKey) } : keys.input,
    output: { ...keys.output, masterKey: Buffer.from(keys.output.masterKey) },
    ...(keys.labels ? { labels: copyLabels(keys.labels) } : {}),
  };
}

export class JobKeyStore {
  private readonly keys = new Map<string, { keys: JobKeys; expiresAt: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.purge(), Math.min(ttlMs, 60_000));
    this.timer.unref();
  }

  set(jobId: string, keys: JobKeys): void {
    this.delete(jobId); // wipes keys sent earlier for the same job
    this.keys.set(jobId, { keys, expiresAt: this.now() + this.ttlMs });
  }

  /** The keys, if held and not expired; using them renews the lease on them. */
  get(jobId: string): JobKeys | undefined {
    const entry = this.keys.get(jobId);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.delete(jobId);
      return undefined;
    }
    entry.expiresAt = this.now() + this.ttlMs;
    return copyKeys(entry.keys);
  }

  has(jobId: string): boolean {
    const entry = this.keys.get(jobId);
    return entry !== undefined && entry.expiresAt > this.now();
  }

  /** Forgets a job's keys, overwriting the bytes so they do not linger in the heap. */
  delete(jobId: string): void {
    const entry = this.keys.get(jobId);
    if (!entry) return;
    if ('fileKey' in entry.keys.input) entry.keys.input.fileKey.fill(0);
    entry.keys.output.masterKey.fill(0);
    this.keys.delete(jobId);
  }

  purge(): void {
    const now = this.now();
    for (const [id, entry] of this.keys) if (entry.expiresAt <= now) this.delete(id);
  }

  close(): void {
    clearInterval(this.timer);
    for (const id of [...this.keys.keys()]) this.delete(id);
  }
}
