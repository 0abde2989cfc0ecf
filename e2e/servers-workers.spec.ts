// The Servers screen with a server's helpers: a real `keepsake serve` with two real
// `keepsake worker`s on this machine (one FFmpeg thread each), paired with the desktop;
// the card says in plain words how many helpers there are and what each is doing, idle
// and then making a copy of a job the desktop sent.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { startEngine, type RunningEngine } from './engine';
import { nav, shot } from './ui';

const run = promisify(execFile);
const cli = join(process.cwd(), 'engine/bin/keepsake.mjs');

let engine: RunningEngine;
let media: string;

test.beforeAll(async () => {
  media = await mkdtemp(join(tmpdir(), 'keepsake-e2e-helpers-'));
  await mkdir(join(media, 'Tapes'), { recursive: true });
  // Long enough at 720p that a one-thread helper is still at it when the screen looks.
  await run('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=duration=40:size=1280x720:rate=30',
    '-f',
    'lavfi',
    '-i',
    'sine=duration=40',
    '-shortest',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    join(media, 'Tapes', 'christmas.mp4'),
  ]);
});

test.afterAll(async () => {
  await rm(media, { recursive: true, force: true });
});

test.beforeEach(async () => {
  engine = await startEngine();
});

test.afterEach(async () => {
  expect(await engine.stop()).toBe(0);
});

/** `keepsake serve` on loopback, and helpers paired with it by one-time codes. */
async function startServer() {
  const dataDir = await mkdtemp(join(tmpdir(), 'keepsake-e2e-serve-'));
  const kek = join(dataDir, 'kek');
  await writeFile(kek, randomBytes(32).toString('base64'), { mode: 0o600 });
  const env = { ...process.env, KEEPSAKE_KEK_FILE: kek };
  const children: ChildProcess[] = [];
  // The server runs no job itself (concurrency 0): every job goes to a helper.
  const config = join(dataDir, 'serve.json');
  await writeFile(config, JSON.stringify({ host: '127.0.0.1', port: 0, concurrency: 0 }));
  const child = spawn(process.execPath, [cli, '--data-dir', dataDir, 'serve', '-c', config], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve not ready: ${out}`)), 30_000);
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /Keepsake server at (https:\/\/\S+)\nCA fingerprint \(SHA-256\): (\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  const url = ready[1] ?? '';
  const code = async (role: 'client' | 'worker') => {
    const { stdout } = await run(
      process.execPath,
      [cli, '--data-dir', dataDir, '--json', 'pair', '--role', role],
      { env },
    );
    return (JSON.parse(stdout) as { code: string }).code;
  };
  return {
    url,
    fingerprint: ready[2] ?? '',
    code,
    async helper(name: string) {
      const file = join(dataDir, `${name}.json`);
      const home = join(dataDir, `helper-${name}`);
      await run(
        process.execPath,
        [cli, 'worker', 'pair', url, '--code', await code('worker'), '-o', file, '--name', name],
        { env: { ...process.env, KEEPSAKE_HOME: home } },
      );
      const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      await writeFile(file, JSON.stringify({ ...config, threads: 1 }), { mode: 0o600 });
      children.push(
        spawn(process.execPath, [cli, 'worker', '-c', file], {
          env: { ...process.env, KEEPSAKE_HOME: home },
          stdio: 'ignore',
        }),
      );
    },
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGTERM');
            }),
        ),
      );
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

test("a server's card says what its helpers are doing", async ({ page, request }, testInfo) => {
  test.setTimeout(240_000);
  const server = await startServer();
  try {
    await server.helper('kitchen-pc');
    await server.helper('nas');
    const auth = { authorization: `Bearer ${engine.token}` };
    const api = (method: 'GET' | 'POST', path: string, data?: unknown) =>
      request.fetch(`${engine.origin}${path}`, { method, headers: auth, data });
    expect(
      (await api('POST', '/v1/vault', { password: 'gardenia kettle seven rivers' })).status(),
    ).toBe(201);
    const folder = (await (
      await api('POST', '/v1/library', { path: join(media, 'Tapes') })
    ).json()) as { id: string };
    expect((await api('POST', `/v1/library/${folder.id}/encrypt`)).status()).toBe(202);
    const paired = await api('POST', '/v1/servers', {
      name: 'home-server',
      url: server.url,
      code: await server.code('client'),
      fingerprint: server.fingerprint,
    });
    expect(paired.status(), await paired.text()).toBeLessThan(300);
    await expect
      .poll(
        async () =>
          ((await (await api('GET', '/v1/library')).json()) as { encrypted: number }[])[0]
            ?.encrypted,
      )
      .toBe(1);

    await page.goto(engine.openUrl);
    await nav(page, 'Servers').click();
    const card = page.getByRole('listitem', { name: 'home-server', exact: true });
    const helpers = card.getByTestId('server-helpers');
    await expect(async () => {
      await page.reload();
      await nav(page, 'Servers').click();
      await expect(helpers).toHaveText(
        /^2 helpers: (kitchen-pc|nas) is idle; (kitchen-pc|nas) is idle$/,
        {
          timeout: 2_000,
        },
      );
    }).toPass({ timeout: 60_000 });
    await shot(page, testInfo, 'servers-helpers-idle');

    // A copy made on the server: one helper takes it.
    await nav(page, 'Make').click();
    await page.getByText('Advanced: choose the exact settings yourself').click();
    const picker = page.getByLabel('File', { exact: true });
    const option = picker.locator('option', { hasText: 'christmas.mp4' });
    await picker.selectOption((await option.getAttribute('value')) ?? '');
    await page.getByRole('radio', { name: /^web-h264/ }).check();
    await page.getByRole('radio', { name: /^home-server/ }).check();
    await page.getByRole('button', { name: 'Start job' }).click();
    await nav(page, 'Servers').click();
    await expect(async () => {
      await page.reload();
      await nav(page, 'Servers').click();
      await expect(helpers).toHaveText(
        /^2 helpers: (kitchen-pc is making 1 copy; nas is idle|kitchen-pc is idle; nas is making 1 copy|nas is making 1 copy; kitchen-pc is idle|nas is idle; kitchen-pc is making 1 copy)$/,
        { timeout: 2_000 },
      );
    }).toPass({ timeout: 120_000 });
    await shot(page, testInfo, 'servers-helpers-busy');
  } finally {
    await server.stop();
  }
});
