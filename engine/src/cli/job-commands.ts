// `keepsake job …`: submit encodes from presets, watch, list and cancel them, and run the
// queue. The queue lives in the data directory's SQLite file, so a `job watch` or
// `job cancel` in another terminal sees and steers a job that `job submit` runs.

import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveDataDir } from '../core/data-dir';
import { KeepsakeError } from '../core/errors';
import { databasePath } from '../jobs/db';
import { deliverOutputs } from '../jobs/deliver';
import { openJobEngine, jobOutputRoot } from '../jobs/job-engine';
import { runRemote } from '../remote/remote-runner';
import type { JobState } from '../jobs/queue';
import { jobInputFor } from '../jobs/job-input';
import { SqliteJobQueue } from '../jobs/sqlite-queue';
import { submitJob } from '../jobs/worker';
import { globals, output, type GlobalOptions } from './context';
import { JobProgressBar, progressLine } from './job-progress';
import { describeOutcome, failedStatus, follow, reportStalls, summary } from './job-reporting';
import { requirePairedServer, runJobsHere, unlocking } from './run-here';

const STATES: readonly JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

function openQueue(g: GlobalOptions): SqliteJobQueue {
  return new SqliteJobQueue(databasePath(resolveDataDir(g.dataDir)));
}

/** `k=v` pairs into an object; a repeated key is a mistake, not an override. */
function collectParam(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new KeepsakeError('USAGE', `--param takes name=value, not "${value}"`);
  const name = value.slice(0, eq);
  if (name in previous) throw new KeepsakeError('USAGE', `--param ${name} is given twice`);
  return { ...previous, [name]: value.slice(eq + 1) };
}

function positiveInt(flag: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw new KeepsakeError('USAGE', `${flag} must be a whole number from 1 to ${max}`);
    }
    return n;
  };
}

