// A real Redis for tests: Debian's redis-server on a free loopback port, with a
// throw-away folder, stopped after the test. Tests that need it skip, saying why, only
// when redis-server is not installed (`.ci/run` installs it).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { freshDir } from './tmp';

export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) =>
  existsSync(p),
);

/** Why Redis tests skip, or undefined when they run. */
export const NO_REDIS = REDIS_SERVER
  ? undefined
  : 'redis-server is not installed (apt-get install redis-server; .ci/run does)';

export interface TestRedis {
  port: number;
  url: string;
  /** Its working folder: the RDB and AOF files are written here. */
  dir: string;
  /** Sends a command (RESP inline) and returns the raw reply. */
  command(...args: string[]): Promise<string>;
  /** Kills it (SIGKILL: no last save). */
  kill(): Promise<void>;
  /** Starts it again on the same port and folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<TestRedis>();

afterEach(async () => {
  await Promise.all([...running].map((r) => r.stop()));
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server. `persist: 'aof'` keeps an append-only file (fsync always), so a
 * killed server comes back with its data; by default nothing is saved.
 */
export async function startRedis(
  options: { persist?: 'aof' | 'none'; /** Clients must AUTH with it. */ password?: string } = {},
): Promise<TestRedis> {
  if (!REDIS_SERVER) throw new Error(NO_REDIS);
  const dir = await freshDir('keepsake-redis-');
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--daemonize',
    'no',
    '--logfile',
    join(dir, 'redis.log'),
    ...(options.password ? ['--requirepass', options.password] : []),
    ...(options.persist === 'aof'
      ? ['--appendonly', 'yes', '--appendfsync', 'always']
      : ['--appendonly', 'no']),
  ];
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
    await waitForPing(port);
  };
  const halt = async (signal: NodeJS.Signals) => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    current.kill(signal);
    await exited;
  };
  await launch();
  const redis: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    command: (...command) => sendCommand(port, command),
    kill: () => halt('SIGKILL'),
    restart: launch,
    async stop() {
      running.delete(redis);
      await halt('SIGKILL');
    },
  };
  running.add(redis);
  return redis;
}

async function waitForPing(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if (/^(\+PONG|-NOAUTH)/.test(await sendCommand(port, ['PING']))) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One command over a fresh socket, in RESP; the first reply's bytes, as text. */
function sendCommand(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let reply = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('redis: no reply')));
    socket.once('error', reject);
    socket.connect(port, '127.0.0.1', () => {
      socket.write(
        `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''),
      );
    });
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.endsWith('\r\n')) {
        socket.end();
        resolve(reply);
      }
    });
  });
}
