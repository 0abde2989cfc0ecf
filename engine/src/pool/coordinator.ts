// The coordinator's side of a pool of encoding workers: which workers it has seen and
// what they can run, handing a job to a worker that can run it, the job's keys only to
// the worker holding it, and accepting a worker's outputs only once they decrypt with
// the job's key and pass verification here.
//
// Who holds a job is the queue's to say (its lock: `holds`), never the worker's claim.
// With the SQLite queue a worker's job is a running job owned by `pool:<client id>`
// whose lease its heartbeats renew, and this coordinator puts back a job whose lease ran
// out (`sweep`). The BullMQ backend passes its own `holds`, the job's BullMQ lock (token
// `pool:<client id>`, renewed by the same heartbeats), and leaves the hand-over to
// BullMQ's stalled-job check (`queueHandsOver`).

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditLog } from '../audit/audit';
import { ERROR_CODES, KeepsakeError, type ErrorCode } from '../core/errors';
import { serveLoopback, vaultByteSource } from '../ffmpeg/input-source';
import type { FfmpegLocation } from '../ffmpeg/locate';
import type { SealedOutput } from '../ffmpeg/output-sink';
import { probeInput } from '../ffmpeg/probe';
import { jobOutputDir, type JobKeys } from '../jobs/execute';
import type { Job, JobOutput, JobQueue } from '../jobs/queue';
import { sealedReader } from '../jobs/sealed-reader';
import { verifyOutputs } from '../jobs/verify';
import type { JobKeysBody, WorkerStatus } from '../net/contract';
import type {
  ClaimReply,
  FinishBody,
  HeartbeatBody,
  HeartbeatReply,
  WorkerCapabilities,
  WorkerFailBody,
  WorkerJob,
} from '../net/worker-contract';
import { verifyFile } from '../vault/file-ops';
import { VaultFile } from '../vault/vault-file';
import { buildJob } from '../presets';
import { announcedHardware, canRunOn } from './capabilities';
import { OutputStore } from './output-store';

/** A worker as the signed request names it. */
export interface WorkerIdentity {
  clientId: string;
  name: string;
  address?: string;
}

export interface SeenWorker {
  clientId: string;
  name: string;
  lastHeartbeat: number;
  capabilities: WorkerCapabilities;
  running: string[];
  /** Jobs it finished, and attempts it failed (outputs refused included), since start. */
  done: number;
  failed: number;
}

export interface PoolOptions {
  queue: JobQueue;
  /** The job's keys while the coordinator holds them (memory only), and forgetting them. */
  keys: { get(jobId: string): JobKeys | undefined; delete(jobId: string): void };
  outputRoot: string;
  ffmpeg: FfmpegLocation;
  audit: AuditLog;
  /** How long a worker's hold on a job lasts without a heartbeat. */
  leaseMs?: number;
  /**
   * Whether the worker holds the job. Default: the SQLite queue's running job owned by it
   * with a lease not run out. The BullMQ backend passes its job lock here.
   */
  holds?: (workerId: string, jobId: string) => Promise<boolean>;
  /**
   * The queue itself hands on a job whose holder stopped renewing its hold (BullMQ's
   * stalled-job check), so this coordinator does not sweep expired leases.
   */
  queueHandsOver?: boolean;
  now?: () => number;
}

/** The queue owner of a job a pool worker runs. */
export const poolOwner = (clientId: string) => `pool:${clientId}`;

export function jobKeysBody(keys: JobKeys): JobKeysBody {
  if (!('fileKey' in keys.input)) {
    throw new KeepsakeError('INTERNAL', 'a pool job is opened by its own file key');
  }
  return {
    input: keys.input.fileKey.toString('base64'),
    output: {
      vaultId: keys.output.vaultId,
      keyId: keys.output.masterKeyId,
      key: keys.output.masterKey.toString('base64'),
    },
    // The item's title and date, and a tape's chapters: a whole-tape copy run by a worker
    // carries them as one run here would.
    ...(keys.labels?.title || keys.labels?.date || keys.labels?.chapters?.length
      ? {
          labels: {
            ...(keys.labels.title ? { title: keys.labels.title } : {}),
            ...(keys.labels.date ? { date: keys.labels.date } : {}),
            ...(keys.labels.chapters?.length
              ? { chapters: keys.labels.chapters.map((c) => ({ ...c })) }
              : {}),
          },
        }
      : {}),
  };
}

