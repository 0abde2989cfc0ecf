// Starts the engine exactly as `npm start` and the Electron app do (`keepsake desktop`),
// on port 0 with a fresh data dir, serving the built renderer.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = join(root, 'engine/bin/keepsake.mjs');
export const rendererDist = join(root, 'renderer/dist');
const READY = /^Keepsake is running at (http:\/\/127\.0\.0\.1:\d+)\/#token=([\w-]+)$/m;

export interface RunningEngine {
  /** What the engine printed: origin + `/#token=…`. */
  openUrl: string;
  origin: string;
  token: string;
  dataDir: string;
  /** SIGTERM, then the exit code; the data folder is removed. */
  stop(): Promise<number | null>;
  /** SIGTERM, then the exit code; the data folder stays for a restart. */
  halt(): Promise<number | null>;
}

export interface StartOptions {
  /** An existing data folder (a restart); a fresh one by default. */
  dataDir?: string;
  /**
   * Browser mode, as `npm start` runs it: no `--port`, so the engine keeps its last port
   * and token in the data folder. Default: `--port 0`, a new address each start (the app).
   */
  keepAddress?: boolean;
}

export async function startEngine(options: StartOptions = {}): Promise<RunningEngine> {
  if (!existsSync(join(rendererDist, 'index.html'))) {
    throw new Error(
      'renderer/dist is missing: run `npm run build:renderer` (npm run test:e2e does)',
    );
  }
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'keepsake-e2e-')));
  const port = options.keepAddress ? [] : ['--port', '0'];
  const child = spawn(
    process.execPath,
    [entry, 'desktop', '--data-dir', dataDir, ...port, '--static-dir', rendererDist],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`engine not ready in 30 s: ${stderr}`)),
      30_000,
    );
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = READY.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    void exited.then((code) =>
      reject(new Error(`engine exited (${code}) before ready: ${stderr}`)),
    );
  });
  const [line, origin = '', token = ''] = match;
  return {
    openUrl: line.slice('Keepsake is running at '.length),
    origin,
    token,
    dataDir,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      await rm(dataDir, { recursive: true, force: true });
      return code;
    },
    async halt() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
