// One attempt of a job on a paired server. The server gets ciphertext and this job's keys
// only: the input file's own key (it opens that file and nothing else) and a job key
// derived from the vault (it wraps the outputs' keys, and opens no other job's files),
// and with them the item's title and date (and a tape's chapters) for the outputs' metadata.
//
//   local .ksv ─upload (signed chunks)─▶ server: decrypt → FFmpeg → encrypt
//   server results ─download─▶ staged, every chunk verified with the vault ─▶ job outputs
//
// The remote job is deleted afterwards however it ended, so the server keeps nothing.
//
// A crash of either side resumes rather than starts over: where the upload and the
// remote job stand is kept beside the job (`.<id>.remote.json`, no secrets in it), with
// the sealed input it was made from. The next attempt asks the server for the upload's
// committed offset and sends only the rest, or picks up the remote job itself. What it
// finds gone (the server expired it) is made again.

import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoff } from '../core/backoff';
import { KeepsakeError, isKeepsakeError, type ErrorCode } from '../core/errors';
import type { Progress } from '../ffmpeg/runner';
import { writeFileAtomic } from '../fs/atomic';
import type { ExecuteResult } from '../jobs/execute';
import { openJobLabels } from '../jobs/job-labels';
import type { Job, JobOutput } from '../jobs/queue';
import { remoteLeftovers } from '../jobs/remote-leftovers';
import { RemoteClient } from '../net/client';
import type { LabelChapter } from '../presets/output-labels';
import type { JobKeysBody, JobView, UploadView } from '../net/contract';
import { encryptFile, verifyFile } from '../vault/file-ops';
import { jobOutputVault, type Vault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import { downloadPercent, uploadPercent, workPercent } from './remote-progress';
import { getRemote } from './remotes';

export interface RemoteEnv {
  dataDir: string;
  vault: Vault;
  pollMs?: number;
  chunkBytes?: number;
  /** The clock requests are signed with (tests put it off; default Date.now). */
  now?: () => number;
}

const FINISHED = ['succeeded', 'failed', 'cancelled'];
/** Longest wait between polls while the server cannot be reached. */
const OUTAGE_POLL_MAX_MS = 30_000;
const SAFE_OUTPUT_NAME = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Where a remote attempt stands, kept so that the next one resumes from there. */
interface RemoteState {
  remote: string;
  /** The sealed input (of a plain input) was written completely. */
  sealed?: boolean;
  /** Size of the input the upload is of: another size means another file. */
  size?: number;
  upload?: string;
  job?: string;
}

async function readState(path: string, remote: string): Promise<RemoteState> {
  try {
    const state = JSON.parse(await readFile(path, 'utf8')) as RemoteState;
    if (state && typeof state === 'object' && state.remote === remote) return state;
  } catch {
    // None yet, or unreadable: start afresh.
  }
  return { remote };
}

/** The server no longer has it (expired, or deleted): it is made again. */
const gone = (err: unknown) =>
  isKeepsakeError(err, 'NOT_FOUND') || isKeepsakeError(err, 'JOB_NOT_FOUND');

/** One bar for upload, the server's work and download (remote-progress.ts). */
const report = (onProgress: (p: Progress) => void, percent: number, view?: JobView) =>
  onProgress({
    percent: Math.min(99.9, percent),
    outTimeSeconds: 0,
    fps: view?.progress?.fps,
    speed: view?.progress?.speed,
    etaSeconds: view?.progress?.etaSeconds,
  });

export async function executeRemote(
  job: Job,
  env: RemoteEnv,
  control: { signal: AbortSignal; onProgress: (progress: Progress) => void },
): Promise<ExecuteResult> {
  const remote = await getRemote(env.dataDir, env.vault, job.options.remote!);
  const client = new RemoteClient(remote, { now: env.now });
  const staging = join(job.outputDir, `.${job.id}.partial`);
  const { sealedInput, state: statePath } = remoteLeftovers(job);
  const state = await readState(statePath, remote.name);
  const save = () => writeFileAtomic(statePath, JSON.stringify(state));
  let remoteId: string | undefined;
  let upload: UploadView | undefined;
  let outcome: unknown;
  try {
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true, mode: 0o700 });
    // A plain input is encrypted here first: only ciphertext leaves this machine. The
    // sealed copy is kept until the job ends: sealing again would give other bytes (a
    // fresh file key), which an upload under way could not continue from.
    let input = job.input.path;
    if (job.input.kind === 'plain') {
      const reusable =
        state.sealed &&
        (await stat(sealedInput).then(
          () => true,
          () => false,
        ));
      if (!reusable) {
        Object.assign(state, { sealed: false, upload: undefined, job: undefined });
        await encryptFile(job.input.path, sealedInput, env.vault, { overwrite: true });
        state.sealed = true;
        await save();
      }
      input = sealedInput;
    }
    const vf = await VaultFile.open(input, { vault: env.vault });
    const inputKey = vf.fileKey.toString('base64');
    await vf.close();
    const total = (await stat(input)).size;
    const outputKey = jobOutputVault(env.vault, job.id);
    // The item's title and date go with the keys, and like them are held in the server's
    // memory only: never in its database, and sent again after it restarts.
    // Only what the server's contract takes (JobKeysSchema): anything more would be refused.
    // A tape's clips go the same way, as the chapters of a copy of the whole tape.
    const { title, date, chapters } = openJobLabels(env.vault, job.options) ?? {};
    const labels = {
      ...(title ? { title } : {}),
      ...(date ? { date } : {}),
      ...(chapters?.length ? { chapters: wireChapters(chapters) } : {}),
    };
    const keys: JobKeysBody = {
      input: inputKey,
      output: {
        vaultId: outputKey.vaultId,
        keyId: outputKey.masterKeyId,
        key: outputKey.masterKey.toString('base64'),
      },
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
    };

    // The remote job of an earlier attempt, if the server still has it.
    let view: JobView | undefined;
    if (state.job) {
      view = await client.job(state.job).catch((err: unknown) => {
        if (gone(err)) return undefined;
        throw err;
      });
      if (view) remoteId = view.id;
      else state.job = undefined;
    }
    if (!view) {
      // The upload of an earlier attempt continues from the server's committed offset.
      if (state.upload && state.size === total) {
        upload = await client.upload(state.upload).catch((err: unknown) => {
          if (gone(err)) return undefined;
          throw err;
        });
      }
      if (!upload) {
        upload = await client.createUpload(total);
        Object.assign(state, { upload: upload.id, size: total });
        await save();
      }
      let sent = upload.offset;
      upload = await client.uploadFile(input, {
        existing: upload.id,
        chunkBytes: env.chunkBytes,
        signal: control.signal,
        onBytes: (n) => {
          sent += n;
          report(control.onProgress, uploadPercent(sent, total));
        },
      });
      control.signal.throwIfAborted();
      const created = await client.createJob({
        input: { upload: upload.id },
        preset: job.preset,
        params: wireParams(job.params),
        mode: 'automated',
        priority: job.priority,
        thorough: !!job.options.thorough,
        keys,
      });
      remoteId = created.id;
      state.job = created.id;
      await save();
      view = created;
    } else if (view.waitingForKeys) {
      await client.resendKeys(view.id, keys);
    }
    const created = view;

    const pollMs = env.pollMs ?? 500;
    let outage = 0;
    while (!FINISHED.includes(view.state)) {
      if (control.signal.aborted) {
        // Only a cancel stops the remote job; an engine shutting down resumes it later.
        if (control.signal.reason === 'cancel') {
          await client.cancel(created.id).catch(() => undefined);
        }
        throw new KeepsakeError('JOB_CANCELLED', 'cancelled');
      }
      // Each failed look in a row doubles the wait: a server that is down is not hammered.
      const waitMs = backoff(outage + 1, { baseMs: pollMs, maxMs: OUTAGE_POLL_MAX_MS });
      // Cut short by a cancel, which the top of the loop then handles.
      await sleep(waitMs, undefined, {
        signal: control.signal,
      }).catch(() => undefined);
      try {
        view = await client.job(created.id);
        // The server restarted and forgot the keys (it never stores them): send them again.
        if (view.waitingForKeys) await client.resendKeys(created.id, keys);
        outage = 0;
      } catch (err) {
        // The server went away mid-job (a restart, a dropped network): the job goes on
        // there, or waits for its keys. Asking again beats starting over, which would
        // upload everything anew and leave this job behind on the server.
        if (!isKeepsakeError(err, 'SERVER_UNREACHABLE')) throw err;
        outage += 1;
        continue;
      }
      report(control.onProgress, workPercent(view.progress?.percent ?? 0), view);
    }
    if (view.state !== 'succeeded') {
      const code = (view.lastError?.code ?? 'FFMPEG_FAILED') as ErrorCode;
      throw new KeepsakeError(code, `on ${remote.name}: ${view.lastError?.message ?? view.state}`);
    }

    // Results come back as ciphertext and are checked chunk by chunk before they count.
    const outputs: JobOutput[] = [];
    for (const [i, out] of view.outputs.entries()) {
      // Names come from the server: only plain relative names may become paths here.
      if (
        !SAFE_OUTPUT_NAME.test(out.name) ||
        out.name.split('/').some((p) => p === '..' || p === '.')
      ) {
        throw new KeepsakeError(
          'OUTPUT_CHECK_FAILED',
          `the server named an output "${out.name}"; refused`,
        );
      }
      const dest = join(staging, `${out.name}.ksv`);
      if (relative(staging, dest).startsWith('..')) {
        throw new KeepsakeError(
          'OUTPUT_CHECK_FAILED',
          `the server named an output "${out.name}"; refused`,
        );
      }
      await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
      const bytes = await client.downloadOutput(created.id, out.name, dest);
      await verifyFile(dest, { vault: env.vault });
      outputs.push({
        name: out.name,
        path: dest,
        size: bytes,
        ...(out.labels ? { labels: [...out.labels] } : {}),
        ...(out.quality
          ? {
              quality: {
                ssim: out.quality.ssim,
                psnr: out.quality.psnr,
                ...(out.quality.vmaf !== undefined ? { vmaf: out.quality.vmaf } : {}),
              },
            }
          : {}),
      });
      report(control.onProgress, downloadPercent(i + 1, view.outputs.length));
    }
    const final = join(job.outputDir, job.id);
    await rename(staging, final);
    return {
      outputs: outputs.map((o) => ({ ...o, path: join(final, `${o.name}.ksv`) })),
      notes: [...view.notes, `ran on ${remote.name} (${remote.url})`],
    };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    outcome = isKeepsakeError(err)
      ? err
      : new KeepsakeError('SERVER_UNREACHABLE', `${remote.name}: ${(err as Error).message}`, {
          cause: err,
        });
    throw outcome;
  } finally {
    // An attempt that will be resumed (the server went away, the engine is shutting
    // down) keeps the upload, the remote job and the sealed input for the next one.
    const resumable =
      isKeepsakeError(outcome, 'SERVER_UNREACHABLE') ||
      (outcome !== undefined &&
        (control.signal.reason === 'shutdown' || control.signal.reason === 'lost'));
    if (!resumable) {
      await rm(sealedInput, { force: true });
      // The remote job (with its upload and results), or a lone upload, is removed.
      const jobId = remoteId ?? state.job;
      const uploadId = upload?.id ?? state.upload;
      if (jobId) await client.deleteJob(jobId).catch(() => undefined);
      else if (uploadId) {
        await client.call('DELETE', `/v1/uploads/${uploadId}`).catch(() => undefined);
      }
      await rm(statePath, { force: true });
    }
    await client.close();
  }
}

/**
 * A queued job stores its validated parameters, and a crop box is stored parsed (or null
 * for none); the server's contract takes plain values, so a box goes as its `W:H:X:Y`
 * text and "no crop" as the default it is, which the server validates again.
 */
function wireParams(params: Record<string, unknown>): Record<string, string | number | boolean> {
  const wire: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'object') {
      const box = value as Record<string, unknown>;
      wire[name] = `${String(box.width)}:${String(box.height)}:${String(box.x)}:${String(box.y)}`;
    } else {
      wire[name] = value as string | number | boolean;
    }
  }
  return wire;
}

/** Chapters as the server's contract takes them: a start and end it accepts, a title. */
function wireChapters(chapters: readonly LabelChapter[]): LabelChapter[] {
  return chapters
    .filter((c) => c.title.length > 0 && c.end > c.start && c.start >= 0)
    .map((c) => ({ start: c.start, end: c.end, title: c.title }));
}
