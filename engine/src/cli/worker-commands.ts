// `keepsake worker`: this machine as an encoding worker of a coordinator (`keepsake
// serve`). `keepsake worker pair URL --code CODE -o worker.json` pairs with a code the
// coordinator made for the worker role (`keepsake pair --role worker`); `keepsake worker
// -c worker.json` then runs jobs until SIGINT or SIGTERM.

import type { Command } from 'commander';
import { hostname } from 'node:os';
import { resolveDataDir } from '../core/data-dir';
import { KeepsakeError } from '../core/errors';
import { shortFingerprint } from '../net/fingerprint';
import { globals, output } from './context';

export function registerWorkerCommands(program: Command): void {
  const worker = program
    .command('worker')
    .description('run jobs for a Keepsake server as one of its encoding workers')
    .option('-c, --config <file>', 'the worker configuration (made by `keepsake worker pair`)')
    .action(async (opts: { config?: string }, cmd: Command) => {
      if (!opts.config) throw new KeepsakeError('USAGE', 'keepsake worker needs -c worker.json');
      const g = globals(cmd);
      const { readWorkerConfig } = await import('../pool/worker-config');
      const { startPoolWorker } = await import('../pool/run-worker');
      const config = await readWorkerConfig(opts.config);
      const say = (line: string) => process.stderr.write(`${line}\n`);
      const why = (err: unknown) => (err instanceof Error ? err.message : String(err));
      let troubled = false;
      const running = await startPoolWorker(config, {
        dataDir: resolveDataDir(g.dataDir),
        onTrouble: (err) => {
          if (troubled) return; // said once until a job moves again
          troubled = true;
          say(`waiting for ${config.coordinator}: ${why(err)}`);
        },
        onJobEnd: (id, err) => {
          troubled = false;
          say(err ? `job ${id} failed: ${why(err)}` : `job ${id} done`);
        },
      });
      say(
        `Keepsake worker for ${config.coordinator} (CA ${shortFingerprint(config.caFingerprint)})`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      say('stopping');
      await running.close();
    });

  worker
    .command('pair <url>')
    .description('pair this machine with a server as a worker, using a one-time code')
    .requiredOption('--code <code>', 'the pairing code (`keepsake pair --role worker`)')
    .requiredOption('-o, --out <file>', 'where to write the worker configuration (0600)')
    .option('--name <name>', 'how the server names this worker (default: this host name)')
    .action(
      async (url: string, opts: { code: string; out: string; name?: string }, cmd: Command) => {
        const g = globals(cmd);
        const name = (opts.name ?? hostname()).replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
        const { pairWithServer } = await import('../net/pair-client');
        const { writeWorkerConfig } = await import('../pool/worker-config');
        const paired = await pairWithServer(url, opts.code, name, name);
        await writeWorkerConfig(opts.out, paired);
        output(
          g,
          `Paired with ${paired.url} as worker "${name}"; configuration in ${opts.out}.\nPinned CA fingerprint (SHA-256): ${paired.caFingerprint}\nShort form: ${shortFingerprint(paired.caFingerprint)}\nCompare it with the one the server printed.`,
          { name, url: paired.url, caFingerprint: paired.caFingerprint, config: opts.out },
        );
      },
    );
}
