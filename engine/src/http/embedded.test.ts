// A real server on port 0 per test, driven over real HTTP. node:http is used rather than
// fetch because fetch refuses to send forged Host headers, which one test needs.

import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { networkInterfaces } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CODES, KeepsakeError } from '../core/errors';
import { freshDir, TEST_SCRYPT } from '../testing/tmp';
import { createVault } from '../vault/keyring';
import { ENGINE_VERSION } from '../core/version';
import { CONTENT_SECURITY_POLICY, startEmbeddedServer } from './embedded';
import type { EmbeddedServer, EmbeddedServerOptions } from './embedded';

const running: EmbeddedServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(opts: Partial<EmbeddedServerOptions> = {}): Promise<EmbeddedServer> {
  const server = await startEmbeddedServer({ dataDir: await freshDir(), port: 0, ...opts });
  running.push(server);
  return server;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: () => unknown;
}

function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; host?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest(
      {
        host: options.host ?? target.hostname,
        port: target.port,
        // The raw path, so percent-encoding reaches the server as written.
        path: url.slice(target.origin.length),
        method: options.method ?? 'GET',
        headers: options.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const bearer = (server: EmbeddedServer) => ({ authorization: `Bearer ${server.token}` });

describe('embedded server', () => {
  it('listens on 127.0.0.1 with a fresh random token per launch', async () => {
    const a = await start();
    const b = await start();
    expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(a.port).toBeGreaterThan(0);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

  // Skipped on a machine with no non-loopback IPv4 address to try.
  it.skipIf(!external)('is not reachable on a non-loopback address', async () => {
    const server = await start();
    const err = await call(`http://${external}:${server.port}/live`).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).toBe('ECONNREFUSED');
  });

  it('answers /live without a token, with the security headers', async () => {
    const server = await start();
    const res = await call(`${server.url}/live`);
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses /v1/status without the right token', async () => {
    const server = await start();
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: server.token },
      { authorization: `Basic ${server.token}` },
      { authorization: `Bearer ${server.token}x` },
    ];
    for (const headers of attempts) {
      const res = await call(`${server.url}/v1/status`, { headers });
      expect(res.status).toBe(401);
      expect(res.json()).toEqual({
        code: 'UNAUTHORIZED',
        message: 'missing or wrong bearer token',
      });
      expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    }
  });

  it('applies the token check however the path is spelt', async () => {
    const server = await start();
    for (const path of ['/%761/status', '/v1/%73tatus', '/v1/status/', '/V1/status']) {
      const res = await call(`${server.url}${path}`);
      expect(res.status, path).not.toBe(200);
      expect(res.text).not.toContain('dataDir');
    }
  });

  it('reports version, data dir, vault and FFmpeg with the token', async () => {
    const dataDir = await freshDir();
    const server = await start({ dataDir });
    const res = await call(`${server.url}/v1/status`, { headers: bearer(server) });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json() as Record<string, unknown>;
    expect(body).toMatchObject({
      version: ENGINE_VERSION,
      dataDir,
      vault: { exists: false, dir: join(dataDir, 'vault') },
    });
    expect(body.ffmpeg).toEqual({
      source: expect.stringMatching(/^(ffmpeg-static|npm-package|system|env)$/),
      version: expect.stringMatching(/\S/),
    });

    await createVault(join(dataDir, 'vault'), 'correct horse', {
      recovery: false,
      scrypt: TEST_SCRYPT,
    });
    const after = await call(`${server.url}/v1/status`, { headers: bearer(server) });
    expect(after.json()).toMatchObject({ vault: { exists: true } });
  });

  it('reports a missing FFmpeg as an error inside the status', async () => {
    const server = await start({
      ffmpeg: { env: { PATH: '/nonexistent-keepsake-path' }, resolveFrom: await freshDir() },
    });
    const res = await call(`${server.url}/v1/status`, { headers: bearer(server) });
    expect(res.status).toBe(200);
    expect((res.json() as { ffmpeg: unknown }).ffmpeg).toEqual({
      error: {
        code: 'FFMPEG_NOT_FOUND',
        message: expect.stringContaining('no usable ffmpeg found'),
      },
    });
  });

  it('refuses foreign origins and never emits CORS headers', async () => {
    const server = await start();
    const foreign = await call(`${server.url}/v1/status`, {
      headers: { ...bearer(server), origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.json()).toMatchObject({ code: 'FORBIDDEN_ORIGIN' });
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();

    const preflight = await call(`${server.url}/v1/status`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-headers']).toBeUndefined();

    for (const origin of ['null', `http://localhost.evil.example:${server.port}`]) {
      const res = await call(`${server.url}/live`, { headers: { origin } });
      expect(res.status, origin).toBe(403);
    }

    const own = await call(`${server.url}/v1/status`, {
      headers: { ...bearer(server), origin: server.url },
    });
    expect(own.status).toBe(200);
    expect(own.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const server = await start();
    const res = await call(`${server.url}/live`, {
      headers: { host: `rebind.evil.example:${server.port}` },
    });
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({ code: 'FORBIDDEN_ORIGIN' });
    const viaLocalhost = await call(`${server.url}/live`, {
      headers: { host: `localhost:${server.port}` },
    });
    expect(viaLocalhost.status).toBe(200);
  });

  it('shapes every error as {code, message} and hides internal details', async () => {
    const logged: unknown[] = [];
    const server = await start({
      logError: (err) => logged.push(err),
      routes: async (v1) => {
        v1.get('/v1/known-failure', async () => {
          throw new KeepsakeError('VAULT_NOT_FOUND', 'no vault here');
        });
        v1.get('/v1/bug', async () => {
          throw new Error('secret detail /home/someone/key');
        });
        v1.post('/v1/echo', async (request) => request.body);
      },
    });
    const get = (path: string) => call(`${server.url}${path}`, { headers: bearer(server) });

    const known = await get('/v1/known-failure');
    expect(known.status).toBe(ERROR_CODES.VAULT_NOT_FOUND.status);
    expect(known.json()).toEqual({ code: 'VAULT_NOT_FOUND', message: 'no vault here' });

    const bug = await get('/v1/bug');
    expect(bug.status).toBe(500);
    expect(bug.json()).toEqual({ code: 'INTERNAL', message: ERROR_CODES.INTERNAL.summary });
    expect(bug.text).not.toContain('secret');
    expect(logged).toHaveLength(1);
    expect((logged[0] as Error).message).toContain('secret detail');

    const malformed = await call(`${server.url}/v1/echo`, {
      method: 'POST',
      headers: { ...bearer(server), 'content-type': 'application/json' },
      body: '{"unterminated',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.json()).toMatchObject({ code: 'USAGE', message: expect.any(String) });

    const missing = await get('/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({
      code: 'ROUTE_NOT_FOUND',
      message: 'no such page or API route: GET /v1/nothing-here',
    });
  });

  it('serves the built renderer when its folder exists', async () => {
    const staticDir = await freshDir();
    await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>Keepsake</title>');
    await mkdir(join(staticDir, 'assets'));
    await writeFile(join(staticDir, 'assets', 'app-1234.js'), 'console.log(1)');
    const server = await start({ staticDir });

    const index = await call(`${server.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.text).toContain('<title>Keepsake</title>');
    expect(index.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);

    const asset = await call(`${server.url}/assets/app-1234.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);

    const escape = await call(`${server.url}/%2e%2e/%2e%2e/etc/passwd`);
    expect(escape.status).not.toBe(200);
    expect(escape.text).not.toContain('root:');
  });

  it('answers / with a JSON 404 when there is no renderer build', async () => {
    const server = await start({ staticDir: join(await freshDir(), 'missing') });
    const res = await call(`${server.url}/`);
    expect(res.status).toBe(404);
    expect(res.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
  });

  it('stops listening on close', async () => {
    const server = await startEmbeddedServer({ dataDir: await freshDir(), port: 0 });
    await server.close();
    const err = await call(`${server.url}/live`).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).toBe('ECONNREFUSED');
  });
});
