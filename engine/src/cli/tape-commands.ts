// `keepsake tape …`: a digitised tape analysed, and cut into clips from a cut list kept in
// a spreadsheet, for scripting and for the checks. Both run their jobs here through the
// local queue, as `keepsake job submit` does (run-here.ts).
//
// Clips made here carry no title or date inside the file. The desktop seals a clip's title
// and date with its job, bound to the library file the tape is (jobs/job-labels.ts); a
// plain file given on the command line is no library file, and a made-up one would
// mislead whatever reads the job later. So the titles go only into this command's report
// (stdout, the user's own), never into the queue's database or FFmpeg's command line, and
// the date becomes each clip's file time.

import { open, utimes } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveDataDir } from '../core/data-dir';
import { KeepsakeError, fromFsError } from '../core/errors';
import { plainByteSource, serveLoopback, vaultByteSource } from '../ffmpeg/input-source';
import { probeInput } from '../ffmpeg/probe';
import type { TapeAnalysis } from '../ffmpeg/tape-analysis';
import { deliverNamed, labelDateMs } from '../jobs/deliver';
import { jobOutputRoot, type JobEngine } from '../jobs/job-engine';
import { jobInputFor } from '../jobs/job-input';
import type { JobInput, JobSnapshot } from '../jobs/queue';
import { readTapeAnalysis, submitTapeAnalysis } from '../jobs/tape-job';
import { submitJob } from '../jobs/worker';
import { CSV_MAX_BYTES, cutListFromCsv } from '../tape/cut-list-csv';
import { VaultFile } from '../vault/vault-file';
import { globals, output } from './context';
import { printable } from './printable';
import { describeOutcome, failedStatus, summary } from './job-reporting';
import { requirePairedServer, runJobsHere } from './run-here';
import { describeAnalysis, hms } from './tape-summary';

/** What `tape analyse --json` prints: the analysis, times in seconds. */
function analysisReport(a: TapeAnalysis): Record<string, unknown> {
  return {
    interlaced: a.interlaced,
    fieldOrder: a.fieldOrder,
    crop: { width: a.crop.width, height: a.crop.height, x: a.crop.x, y: a.crop.y },
    cuts: a.cuts.map((c) => ({ at: c.at, confidence: c.confidence, reasons: c.reasons })),
    qc: a.qc,
    durationSeconds: a.durationSeconds,
    undecodable: a.undecodable,
  };
}

/** The cut list file's bytes, read no further than a cut list can be long. */
async function readCutsFile(path: string): Promise<Buffer> {
  const handle = await open(path, 'r').catch((err: unknown) => {
    throw fromFsError(err, path, 'read');
  });
  try {
    const buf = Buffer.alloc(CSV_MAX_BYTES + 1);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } catch (err) {
    throw fromFsError(err, path, 'read');
  } finally {
    await handle.close();
  }
}

/** The tape's length and frame rate, as FFprobe reads it (decrypted on loopback if sealed). */
async function tapeFacts(
  engine: JobEngine,
  input: JobInput,
): Promise<{ duration: number; fps?: number }> {
  const source =
    input.kind === 'vault'
      ? vaultByteSource(await VaultFile.open(input.path, { vault: engine.vault! }))
      : await plainByteSource(input.path);
  try {
    const served = await serveLoopback(source);
    try {
      const probed = await probeInput(engine.env.ffmpeg.ffprobePath, served, { file: input.path });
      const fps = probed.streams.find((s) => s.type === 'video' && !s.attachedPic)?.frameRate;
      if (!probed.media.width || probed.isImage) {
        throw new KeepsakeError('PRESET_KIND_MISMATCH', 'only a video can be cut into clips', {
          file: input.path,
        });
      }
      return { duration: probed.media.durationSeconds, ...(fps ? { fps } : {}) };
    } finally {
      await served.close();
    }
  } finally {
    await source.close();
  }
}

/** `tape clip 07`: the tape's name and the clip's number (1, 2, …), never its title. */
function clipName(tapePath: string, n: number, count: number): string {
  const stem = basename(tapePath, extname(tapePath)) || 'tape';
  return `${stem} clip ${String(n).padStart(Math.max(2, String(count).length), '0')}`;
}

