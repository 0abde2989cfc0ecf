// A real desktop engine for API tests: `keepsake desktop` on port 0 with a fresh data
// folder, cheap key derivation, a private scratch and a fast worker, closed after each
// test; and a tiny client that speaks its bearer-token API.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { runDesktop, type RunningDesktop } from '../desktop/desktop-entry';
import { testScratch } from './media';
import { TEST_SCRYPT, freshDir } from './tmp';

/** A password the vault's strength policy accepts. */
export const TEST_PASSWORD = 'correct horse battery staple';

const running: RunningDesktop[] = [];
afterEach(async () => {
  for (const engine of running.splice(0).reverse()) await engine.close();
});

export type TestDesktop = RunningDesktop & { api: DesktopApi };

export async function startTestDesktop(config?: object): Promise<TestDesktop> {
  const dataDir = join(await freshDir(), 'data');
  if (config) {
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'config.json'), JSON.stringify(config));
  }
  const engine = await runDesktop({
    dataDir,
    out: { write: () => true } as unknown as NodeJS.WritableStream,
    session: {
      scrypt: TEST_SCRYPT,
      scratch: await testScratch(),
      concurrency: 1,
      worker: { pollMs: 50, heartbeatMs: 100 },
    },
  });
  running.push(engine);
  return { ...engine, api: desktopApi(engine) };
}

export type DesktopApi = ReturnType<typeof desktopApi>;

export function desktopApi(engine: { url: string; token: string }) {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${engine.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${engine.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  return {
    call,
    get: <T>(path: string) => call('GET', path).then((r) => r.body as T),
    post: (path: string, body?: unknown) => call('POST', path, body),
  };
}

/** Polls `fn` until `ok` holds (or fails after `ms`), returning the value that passed. */
export async function until<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
