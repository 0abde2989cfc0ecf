// `keepsake worker`'s loop: announce what this machine can run (heartbeat, which also
// carries each running job's progress and renews its hold), take jobs while there is
// room, run each with the leased-job runner, and report a failure back.
//
// A worker that cannot reach its coordinator takes no job until a heartbeat gets through
// again: jobs it already runs carry on, and their uploads resume once it is back.
//
// Where jobs come from is one seam, `JobSource`: the coordinator's claim route by default.
// A BullMQ consumer on the worker (issue 19) would be another source handing the same
// `runLeasedJob` one job at a time.

import { setTimeout as sleep } from 'node:timers/promises';
import { isKeepsakeError, KeepsakeError } from '../core/errors';
import type { Progress } from '../ffmpeg/runner';
import type { RemoteClient } from '../net/client';
import {
  WORKER_PATHS,
  type ClaimReply,
  type HeartbeatReply,
  type WorkerCapabilities,
  type WorkerJob,
} from '../net/worker-contract';
import type { RunLeasedJob } from './leased-job';

/** Hands this worker its next job, or none for now. */
export interface JobSource {
  next(): Promise<WorkerJob | undefined>;
}

/** The coordinator's claim route as the job source. */
export function claimSource(client: RemoteClient): JobSource {
  return {
    async next() {
      const reply = await client.call<ClaimReply>('POST', WORKER_PATHS.claim);
      return reply.body.job ?? undefined;
    },
  };
}

export interface PoolWorkerOptions {
  client: RemoteClient;
  capabilities: WorkerCapabilities;
  run: RunLeasedJob;
  source?: JobSource;
  heartbeatMs?: number;
  pollMs?: number;
  /** Called with what went wrong that the loop carries on from (the coordinator gone). */
  onTrouble?: (err: unknown) => void;
  /** Called as each job ends: its id and the error, if it failed. */
  onJobEnd?: (id: string, err?: unknown) => void;
}

interface Running {
  controller: AbortController;
  progress?: Progress;
  done: Promise<void>;
}

export class PoolWorker {
  private readonly running = new Map<string, Running>();
  private stopped = false;
  private loop: Promise<void> | undefined;
  private beat: NodeJS.Timeout | undefined;
  /** Whether the last heartbeat reached the coordinator: no job is taken while not. */
  reachable = false;

  constructor(private readonly options: PoolWorkerOptions) {}

  /** Ids of the jobs running now. */
  jobs(): string[] {
    return [...this.running.keys()];
  }

  async start(): Promise<void> {
    await this.heartbeat();
    this.beat = setInterval(() => void this.heartbeat(), this.options.heartbeatMs ?? 5000);
    this.loop = this.take();
  }

  /** Stops taking jobs; running ones are aborted (their hold runs out at the coordinator). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.beat);
    for (const entry of this.running.values()) entry.controller.abort('shutdown');
    await this.loop;
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private async heartbeat(): Promise<void> {
    const running = [...this.running].map(([id, entry]) => ({
      id,
      percent: Math.min(100, Math.max(0, entry.progress?.percent ?? 0)),
      ...(entry.progress?.fps !== undefined ? { fps: entry.progress.fps } : {}),
      ...(entry.progress?.speed !== undefined ? { speed: entry.progress.speed } : {}),
      ...(entry.progress?.etaSeconds !== undefined
        ? { etaSeconds: entry.progress.etaSeconds }
        : {}),
    }));
    try {
      const reply = await this.options.client.call<HeartbeatReply>('POST', WORKER_PATHS.heartbeat, {
        json: { capabilities: this.options.capabilities, running },
      });
      this.reachable = true;
      // Cancelled, or no longer ours (the hold ran out and the job went elsewhere).
      for (const id of reply.body.stop) this.running.get(id)?.controller.abort('stop');
    } catch (err) {
      this.reachable = false;
      this.options.onTrouble?.(err);
    }
  }

  private async take(): Promise<void> {
    const source = this.options.source ?? claimSource(this.options.client);
    const pollMs = this.options.pollMs ?? 2000;
    while (!this.stopped) {
      if (!this.reachable || this.running.size >= this.options.capabilities.slots) {
        await sleep(pollMs);
        continue;
      }
      let job: WorkerJob | undefined;
      try {
        job = await source.next();
      } catch (err) {
        if (isKeepsakeError(err, 'SERVER_UNREACHABLE')) this.reachable = false;
        this.options.onTrouble?.(err);
      }
      if (!job) {
        await sleep(pollMs);
        continue;
      }
      this.begin(job);
    }
  }

  private begin(job: WorkerJob): void {
    const controller = new AbortController();
    const entry: Running = { controller, done: Promise.resolve() };
    this.running.set(job.id, entry);
    entry.done = this.options
      .run(job.id, (p) => (entry.progress = p), controller.signal)
      .then(
        () => this.options.onJobEnd?.(job.id),
        async (err: unknown) => {
          // Stopped on the coordinator's word: it is told (a cancelled job ends cancelled;
          // one handed on is not this worker's, and the report is refused). Stopped by a
          // shutdown: nothing is said, and the hold runs out for another worker.
          const reason: unknown = controller.signal.reason;
          if (!controller.signal.aborted || reason === 'stop') await this.report(job.id, err);
          this.options.onJobEnd?.(job.id, err);
        },
      )
      .finally(() => this.running.delete(job.id));
  }

  private async report(id: string, err: unknown): Promise<void> {
    // Outputs refused by the coordinator: it has already put the job back.
    if (isKeepsakeError(err, 'OUTPUT_CHECK_FAILED') && /outputs refused/.test(String(err))) return;
    const code = err instanceof KeepsakeError ? err.code : 'INTERNAL';
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 2000);
    await this.options.client
      .call('POST', WORKER_PATHS.fail(id), { json: { code, message } })
      .catch((e: unknown) => this.options.onTrouble?.(e));
  }
}
