// Runs the real `keepsake` CLI (engine/bin/keepsake.mjs) in a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { freshDir } from './tmp';

export const CLI = fileURLToPath(new URL('../../bin/keepsake.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  /** Run as this user id (root-only): lets tests make files unreadable. */
  uid?: number;
  stdin?: Buffer;
}

export function startCli(args: string[], options: CliOptions = {}): ChildProcess {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
  };
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;
  return spawn(process.execPath, [CLI, ...args], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}),
  });
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = startCli(args, options);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => err.push(d));
  child.stdin!.end(options.stdin ?? Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString(),
        stdoutBytes: Buffer.concat(out),
        stderr: Buffer.concat(err).toString(),
      }),
    );
  });
}

/** A data dir with an initialised vault (cheap scrypt) and the env to use it. */
export async function cliVault(password = 'family photos 1987') {
  const dir = await freshDir();
  // World-accessible so that tests may run the CLI as an unprivileged user.
  await chmod(dir, 0o777);
  const env = { KEEPSAKE_HOME: `${dir}/home`, KEEPSAKE_PASSWORD: password };
  const init = await runCli(['vault', 'init', '--kdf-log-n', '10', '--json'], { env });
  if (init.code !== 0) throw new Error(`vault init failed: ${init.stderr}`);
  return { dir, env, init: JSON.parse(init.stdout) as { vaultId: string; recoveryKey: string } };
}