async function workerJob(job: Job): Promise<WorkerJob> {
  return {
    id: job.id,
    preset: job.preset,
    params: job.params,
    thorough: job.options.thorough ?? false,
    ...(job.options.timeoutSeconds ? { timeoutSeconds: job.options.timeoutSeconds } : {}),
    inputSize: (await stat(job.input.path)).size,
    attempt: job.attempts,
  };
}

const knownCode = (code: string): ErrorCode =>
  Object.hasOwn(ERROR_CODES, code) ? (code as ErrorCode) : 'INTERNAL';

export class PoolCoordinator {
  readonly outputs: OutputStore;
  private readonly workers = new Map<string, SeenWorker>();
  /** Per job, the workers whose outputs it refused: the retry goes elsewhere. */
  private readonly refused = new Map<string, Set<string>>();
  private readonly leaseMs: number;
  private readonly now: () => number;
  readonly holds: (workerId: string, jobId: string) => Promise<boolean>;

  constructor(private readonly options: PoolOptions) {
    this.outputs = new OutputStore(options.outputRoot);
    // A worker heartbeats every 5 s: six missed beats and its job goes to another.
    this.leaseMs = options.leaseMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.holds = options.holds ?? ((workerId, jobId) => this.queueHolds(workerId, jobId));
  }

  private async queueHolds(workerId: string, jobId: string): Promise<boolean> {
    const job = await this.options.queue.get(jobId).catch(() => undefined);
    return (
      job?.state === 'running' &&
      job.owner === poolOwner(workerId) &&
      (job.leaseUntil ?? 0) > this.now()
    );
  }

  /** The workers seen, newest heartbeat first (doctor, /healthz, the Servers screen). */
  seen(): SeenWorker[] {
    return [...this.workers.values()].sort((a, b) => b.lastHeartbeat - a.lastHeartbeat);
  }

  /** What doctor, /healthz, /metrics and the desktop's Servers screen show of each worker. */
  status(): WorkerStatus[] {
    const now = this.now();
    return this.seen().map((w) => ({
      name: w.name,
      lastHeartbeat: w.lastHeartbeat,
      silentSeconds: Math.max(0, Math.round((now - w.lastHeartbeat) / 1000)),
      threads: w.capabilities.threads,
      slots: w.capabilities.slots,
      hardware: [...w.capabilities.hardware],
      running: [...w.running],
      done: w.done,
      failed: w.failed,
    }));
  }

  /** A job of this worker ended: counted, and no longer running there (before its next beat). */
  private ended(workerId: string, jobId: string, outcome: 'done' | 'failed'): void {
    const seen = this.workers.get(workerId);
    if (!seen) return;
    seen[outcome] += 1;
    seen.running = seen.running.filter((id) => id !== jobId);
  }

  async heartbeat(worker: WorkerIdentity, body: HeartbeatBody): Promise<HeartbeatReply> {
    const before = this.workers.get(worker.clientId);
    this.workers.set(worker.clientId, {
      clientId: worker.clientId,
      name: worker.name,
      lastHeartbeat: this.now(),
      capabilities: body.capabilities,
      running: body.running.map((r) => r.id),
      done: before?.done ?? 0,
      failed: before?.failed ?? 0,
    });
    const stop: string[] = [];
    for (const { id, ...progress } of body.running) {
      const answer = await this.options.queue
        .heartbeat(id, poolOwner(worker.clientId), this.leaseMs, { ...progress, at: this.now() })
        .catch(() => ({ owned: false, cancelRequested: false }));
      if (!answer.owned || answer.cancelRequested) stop.push(id);
    }
    return { stop };
  }

