// The client against a recording fetch: the real engine round trip is the e2e test.
import { describe, expect, it } from 'vitest';
import { createEngineClient, EngineError, tokenFromHash } from './engine-client';

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
        url: 'http://127.0.0.1:9/v1/status',
        headers: { accept: 'application/json', authorization: 'Bearer secret' },
      },
    ]);
  });

  it('sends no Authorization header when it has no token', async () => {
    const rec = recordingFetch(() => json(401, { code: 'UNAUTHORIZED', message: 'no token' }));
    const err = await failure(createEngineClient({ token: undefined, fetch: rec.fetch }).status());
    expect(rec.calls[0]?.headers).not.toHaveProperty('authorization');
    expect(rec.calls[0]?.url).toBe('/v1/status');
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
