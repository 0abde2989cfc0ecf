// The client against a recording fetch and against a real HTTP server on port 0 that
// plays the engine's part of the contract; the real engine round trip is the e2e test.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from './api-routes';
import {
  apiPath,
  createEngineClient,
  EngineError,
  needsVault,
  tokenFromHash,
} from './engine-client';
import type { ApiRequest, EngineClient } from './engine-client';
import { runSseStream } from './sse';

type RouteName = keyof typeof API_ROUTES;

/** A route's path from the table, `:params` replaced by the (already encoded) values given. */
function pathOf(name: RouteName, values: Record<string, string> = {}): string {
  return API_ROUTES[name][1].replace(/:(\w+)/g, (_match, key: string) => values[key] ?? '');
}
/** `METHOD /path`, as the stand-in engine below routes requests. */
const at = (name: RouteName, values?: Record<string, string>) =>
  `${API_ROUTES[name][0]} ${pathOf(name, values)}`;

describe('tokenFromHash', () => {
  it.each([
    ['#token=abc_DEF-123', 'abc_DEF-123'],
    ['#view=status&token=t0k', 't0k'],
    ['#token=a%2Bb', 'a+b'],
    ['token=bare', 'bare'],
  ])('reads %j', (hash, token) => {
    expect(tokenFromHash(hash)).toBe(token);
  });

  it.each(['', '#', '#token=', '#tok=abc', '#tokens=abc'])('finds none in %j', (hash) => {
    expect(tokenFromHash(hash)).toBeUndefined();
  });
});

function recordingFetch(respond: () => Response | Promise<Response>) {
  const calls: { url: string; headers: Record<string, string> }[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), headers: { ...(init?.headers as Record<string, string>) } });
    return respond();
  };
  return { calls, fetch: fetch as typeof globalThis.fetch };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

async function failure(promise: Promise<unknown>): Promise<EngineError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof EngineError)) throw new Error(`expected an EngineError, got ${String(err)}`);
  return err;
}

describe('engine client', () => {
  const status = {
    version: '0.1.0',
    dataDir: '/d',
    vault: { exists: false, dir: '/d/vault' },
    ffmpeg: { source: 'system', version: '7.1' },
  };

  it('sends the bearer token to /v1/status and returns the body', async () => {
    const rec = recordingFetch(() => json(200, status));
    const client = createEngineClient({
      baseUrl: 'http://127.0.0.1:9',
      token: 'secret',
      fetch: rec.fetch,
    });
    expect(await client.status()).toEqual(status);
    expect(rec.calls).toEqual([
      {
        url: `http://127.0.0.1:9${pathOf('status')}`,
        headers: { accept: 'application/json', authorization: 'Bearer secret' },
      },
    ]);
  });

  it('sends no Authorization header when it has no token', async () => {
    const rec = recordingFetch(() => json(401, { code: 'UNAUTHORIZED', message: 'no token' }));
    const err = await failure(createEngineClient({ token: undefined, fetch: rec.fetch }).status());
    expect(rec.calls[0]?.headers).not.toHaveProperty('authorization');
    expect(rec.calls[0]?.url).toBe(pathOf('status'));
    expect(err).toMatchObject({ code: 'UNAUTHORIZED', message: 'no token', status: 401 });
  });

  it('turns a network failure into ENGINE_UNREACHABLE', async () => {
    const rec = recordingFetch(() => Promise.reject(new TypeError('fetch failed')));
    const err = await failure(createEngineClient({ token: 't', fetch: rec.fetch }).status());
    expect(err).toMatchObject({ code: 'ENGINE_UNREACHABLE', status: 0 });
  });

  it('turns a non-JSON error page into BAD_RESPONSE', async () => {
    const rec = recordingFetch(() => new Response('<h1>Bad gateway</h1>', { status: 502 }));
    const err = await failure(createEngineClient({ token: 't', fetch: rec.fetch }).status());
    expect(err).toMatchObject({ code: 'BAD_RESPONSE', status: 502 });
  });
});

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  type: string | undefined;
  fileName: string | undefined;
  body: Buffer;
}

