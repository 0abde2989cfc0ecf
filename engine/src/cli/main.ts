// The `keepsake` command line. Each command is a thin shell over the engine library:
// parse, unlock, call, report. Errors are KeepsakeErrors from the one registry, shown as
// `keepsake: <message> [CODE]` (or JSON with --json) with the registry's exit status.

import { Command, CommanderError } from 'commander';
import { ERROR_CODES, KeepsakeError, fromSqliteError } from '../core/errors';
import { registerBatchCommands } from './batch-commands';
import { disableCoreDumps } from './no-core-dumps';
import { printable } from './printable';
import { registerDbCommands } from './db-commands';
import { registerChunkedCommands } from './chunked-commands';
import { registerFileCommands } from './file-commands';
import { registerVaultCommands } from './vault-commands';
import { registerSystemCommands } from './system-commands';
import { registerPresetCommands } from './preset-commands';
import { registerJobCommands } from './job-commands';
import { registerLibraryCommands } from './library-commands';
import { registerServerCommands } from './server-commands';
import { registerRemoteCommands } from './remote-commands';
import { registerWorkerCommands } from './worker-commands';
import { registerTapeCommands } from './tape-commands';
import { ENGINE_VERSION } from '../core/version';

export function buildProgram(): Command {
  const program = new Command('keepsake')
    .description('Keepsake: private encryption and encoding for family media')
    .version(ENGINE_VERSION)
    .option(
      '--data-dir <dir>',
      'engine data directory (default: KEEPSAKE_HOME or the per-user app-data folder)',
    )
    .option('--vault <dir>', 'vault directory (default: the vault inside the data directory)')
    .option('--password-file <file>', 'read the vault password from the first line of this file')
    .option(
      '--recovery-key-file <file>',
      'unlock with the recovery key in this file instead of the password',
    )
    .option('--json', 'machine-readable output on stdout (and JSON progress lines on stderr)')
    .option('-q, --quiet', 'no progress output')
    .option(
      '--fsync',
      'flush every written file to disk before it is renamed into place (survives power loss)',
    )
    .showHelpAfterError()
    .exitOverride();
  registerVaultCommands(program);
  registerFileCommands(program);
  registerBatchCommands(program);
  registerChunkedCommands(program);
  registerSystemCommands(program);
  registerPresetCommands(program);
  registerJobCommands(program);
  registerLibraryCommands(program);
  registerTapeCommands(program);
  registerServerCommands(program);
  registerRemoteCommands(program);
  registerWorkerCommands(program);
  registerDbCommands(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // Before any password or key is read: a core dump would hold them in the clear.
  disableCoreDumps();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    return reportError(err, argv.includes('--json'));
  }
}

function reportError(err: unknown, json: boolean): number {
  if (err instanceof CommanderError) {
    // Help and --version "fail" with exit code 0; usage mistakes get the USAGE status.
    return err.exitCode === 0 ? 0 : ERROR_CODES.USAGE.exit;
  }
  const known =
    err instanceof KeepsakeError
      ? err
      : (fromSqliteError(err) ??
        new KeepsakeError(
          'INTERNAL',
          `unexpected error: ${err instanceof Error ? err.message : String(err)}`,
        ));
  if (json) process.stdout.write(JSON.stringify({ ok: false, ...known.toJSON() }) + '\n');
  // Messages name files, and names can hold control characters: shown escaped.
  process.stderr.write(`keepsake: ${printable(known.message)} [${known.code}]\n`);
  if (process.env.KEEPSAKE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return known.exitCode;
}