export function registerJobCommands(program: Command): void {
  const job = program.command('job').description('encode with presets through the job queue');

  job
    .command('submit <input>')
    .description(
      'queue an encode of INPUT (a plain file or a .ksv vault file) and run it, showing progress',
    )
    .requiredOption('--preset <name>', 'preset to run (see `keepsake presets`)')
    .option('--param <name=value>', 'a preset parameter (repeatable)', collectParam, {})
    .option(
      '--out <dir>',
      'also decrypt the results into DIR (otherwise only .ksv outputs are kept)',
    )
    .option('--force', 'replace files in --out')
    .option('--priority <n>', 'higher runs first', (v) => Number.parseInt(v, 10), 0)
    .option('--thorough', 'decode the whole output before accepting it')
    .option('--timeout <seconds>', 'wall-clock limit per attempt', positiveInt('--timeout', 604800))
    .option('--detach', 'only queue the job (run it later with `keepsake job work`)')
    .option('--remote <name>', 'run it on this paired server (see `keepsake remote list`)')
    .action(
      async (
        input: string,
        opts: {
          preset: string;
          param: Record<string, string>;
          out?: string;
          force?: boolean;
          priority: number;
          thorough?: boolean;
          timeout?: number;
          detach?: boolean;
          remote?: string;
        },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        const dataDir = resolveDataDir(g.dataDir);
        if (opts.remote) await requirePairedServer(dataDir, opts.remote);
        const spec = {
          preset: opts.preset,
          params: opts.param,
          input: await jobInputFor(resolve(input)),
          outputDir: jobOutputRoot(dataDir),
          priority: Number.isFinite(opts.priority) ? opts.priority : 0,
          options: { thorough: !!opts.thorough, timeoutSeconds: opts.timeout, remote: opts.remote },
        };
        if (opts.detach) {
          const queue = openQueue(g);
          try {
            const queued = await submitJob(queue, spec);
            output(g, `Queued job ${queued.id} (${queued.preset})`, { job: summary(queued) });
          } finally {
            await queue.close();
          }
          return;
        }
        await runJobsHere(g, async (here) => {
          const queued = await submitJob(here.engine.queue, spec);
          here.track(queued);
          const finished = await here.follow(queued.id);
          const written =
            finished.state === 'succeeded' && opts.out
              ? await deliverOutputs(finished, here.engine.vault!, resolve(opts.out), !!opts.force)
              : [];
          const extra = written.length ? `\nDecrypted into ${resolve(opts.out!)}` : '';
          output(g, describeOutcome(finished) + extra, {
            job: summary(finished),
            decrypted: written,
          });
          if (here.interrupted && finished.state !== 'cancelled') process.exitCode = 130;
          failedStatus(finished);
        });
      },
    );

  job
    .command('list')
    .description('list jobs, newest first')
    .option('--state <state>', `only jobs in this state (${STATES.join(', ')})`)
    .option('--limit <n>', 'at most this many', positiveInt('--limit', 100000), 50)
    .action(async (opts: { state?: string; limit: number }, cmd: Command) => {
      const g = globals(cmd);
      if (opts.state !== undefined && !STATES.includes(opts.state as JobState)) {
        throw new KeepsakeError('USAGE', `--state must be one of ${STATES.join(', ')}`);
      }
      const queue = openQueue(g);
      try {
        const jobs = await queue.list({
          states: opts.state ? [opts.state as JobState] : undefined,
          limit: opts.limit,
        });
        const paused = await queue.isPaused();
        const lines = jobs.map((j) =>
          [
            j.id,
            j.state.padEnd(9),
            j.preset.padEnd(13),
            `${(j.progress?.percent ?? (j.state === 'succeeded' ? 100 : 0)).toFixed(1).padStart(5)}%`,
            `try ${j.attempts}/${j.maxAttempts}`,
            basename(j.input.path),
            j.lastError && j.state !== 'succeeded' ? `(${j.lastError.message})` : '',
          ]
            .join('  ')
            .trimEnd(),
        );
        const head = paused ? 'The queue is paused.\n' : '';
        output(g, head + (lines.length ? lines.join('\n') : 'No jobs.'), {
          paused,
          jobs: jobs.map(summary),
        });
      } finally {
        await queue.close();
      }
    });

  job
    .command('watch <id>')
    .description('follow a job until it finishes (live progress bar)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const queue = openQueue(g);
      try {
        const finished = await follow(
          id,
          () => queue.get(id),
          new JobProgressBar({ json: !!g.json, quiet: !!g.quiet }),
          { intervalMs: 500 },
        );
        output(g, describeOutcome(finished), { job: summary(finished) });
        failedStatus(finished);
      } finally {
        await queue.close();
      }
    });

  job
    .command('cancel <id>')
    .description('cancel a queued job, or stop a running one (its partial output is removed)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const queue = openQueue(g);
      try {
        const after = await queue.cancel(id);
        const text =
          after.state === 'cancelled'
            ? `Cancelled job ${id}`
            : `Asked job ${id} to stop; it is ${progressLine(after.state, after.progress)}`;
        output(g, text, { job: summary(after) });
      } finally {
        await queue.close();
      }
    });

  for (const [name, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    job
      .command(name)
      .description(
        paused ? 'hold queued jobs (running ones finish)' : 'let queued jobs start again',
      )
      .action(async (_opts: unknown, cmd: Command) => {
        const g = globals(cmd);
        const queue = openQueue(g);
        try {
          await (paused ? queue.pause() : queue.resume());
          output(g, paused ? 'The queue is paused.' : 'The queue runs.', { paused });
        } finally {
          await queue.close();
        }
      });
  }

  job
    .command('work')
    .description('run queued jobs until interrupted (or until none is left, with --until-idle)')
    .option(
      '--concurrency <n>',
      'jobs at once (default: half the cores)',
      positiveInt('--concurrency', 64),
    )
    .option('--until-idle', 'exit once no job is queued or running')
    .action(async (opts: { concurrency?: number; untilIdle?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const engine = await openJobEngine({
        dataDir: resolveDataDir(g.dataDir),
        keys: { vault: unlocking(g) },
        runRemote,
        concurrency: opts.concurrency,
      });
      const bar = new JobProgressBar({ json: !!g.json, quiet: !!g.quiet });
      void reportStalls(engine.worker, g);
      engine.worker.on('progress', (j, p) => bar.update(j.id, 'running', p));
      engine.worker.on('finished', (j) => {
        bar.done();
        if (!g.quiet) process.stderr.write(`${describeOutcome(j)}\n`);
      });
      engine.worker.on('retry', (j) => {
        bar.done();
        if (!g.quiet) process.stderr.write(`Job ${j.id} will retry: ${j.lastError?.message}\n`);
      });
      let stop: () => void = () => undefined;
      const stopped = new Promise<void>((r) => (stop = r));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const recovered = await engine.worker.start();
        for (const j of recovered) {
          process.stderr.write(`Recovered job ${j.id}: ${j.state} (${j.lastError?.message})\n`);
        }
        if (opts.untilIdle) {
          // Idle: nothing running, and nothing queued that could start (a paused queue holds).
          const idle = async () =>
            engine.worker.activeJobs.length === 0 &&
            ((await engine.queue.isPaused()) ||
              (await engine.queue.list({ states: ['queued', 'running'], limit: 1 })).length === 0);
          while (!(await idle())) {
            const done = await Promise.race([
              stopped.then(() => true),
              new Promise<boolean>((r) => setTimeout(() => r(false), 500)),
            ]);
            if (done) break;
          }
        } else {
          await stopped;
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        // Running jobs are interrupted and requeued, not lost.
        await engine.close();
      }
      output(g, '', { stopped: true });
    });
}
