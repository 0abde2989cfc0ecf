// Commands about the engine itself: which FFmpeg it uses, and desktop mode.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveDataDir } from '../core/data-dir';
import { KeepsakeError } from '../core/errors';
import { readConfig } from '../core/config';
import { detectEncoders } from '../ffmpeg/hw-detect';
import { locateFfmpeg } from '../ffmpeg/locate';
import { openScratch } from '../ffmpeg/scratch';
import { ENGINE_VERSION } from '../core/version';
import { ENGINE_ROOT } from '../core/engine-root';
import { globals, output } from './context';
import { queueReport } from './doctor-queue';
import { workersReport } from './doctor-workers';
import { hardwareLines } from './hardware-report';
import { tuneGarbageCollector } from './gc-tuning';

/** The UI built in a repository checkout (`npm run build:renderer`). */
const BUILT_UI = join(ENGINE_ROOT, '..', 'renderer', 'dist');

export function registerSystemCommands(program: Command): void {
  program
    .command('doctor')
    .description(
      'report the engine version, data directory, the FFmpeg it will use, the graphics-chip encoders that work and (-c) a server’s job queue and the workers it has seen',
    )
    .option(
      '-c, --config <file>',
      'a server configuration: report its job queue, Redis and workers',
    )
    .action(async (opts: { config?: string }, cmd: Command) => {
      const g = globals(cmd);
      const dataDir = resolveDataDir(g.dataDir);
      const config = await readConfig(dataDir);
      const ffmpeg = await locateFfmpeg({
        ffmpegPath: config.ffmpegPath,
        ffprobePath: config.ffprobePath,
      });
      // A scratch problem is reported, not thrown: doctor exists to say what is wrong.
      const scratch = await openScratch({ configured: config.scratch }).then(
        (s) => ({ ok: true, root: s.root, ramFs: s.ramFs ?? null, problem: null }),
        (err: unknown) => ({ ok: false, root: null, ramFs: null, problem: String(err) }),
      );
      const hardware = await detectEncoders(ffmpeg.ffmpegPath);
      const queue = await queueReport(opts.config);
      const workers = opts.config ? await workersReport(opts.config, g.dataDir) : undefined;
      const scratchLine = scratch.ok
        ? `scratch: ${scratch.root} (${scratch.ramFs ?? 'disk'}; FFmpeg's working folder, it never holds media)`
        : `scratch: UNUSABLE: ${scratch.problem}`;
      const warnings = [
        ...(ffmpeg.source === 'npm-package'
          ? [
              'warning: the npm-packaged ffmpeg (a 2018 build) crashes on HLS with several renditions; install ffmpeg (e.g. apt-get install ffmpeg) or set FFMPEG_PATH',
            ]
          : []),
        ...(ffmpeg.ffprobeSource === 'npm-package'
          ? [
              'warning: the npm-packaged ffprobe crashes on MPEG-TS (.mts, HLS); install ffmpeg (e.g. apt-get install ffmpeg) or set FFPROBE_PATH',
            ]
          : []),
      ];
      output(
        g,
        [
          `Keepsake engine ${ENGINE_VERSION} (Node ${process.versions.node})`,
          `data directory: ${dataDir}`,
          `ffmpeg ${ffmpeg.version} from ${ffmpeg.source}: ${ffmpeg.ffmpegPath}`,
          `ffprobe from ${ffmpeg.ffprobeSource}: ${ffmpeg.ffprobePath}`,
          scratchLine,
          ...hardwareLines(hardware),
          queue.line,
          ...(workers?.lines ?? []),
          ...warnings,
        ].join('\n'),
        {
          version: ENGINE_VERSION,
          dataDir,
          ffmpeg,
          scratch,
          hardware,
          queue: queue.data,
          ...(workers ? { workers: workers.data } : {}),
        },
      );
    });

  program
    .command('desktop')
    .description('run the embedded engine on 127.0.0.1 and serve the UI (prints its URL)')
    .option(
      '--port <n>',
      'port to listen on; 0: any free port with a new token each start (the desktop app). Default: the last port and token again, so open tabs and bookmarks keep working',
    )
    .option('--new-token', 'make a new token (open tabs and bookmarks stop working)')
    .option('--static-dir <dir>', 'built UI to serve (default: renderer/dist when built)')
    .action(
      async (opts: { port?: string; newToken?: boolean; staticDir?: string }, cmd: Command) => {
        const g = globals(cmd);
        const port = opts.port === undefined ? undefined : Number(opts.port);
        if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
          throw new KeepsakeError(
            'USAGE',
            `--port must be a number from 0 to 65535, not "${opts.port}"`,
          );
        }
        tuneGarbageCollector();
        // Fastify loads only for this command.
        const { runDesktop } = await import('../desktop/desktop-entry');
        const running = await runDesktop({
          dataDir: resolveDataDir(g.dataDir),
          port,
          newToken: opts.newToken,
          staticDir: opts.staticDir
            ? resolve(opts.staticDir)
            : existsSync(BUILT_UI)
              ? BUILT_UI
              : undefined,
        });
        await running.stopped;
      },
    );
}