  /** The next job this worker can run, now held by it; none while it has not announced itself. */
  async claim(worker: WorkerIdentity): Promise<ClaimReply> {
    const seen = this.workers.get(worker.clientId);
    if (!seen) return { job: null };
    if (!this.options.queueHandsOver) await this.sweep();
    const job = await this.options.queue.claim(
      poolOwner(worker.clientId),
      this.leaseMs,
      (candidate) =>
        candidate.input.kind === 'vault' &&
        this.options.keys.get(candidate.id) !== undefined &&
        !this.refused.get(candidate.id)?.has(worker.clientId) &&
        canRunOn(candidate, seen.capabilities),
    );
    if (!job) return { job: null };
    // Whatever an earlier attempt's worker sent is not this attempt's.
    await this.outputs.discard(job.id);
    // Running there from now, not from its next heartbeat (doctor, the Servers screen).
    if (!seen.running.includes(job.id)) seen.running = [...seen.running, job.id];
    this.record(worker, 'worker.claim', job.id, 'ok');
    return { job: await workerJob(job) };
  }

  /**
   * Puts back the jobs of workers that stopped renewing their hold (killed, cut off): their
   * partial outputs are discarded and the job is retried by whoever claims it next. (On
   * BullMQ its stalled-job check does this instead, and `claim` discards the outputs.)
   */
  private async sweep(): Promise<void> {
    // Only the lease says whether a pool worker lives (it runs on another machine).
    const lost = await this.options.queue.orphans(() => true);
    for (const job of lost) {
      if (!job.owner?.startsWith('pool:')) continue;
      await this.outputs.discard(job.id);
      const error = {
        code: 'JOB_INTERRUPTED' as const,
        message: `the worker running this job stopped answering (attempt ${job.attempts} of ${job.maxAttempts}); its partial outputs were discarded`,
      };
      if (job.cancelRequested) await this.options.queue.cancelled(job.id, job.owner);
      else {
        const retry = job.attempts < job.maxAttempts ? this.now() : undefined;
        await this.options.queue.fail(job.id, job.owner, error, retry);
      }
    }
  }

  /** What the worker holding the job needs to run it (never a path or a key). */
  async describe(worker: WorkerIdentity, jobId: string): Promise<WorkerJob> {
    return workerJob(await this.held(worker, jobId, 'worker.job'));
  }

  /** The job, if this worker holds it; otherwise refused, and the refusal audited. */
  async held(worker: WorkerIdentity, jobId: string, action: string): Promise<Job> {
    if (!(await this.holds(worker.clientId, jobId))) {
      this.record(worker, action, jobId, 'denied', 'the worker does not hold this job');
      throw new KeepsakeError('FORBIDDEN', `this worker does not hold job ${jobId}`);
    }
    return (await this.options.queue.get(jobId)) as Job;
  }

  /** The job's keys, for the worker holding it only. */
  async lease(worker: WorkerIdentity, jobId: string): Promise<JobKeysBody> {
    await this.held(worker, jobId, 'worker.lease');
    const keys = this.options.keys.get(jobId);
    if (!keys) {
      throw new KeepsakeError('FORBIDDEN', `job ${jobId} has no keys here; its client sends them`);
    }
    this.record(worker, 'worker.lease', jobId, 'ok');
    return jobKeysBody(keys);
  }

  /** Where the job's input ciphertext is, for the worker holding it. */
  async inputPath(worker: WorkerIdentity, jobId: string): Promise<string> {
    return (await this.held(worker, jobId, 'worker.input')).input.path;
  }

  /**
   * Accepts the worker's outputs once every one decrypts under the job's key and passes
   * verification against the input; otherwise refuses them, discards them and puts the
   * job back for another worker.
   */
  async finish(worker: WorkerIdentity, jobId: string, body: FinishBody): Promise<Job> {
    const job = await this.held(worker, jobId, 'worker.finish');
    const owner = poolOwner(worker.clientId);
    const keys = this.options.keys.get(jobId);
    if (!keys) throw new KeepsakeError('FORBIDDEN', `job ${jobId} has no keys here`);
    try {
      await this.check(worker.clientId, job, keys, body);
    } catch (err) {
      await this.outputs.discard(jobId);
      const refusedBy = this.refused.get(jobId) ?? new Set<string>();
      refusedBy.add(worker.clientId);
      this.refused.set(jobId, refusedBy);
      const message = err instanceof Error ? err.message : String(err);
      this.record(worker, 'worker.finish', jobId, 'denied', message);
      this.ended(worker.clientId, jobId, 'failed');
      await this.options.queue.fail(
        jobId,
        owner,
        { code: 'OUTPUT_CHECK_FAILED', message: `a worker's outputs were refused: ${message}` },
        job.attempts < job.maxAttempts ? this.now() : undefined,
      );
      throw new KeepsakeError('OUTPUT_CHECK_FAILED', `outputs refused: ${message}`, {
        cause: err,
      });
    }
    const final = jobOutputDir(job);
    await this.outputs.accept(jobId, final);
    const outputs: JobOutput[] = await Promise.all(
      body.outputs.map(async (o) => {
        const path = join(final, `${o.name}.ksv`);
        return { name: o.name, path, size: (await stat(path)).size };
      }),
    );
    outputs.sort((a, b) => a.name.localeCompare(b.name));
    const done = await this.options.queue.succeed(jobId, owner, { outputs, notes: body.notes });
    this.options.keys.delete(jobId);
    this.refused.delete(jobId);
    this.record(worker, 'worker.finish', jobId, 'ok');
    this.ended(worker.clientId, jobId, 'done');
    return done;
  }

