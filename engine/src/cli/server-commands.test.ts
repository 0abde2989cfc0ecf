// `keepsake serve`, `validate`, `user` and `kek` through the real CLI.

import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { pinnedAgent } from '../net/pinning';
import { CLI, runCli, startCli } from '../testing/cli';
import { makeClip, testScratch } from '../testing/media';
import { freshDir } from '../testing/tmp';

async function setup() {
  const dir = await freshDir();
  const scratch = await testScratch();
  const env = {
    KEEPSAKE_SCRATCH: scratch.configured!,
  };
  const kekFile = join(dir, 'kek');
  const config = join(dir, 'serve.json');
  const settings = { port: 0, kekFile, dataDir: join(dir, 'data') };
  await writeFile(config, JSON.stringify(settings));
  expect((await runCli(['kek', 'generate', kekFile], { env })).code).toBe(0);
  return { dir, env, config, settings };
}

/** Lines of JSON logs as they arrive on a child's stdout. */
function logLines(child: ReturnType<typeof startCli>) {
  const lines: Record<string, unknown>[] = [];
  let pending = '';
  child.stdout!.on('data', (d: Buffer) => {
    pending += d.toString();
    const parts = pending.split('\n');
    pending = parts.pop()!;
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  return {
    lines,
    async waitFor(msg: string, after = 0) {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const found = lines.slice(after).find((l) => l.msg === msg);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no "${msg}" log line; got ${JSON.stringify(lines)}`);
    },
  };
}

describe('keepsake serve and friends', () => {
  it('validate names what is wrong with a configuration', async () => {
    const { dir, env, config } = await setup();
    expect((await runCli(['validate', '-c', config], { env })).code).toBe(0);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ port: 70000, hostnmes: ['x'] }));
    const res = await runCli(['validate', '-c', bad], { env });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/unknown setting "hostnmes"/);
    expect(res.stderr).toMatch(/\/port must be <= 65535/);
  });

  it('validate --json never prints the upstream proxy’s password', async () => {
    const config = join(await freshDir(), 'serve.json');
    await writeFile(
      config,
      JSON.stringify({ port: 0, upstreamProxy: 'socks5://gran:hunter2@10.0.0.2:1080' }),
    );
    const res = await runCli(['--json', 'validate', '-c', config]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('socks5://gran@10.0.0.2:1080');
    expect(res.stdout + res.stderr).not.toContain('hunter2');
  });

  it('validate checks a routes file, by -c or --routes, naming the field and line', async () => {
    const dir = await freshDir();
    const example = join(CLI, '..', '..', '..', 'docs', 'examples', 'routes.yaml');
    const ok = await runCli(['validate', '-c', example]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/routes\.yaml: valid \(2 routes\)/);
    expect(ok.stdout).toMatch(
      /family-tv: tv\.example\.com, \*\.cdn\.example\.net -> https:\/\/origin/,
    );
    // Detected by content too (JSON is YAML), and named explicitly with --routes.
    const json = join(dir, 'routes.json');
    await writeFile(
      json,
      JSON.stringify({ routes: [{ hosts: ['a.test'], upstream: 'https://o.test' }] }),
    );
    expect((await runCli(['validate', '-c', json])).stdout).toMatch(/valid \(1 route\)/);
    const bad = join(dir, 'routes.yml');
    await writeFile(bad, 'routes:\n  - hosts: [a.test]\n    upstream: file:///etc/passwd\n');
    for (const args of [
      ['-c', bad],
      ['--routes', bad],
    ]) {
      const res = await runCli(['validate', ...args]);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/line 3: routes\[0\]\.upstream "file:\/\/\/etc\/passwd" must be/);
    }
    expect((await runCli(['validate'])).code).toBe(2);
  });

  it('user add prints the key once; the store keeps it sealed', async () => {
    const { env, config, settings } = await setup();
    const add = await runCli(['user', 'add', 'alice', '--role', 'client', '-c', config, '--json'], {
      env,
    });
    expect(add.code, add.stderr).toBe(0);
    const issued = JSON.parse(add.stdout) as { clientId: string; key: string };
    expect(issued.clientId).toMatch(/^ks_/);
    const db = await readFile(join(settings.dataDir, 'engine.db'));
    expect(db.includes(Buffer.from(issued.key, 'base64'))).toBe(false);
    const list = await runCli(['user', 'list', '-c', config], { env });
    expect(list.stdout).toMatch(/alice\s+client\s+active/);
    expect(list.stdout).not.toContain(issued.key);
    const dup = await runCli(['user', 'add', 'alice', '--role', 'admin', '-c', config], { env });
    expect(dup.stderr).toMatch(/CREDENTIAL_EXISTS/);
  });

  it('serve prints its URL and CA fingerprint; SIGHUP keeps the old settings when the new are bad', async () => {
    const { env, config, settings } = await setup();
    const child = startCli(['serve', '-c', config], { env });
    child.stdin!.end();
    const exited = new Promise<number | null>((r) => child.on('close', r));
    const logs = logLines(child);
    const listening = await logs.waitFor('listening');
    const url = listening.url as string;
    expect(listening.caFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const ca = await readFile(join(settings.dataDir, 'tls', 'ca.crt'), 'utf8');
    const agent = pinnedAgent(ca, listening.caFingerprint as string);
    const live = (u: string) =>
      request(`${u}/live`, { dispatcher: agent }).then(async (r) => [
        r.statusCode,
        await r.body.json(),
      ]);
    expect(await live(url)).toEqual([200, { ok: true }]);

    await writeFile(config, '{"port": "not a port"}');
    const seen = logs.lines.length;
    child.kill('SIGHUP');
    const refused = await logs.waitFor(
      'configuration reload refused; the previous one stays in force',
      seen,
    );
    expect(String(refused.reason)).toMatch(/port/);
    expect(await live(url)).toEqual([200, { ok: true }]);

    await writeFile(
      config,
      JSON.stringify({
        ...settings,
        rateLimit: { perClient: 5, perAddress: 50, windowSeconds: 10 },
      }),
    );
    const before = logs.lines.length;
    child.kill('SIGHUP');
    const reloaded = await logs.waitFor('configuration reloaded', before);
    expect(await live(reloaded.url as string)).toEqual([200, { ok: true }]);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await agent.close();
  });

  it('pair refuses a data folder no server has run in, instead of making a new identity there', async () => {
    const { dir, env } = await setup();
    const home = join(dir, 'someone-else');
    const pair = await runCli(['pair'], { env: { ...env, KEEPSAKE_HOME: home } });
    expect(pair.code).not.toBe(0);
    expect(pair.stderr).toMatch(/no server runs with this data folder/);
    expect(pair.stderr).toContain(home);
    await expect(readdir(join(home, 'tls'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('pair on the server, remote add and job submit --remote on the desktop', async () => {
    const { dir, env, config } = await setup();
    const server = startCli(['serve', '-c', config], { env });
    server.stdin!.end();
    const exited = new Promise<number | null>((r) => server.on('close', r));
    const url = (await logLines(server).waitFor('listening')).url as string;

    const pair = await runCli(['pair', '-c', config, '--json'], { env });
    expect(pair.code, pair.stderr).toBe(0);
    const { code, caFingerprint } = JSON.parse(pair.stdout) as {
      code: string;
      caFingerprint: string;
    };
    expect(code).toMatch(/^[A-Z2-9]{5}-[A-Z2-9]{5}$/);

    const desktopEnv = {
      ...env,
      KEEPSAKE_HOME: join(dir, 'desktop'),
      KEEPSAKE_PASSWORD: 'quiet lantern orchard',
    };
    expect(
      (await runCli(['vault', 'init', '--kdf-log-n', '10', '--no-recovery'], { env: desktopEnv }))
        .code,
    ).toBe(0);
    const add = await runCli(['remote', 'add', url, '--code', code, '--name', 'lxc', '--json'], {
      env: desktopEnv,
    });
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ name: 'lxc', caFingerprint });
    const unknown = await runCli(['job', 'submit', '/x', '--preset', 'remux', '--remote', 'nope'], {
      env: desktopEnv,
    });
    expect(unknown.stderr).toMatch(/no paired server named "nope"/);

    const clip = await makeClip(dir);
    const out = join(dir, 'out');
    const job = await runCli(
      ['job', 'submit', clip, '--preset', 'remux', '--remote', 'lxc', '--out', out, '--json'],
      { env: desktopEnv },
    );
    expect(job.code, job.stderr).toBe(0);
    expect(JSON.parse(job.stdout)).toMatchObject({
      job: { state: 'succeeded' },
      decrypted: [join(out, 'remux.mkv')],
    });
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
