// `keepsake remote …`: the servers this engine is paired with.

import type { Command } from 'commander';
import { hostname } from 'node:os';
import { resolveDataDir } from '../core/data-dir';
import { KeepsakeError } from '../core/errors';
import { listRemotes, removeRemote, saveRemote } from '../remote/remotes';
import { shortFingerprint } from '../net/fingerprint';
import { globals, openVault, output } from './context';

export function registerRemoteCommands(program: Command): void {
  const remote = program.command('remote').description('servers this engine sends jobs to');

  remote
    .command('add <url>')
    .description('pair with a server using the one-time code it printed (`keepsake pair`)')
    .requiredOption('--code <code>', 'the pairing code')
    .option('--name <name>', 'what to call this server here (default: its host name)')
    .option('--client-name <name>', 'how the server names this engine (default: this host name)')
    .action(
      async (
        url: string,
        opts: { code: string; name?: string; clientName?: string },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        const vault = await openVault(g);
        const dataDir = resolveDataDir(g.dataDir);
        const name = opts.name ?? new URL(url).hostname;
        if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
          throw new KeepsakeError('USAGE', `--name "${name}" must be 1-64 of A-Z a-z 0-9 . _ -`);
        }
        const clientName = (opts.clientName ?? hostname())
          .replace(/[^A-Za-z0-9._-]/g, '-')
          .slice(0, 64);
        const { pairWithServer } = await import('../net/pair-client');
        const paired = await pairWithServer(url, opts.code, clientName, name);
        await saveRemote(dataDir, vault, paired);
        output(
          g,
          `Paired with ${paired.url} as "${name}".\nPinned CA fingerprint (SHA-256): ${paired.caFingerprint}\nShort form: ${shortFingerprint(paired.caFingerprint)}\nCompare it with the one the server printed.`,
          { name, url: paired.url, caFingerprint: paired.caFingerprint, clientId: paired.clientId },
        );
      },
    );

  remote
    .command('list')
    .description('list paired servers')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const remotes = await listRemotes(resolveDataDir(g.dataDir));
      const text = remotes
        .map((r) => `${r.name.padEnd(16)} ${r.url}  CA ${r.caFingerprint.slice(0, 23)}…`)
        .join('\n');
      output(g, text || 'No paired servers.', { remotes });
    });

  remote
    .command('remove <name>')
    .description('forget a paired server (revoke its credential on the server too)')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      await removeRemote(resolveDataDir(g.dataDir), name);
      output(g, `Removed "${name}".`, { removed: name });
    });
}