/** A stand-in engine: records each request and answers from a routing table. */
describe('engine client over HTTP', () => {
  const seen: Seen[] = [];
  let server: Server;
  let client: EngineClient;
  const job = { id: 'jaaaaaaaaaaaa', state: 'queued', preset: 'web-h264' };
  const item = { id: 'maaaaaaaaaaaa', name: 'tape.dv', pictures: {}, jobs: [] };

  const routes: Record<string, (req: Seen, res: ServerResponse) => void> = {
    [at('vault')]: (_q, res) => send(res, 200, { exists: true, unlocked: false, dir: '/v' }),
    [at('createVault')]: (_q, res) => send(res, 201, { recoveryKey: 'RK-1234' }),
    [at('unlockVault')]: (q, res) =>
      JSON.parse(q.body.toString()).password === 'right'
        ? send(res, 204)
        : send(res, 401, { code: 'WRONG_PASSWORD', message: 'That password does not open it.' }),
    [at('lockVault')]: (_q, res) => send(res, 204),
    [at('folders')]: (_q, res) => send(res, 401, { code: 'PASSWORD_REQUIRED', message: 'locked' }),
    [at('upload')]: (q, res) =>
      send(res, 201, { id: 'm1', rel: decodeURIComponent(q.fileName ?? ''), size: q.body.length }),
    [at('libraryItems')]: (_q, res) => send(res, 200, { items: [item] }),
    [at('setLabels', { id: 'maaaaaaaaaaaa' })]: (q, res) =>
      send(res, 200, { ...item, ...(JSON.parse(q.body.toString()) as object) }),
    [at('encryptFolder', { id: 'f%2F..%2Fx' })]: (_q, res) => send(res, 202, { started: true }),
    [`${at('jobs')}?state=running&limit=5`]: (_q, res) => send(res, 200, [job]),
    [at('createJob')]: (_q, res) => send(res, 201, job),
    [at('retryJob', { id: 'jaaaaaaaaaaaa' })]: (_q, res) =>
      send(res, 201, { ...job, id: 'jbbbbbbbbbbbb' }),
    [at('cancelJob', { id: 'jaaaaaaaaaaaa' })]: (_q, res) => send(res, 204),
    [at('unpairServer', { name: 'nas' })]: (_q, res) => send(res, 204),
    [at('jobEvents')]: (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: job\ndata: {"id":"j1",');
      setTimeout(() => res.end('"state":"running"}\n\n'), 20);
    },
  };

  function send(res: ServerResponse, status: number, body?: unknown) {
    if (body === undefined) return void res.writeHead(status).end();
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const q: Seen = {
          method: req.method ?? '',
          url: req.url ?? '',
          auth: req.headers.authorization,
          type: req.headers['content-type'],
          fileName: req.headers['x-file-name'] as string | undefined,
          body: Buffer.concat(chunks),
        };
        seen.push(q);
        const route = routes[`${q.method} ${q.url}`];
        if (route) route(q, res);
        else send(res, 404, { code: 'ROUTE_NOT_FOUND', message: `${q.method} ${q.url}` });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    client = createEngineClient({ baseUrl: `http://127.0.0.1:${port}`, token: 'tok' });
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const last = () => seen[seen.length - 1];

  it('creates, unlocks and locks the vault, with JSON bodies and the token', async () => {
    expect(await client.vault()).toEqual({ exists: true, unlocked: false, dir: '/v' });
    expect(await client.createVault('pw')).toEqual({ recoveryKey: 'RK-1234' });
    expect(last()).toMatchObject({ method: 'POST', auth: 'Bearer tok', type: 'application/json' });
    expect(JSON.parse(last()?.body.toString() ?? '')).toEqual({
      password: 'pw',
      checkRecoveryKey: true,
    });
    await expect(client.unlockVault({ password: 'right' })).resolves.toBeUndefined();
    await expect(client.lockVault()).resolves.toBeUndefined();
  });

  it('surfaces the engine code and message of a wrong password and a locked vault', async () => {
    const wrong = await failure(client.unlockVault({ password: 'nope' }));
    expect(wrong).toMatchObject({ code: 'WRONG_PASSWORD', status: 401 });
    expect(wrong.message).toBe('That password does not open it.');
    expect(needsVault(wrong)).toBe(false);
    const locked = await failure(client.folders());
    expect(locked.code).toBe('PASSWORD_REQUIRED');
    expect(needsVault(locked)).toBe(true);
  });

  it('uploads a raw body with the URL-encoded relative path', async () => {
    const file = new File([new Uint8Array([1, 2, 3, 4, 5])], 'co.mp4', {
      lastModified: 1_089_800_000_000,
    });
    const view = await client.upload(file, 'Tapes 1987/Noël & co.mp4');
    expect(view).toMatchObject({ rel: 'Tapes 1987/Noël & co.mp4', size: 5 });
    expect(last()).toMatchObject({
      type: 'application/octet-stream',
      fileName: 'Tapes%201987%2FNo%C3%ABl%20%26%20co.mp4',
    });
    expect([...(last()?.body ?? [])]).toEqual([1, 2, 3, 4, 5]);
  });

  it('lists library items (unwrapped) and sets or clears labels with PATCH', async () => {
    expect(await client.libraryItems()).toEqual([item]);
    expect(last()).toMatchObject({ method: 'GET', url: '/v1/library/items', auth: 'Bearer tok' });
    const labelled = await client.setLabels('maaaaaaaaaaaa', { title: 'Christmas', date: null });
    expect(labelled).toMatchObject({ id: 'maaaaaaaaaaaa', title: 'Christmas' });
    expect(last()).toMatchObject({
      method: 'PATCH',
      url: '/v1/library/files/maaaaaaaaaaaa',
      type: 'application/json',
    });
    expect(JSON.parse(last()?.body.toString() ?? '')).toEqual({ title: 'Christmas', date: null });
  });

  it('escapes ids in paths and accepts 202 with a body as done', async () => {
    await expect(client.encryptFolder('f/../x')).resolves.toBeUndefined();
    expect(last()?.url).toBe(pathOf('encryptFolder', { id: 'f%2F..%2Fx' }));
  });

  it('lists jobs with filters, creates, retries (new job back) and cancels (no body)', async () => {
    expect(await client.jobs({ state: 'running', limit: 5 })).toEqual([job]);
    const created = await client.createJob({
      fileId: 'maaaaaaaaaaaa',
      preset: 'web-h264',
      params: { crf: 20 },
      mode: 'manual',
    });
    expect(created.id).toBe(job.id);
    expect((await client.retryJob(job.id))?.id).toBe('jbbbbbbbbbbbb');
    expect(await client.cancelJob(job.id)).toBeUndefined();
    await expect(client.unpairServer('nas')).resolves.toBeUndefined();
    expect(last()).toMatchObject({
      method: 'DELETE',
      url: pathOf('unpairServer', { name: 'nas' }),
    });
  });

  it('names an unknown route as the engine does', async () => {
    const err = await failure(client.activity());
    expect(err).toMatchObject({ code: 'ROUTE_NOT_FOUND', status: 404 });
  });

  it('streams job events with the token, across a chunk boundary', async () => {
    const controller = new AbortController();
    const got: string[] = [];
    await runSseStream({
      signal: controller.signal,
      open: (signal) => client.openJobEvents(signal),
      onMessage: (m) => {
        got.push(`${m.event} ${m.data}`);
        controller.abort();
      },
      sleep: async () => {},
    });
    expect(got).toEqual(['job {"id":"j1","state":"running"}']);
    expect(seen.find((q) => q.url === pathOf('jobEvents'))?.auth).toBe('Bearer tok');
  });
});

describe('requests typed by the route table', () => {
  it('fills, escapes and queries paths from the table', () => {
    expect(apiPath('job', { params: { id: 'j/../x y' } })).toBe(
      pathOf('job', { id: 'j%2F..%2Fx%20y' }),
    );
    expect(
      apiPath('removeFolder', { params: { id: 'f1' }, query: { deleteEncrypted: true } }),
    ).toBe(`${pathOf('removeFolder', { id: 'f1' })}?deleteEncrypted=true`);
    expect(apiPath('jobs', { query: { state: undefined, limit: 3 } })).toBe(
      `${pathOf('jobs')}?limit=3`,
    );
  });

  it('makes a wrong route, a missing parameter or a wrong body a type error', () => {
    // Checked by tsc, never run: each line below must fail to typecheck.
    const wrong = () => [
      // @ts-expect-error -- no route by that name
      apiPath('jobz', {}),
      // @ts-expect-error -- the route's :id is missing
      apiPath('job', {}),
      // @ts-expect-error -- a job is made from a library file: `fileId` is required
      ((request: ApiRequest<'createJob'>) => request)({ body: { preset: 'web-h264' } }),
      // @ts-expect-error -- GET /v1/vault takes no body
      ((request: ApiRequest<'vault'>) => request)({ body: { password: 'x' } }),
    ];
    expect(typeof wrong).toBe('function');
  });
});