  /** The worker could not run the job: back to the queue while attempts remain. */
  async fail(worker: WorkerIdentity, jobId: string, body: WorkerFailBody): Promise<Job> {
    const job = await this.held(worker, jobId, 'worker.fail');
    await this.outputs.discard(jobId);
    this.record(worker, 'worker.fail', jobId, 'ok', `${body.code}: ${body.message}`);
    this.ended(worker.clientId, jobId, 'failed');
    // Stopped because its client cancelled it (the heartbeat said so): cancelled, not failed.
    if (job.cancelRequested) return this.options.queue.cancelled(jobId, poolOwner(worker.clientId));
    return this.options.queue.fail(
      jobId,
      poolOwner(worker.clientId),
      { code: knownCode(body.code), message: body.message },
      job.attempts < job.maxAttempts ? this.now() + 1000 : undefined,
    );
  }

  private async check(workerId: string, job: Job, keys: JobKeys, body: FinishBody): Promise<void> {
    const sealed = new Map<string, SealedOutput>();
    for (const { name, size } of body.outputs) {
      const path = this.outputs.path(job.id, name);
      const stored = await this.outputs.offset(job.id, name);
      if (stored !== size) {
        throw new KeepsakeError('UPLOAD_INCOMPLETE', `${name}: ${stored} of ${size} bytes arrived`);
      }
      // Every chunk authenticated under a file key the job's key unwraps.
      const meta = await verifyFile(path, { vault: keys.output });
      sealed.set(name, { name, path, size: meta.size, storedSize: size });
    }
    // The preset is built again for the probed input, so each step's outputs are checked
    // as the worker's own run checked them (durations of a clip, lossless and quality).
    const caps = this.workers.get(workerId)?.capabilities;
    const input = await VaultFile.open(job.input.path, keys.input);
    try {
      const served = await serveLoopback(vaultByteSource(input));
      try {
        const probed = await probeInput(this.options.ffmpeg.ffprobePath, served);
        const built = buildJob(job.preset, job.params, {
          input: served.url,
          inputProtocols: 'http,tcp',
          inputFormat: probed.demuxer,
          outputBase: 'http://keepsake.invalid/out',
          media: probed.media,
          encoders: new Set(caps?.encoders ?? []),
          muxers: new Set(caps?.muxers ?? []),
          filters: new Set(caps?.filters ?? []),
          hardware: announcedHardware(caps?.hardware ?? []),
        });
        const reader = sealedReader(sealed, keys.output);
        for (const step of built.steps) {
          await verifyOutputs(this.options.ffmpeg, reader, step.outputs, probed, {
            thorough: job.options.thorough,
            checks: step.checks,
            lengthSeconds: step.lengthSeconds,
            source: {
              input: { url: served.url, env: served.env },
              demuxer: probed.demuxer,
              durationSeconds: probed.media.durationSeconds,
            },
          });
        }
        if (served.error) throw served.error;
      } finally {
        await served.close();
      }
    } finally {
      await input.close();
    }
  }

  private record(
    worker: WorkerIdentity,
    action: string,
    target: string,
    outcome: 'ok' | 'denied',
    detail?: string,
  ): void {
    this.options.audit.append({
      actor: worker.name,
      address: worker.address,
      action,
      target,
      outcome,
      detail,
    });
  }
}