export function registerTapeCommands(program: Command): void {
  const tape = program
    .command('tape')
    .description('digitised tapes: find where recordings start and end, and cut out clips');

  tape
    .command('analyse <input>')
    .alias('analyze')
    .description(
      'analyse a tape (a plain file or a .ksv vault file): field order, the picture to keep, ' +
        'proposed cuts with their confidence, and damaged stretches; --json gives times in seconds',
    )
    .option(
      '--remote <name>',
      'analyse it on this paired server: it reads the encrypted tape and seals what it finds',
    )
    .action(async (input: string, opts: { remote?: string }, cmd: Command) => {
      const g = globals(cmd);
      const dataDir = resolveDataDir(g.dataDir);
      if (opts.remote) await requirePairedServer(dataDir, opts.remote);
      const spec = {
        input: await jobInputFor(resolve(input)),
        outputDir: jobOutputRoot(dataDir),
        options: { remote: opts.remote },
      };
      await runJobsHere(g, async (here) => {
        const queued = await submitTapeAnalysis(here.engine.queue, spec);
        here.track(queued);
        const finished = await here.follow(queued.id);
        if (finished.state !== 'succeeded') {
          output(g, describeOutcome(finished), { job: summary(finished) });
          failedStatus(finished);
          return;
        }
        const analysis = await readTapeAnalysis(finished, here.engine.vault!);
        output(g, describeAnalysis(analysis), analysisReport(analysis));
      });
    });

  tape
    .command('clips <input>')
    .description(
      'cut a tape into clips from a cut list (CSV with columns start, end, title, date), ' +
        'each kept exactly (FFV1 and FLAC in Matroska) and decrypted into DIR as ' +
        '"<tape> clip NN.mkv", NN counting the clips from 01; an existing file is never ' +
        "replaced. A clip's date becomes its file time; titles are not written into clips " +
        'made here (only the desktop library keeps them with the clip), they are in the ' +
        '--json report',
    )
    .requiredOption('--cuts <file.csv>', 'the cut list')
    .requiredOption('--out <dir>', 'the folder the clips are written to')
    .action(async (input: string, opts: { cuts: string; out: string }, cmd: Command) => {
      const g = globals(cmd);
      const dataDir = resolveDataDir(g.dataDir);
      const tapeInput = await jobInputFor(resolve(input));
      const csv = await readCutsFile(resolve(opts.cuts));
      const outDir = resolve(opts.out);
      await runJobsHere(g, async (here) => {
        const list = cutListFromCsv(csv, await tapeFacts(here.engine, tapeInput));
        const jobs: JobSnapshot[] = [];
        for (const clip of list.clips) {
          const job = await submitJob(here.engine.queue, {
            preset: 'clip',
            params: { start: clip.start, end: clip.end },
            input: tapeInput,
            outputDir: jobOutputRoot(dataDir),
          });
          here.track(job);
          jobs.push(job);
        }
        const report: Record<string, unknown>[] = [];
        const lines: string[] = [];
        let failed: JobSnapshot | undefined;
        for (const [i, clip] of list.clips.entries()) {
          // The row as a spreadsheet shows it, and as cutListFromCsv's errors name it.
          const row = i + 2;
          const finished = await here.follow(jobs[i]!.id);
          let file: string | null = null;
          if (finished.state === 'succeeded') {
            file = await deliverNamed(
              finished,
              here.engine.vault!,
              outDir,
              clipName(input, i + 1, list.clips.length),
            );
            const dateMs = labelDateMs(clip.date);
            if (dateMs !== undefined) await utimes(file, new Date(), new Date(dateMs));
          } else {
            failed ??= finished;
          }
          report.push({
            row,
            start: clip.start,
            end: clip.end,
            title: clip.title ?? null,
            date: clip.date ?? null,
            file,
            job: finished.id,
            ...(file ? {} : { state: finished.state, error: finished.lastError ?? null }),
          });
          const span = `${hms(clip.start)} to ${hms(clip.end)}${clip.title ? `, "${printable(clip.title)}"` : ''}`;
          lines.push(
            file
              ? `Row ${row} (${span}): ${file}`
              : `Row ${row} (${span}): not made. ${describeOutcome(finished)}`,
          );
        }
        output(g, lines.join('\n'), { clips: report });
        if (failed) failedStatus(failed);
      });
    });
}
