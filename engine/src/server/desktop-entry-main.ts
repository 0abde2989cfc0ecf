// Process entry for desktop mode, until the `keepsake desktop` command wraps it:
//   node --import tsx engine/src/server/desktop-entry-main.ts [--data-dir D] [--port N] [--static-dir S]
// The data dir defaults like the CLI's (--data-dir, KEEPSAKE_HOME, OS default).

import { parseArgs } from 'node:util';
import { resolveDataDir } from '../data-dir';
import { KeepsakeError } from '../errors';
import { runDesktop } from './desktop-entry';

async function main(argv: string[]): Promise<void> {
  const values = parseFlags(argv);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new KeepsakeError(
      'USAGE',
      `--port must be a number from 0 to 65535, not "${values.port}"`,
    );
  }
  const running = await runDesktop({
    dataDir: resolveDataDir(values['data-dir']),
    port,
    staticDir: values['static-dir'],
  });
  await running.stopped;
}

function parseFlags(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
        port: { type: 'string', default: '0' },
        'static-dir': { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (err) {
    throw new KeepsakeError('USAGE', err instanceof Error ? err.message : String(err));
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const known = err instanceof KeepsakeError;
  process.stderr.write(`keepsake: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = known ? err.exitCode : 1;
});
