// ClearKey on the desktop engine, with real parts: FFmpeg encrypts a generated stream
// (CENC AES-CTR), a loopback origin serves it, an admin loads the key, and FFmpeg reads
// the stream through /proxy/stream and decrypts it with the key that /keys/clearkey hands
// out. Then the refusals: no token, an unknown or expired kid, malformed requests.
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { decodedFrames, makeClearKeyStream } from '../testing/clearkey-media';
import { startTestDesktop } from '../testing/desktop';
import { freshDir } from '../testing/tmp';
import { startOrigin } from './fixture-origin';
import { CLEARKEY_PATH, KEYS_PATH } from './key-routes';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const b64u = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
/** The frames' checksums of one stream (0 video, 1 audio), timestamps left out. */
const hashes = (frames: string[], stream: number) =>
  frames.filter((f) => f.startsWith(`${stream},`)).map((f) => f.split(',').at(-1)!.trim());

async function engineWithOrigin() {
  const dir = await freshDir();
  const media = await makeClearKeyStream(dir);
  const bytes = await readFile(media.encrypted);
  // Byte ranges, as a media origin serves them: FFmpeg's demuxer seeks.
  const origin = await startOrigin((req, res) => {
    res.setHeader('content-type', 'video/mp4');
    res.setHeader('accept-ranges', 'bytes');
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (!range) return void res.end(bytes);
    const start = Number(range[1]);
    const end = range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
    if (start >= bytes.length) {
      res.writeHead(416, { 'content-range': `bytes */${bytes.length}` });
      return void res.end();
    }
    res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${bytes.length}` });
    res.end(bytes.subarray(start, end + 1));
  });
  cleanup.push(() => origin.close());
  const engine = await startTestDesktop({
    proxyAllow: [
      { host: '127.0.0.1', schemes: ['http'], paths: ['/media/**'], allowPrivate: ['127.0.0.0/8'] },
    ],
  });
  return { engine, media, origin, api: engine.api };
}

describe('ClearKey keys on the desktop engine', () => {
  it('hands FFmpeg the key that decrypts a CENC stream read through the proxy', async () => {
    const { engine, media, origin, api } = await engineWithOrigin();
    const loaded = await api.post(KEYS_PATH, {
      kid: media.kidHex,
      key: media.keyHex,
      ttlSeconds: 600,
    });
    expect(loaded.status).toBe(201);
    const { expiresAt } = loaded.body as { kid: string; expiresAt: string };
    expect(loaded.body).toEqual({ kid: b64u(media.kidHex), expiresAt });
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(590_000);

    // The list names ids and expiry, never a key.
    const listed = await api.call('GET', KEYS_PATH);
    expect(listed.body).toEqual({ keys: [{ kid: b64u(media.kidHex), expiresAt }] });
    expect(JSON.stringify(listed.body)).not.toContain(b64u(media.keyHex));

    // The license request a browser's EME ClearKey session sends, and its JWK set.
    const license = await api.post(CLEARKEY_PATH, {
      kids: [b64u(media.kidHex)],
      type: 'temporary',
    });
    expect(license.status).toBe(200);
    expect(license.body).toEqual({
      keys: [{ kty: 'oct', kid: b64u(media.kidHex), k: b64u(media.keyHex) }],
      type: 'temporary',
    });
    const k = (license.body as { keys: { k: string }[] }).keys[0]!.k;

    const through = `${engine.url}/proxy/stream?d=${encodeURIComponent(`${origin.origin}/media/cenc.mp4`)}`;
    const headers = `Authorization: Bearer ${engine.token}\r\n`;
    const decrypted = await decodedFrames(through, {
      headers,
      decryptionKeyHex: Buffer.from(k, 'base64url').toString('hex'),
    });
    const clear = await decodedFrames(media.clear);
    // Every video frame decodes to exactly the clear one; the audio too (the encrypted
    // copy carries one more priming frame at its start).
    expect(hashes(decrypted, 0)).toEqual(hashes(clear, 0));
    expect(hashes(clear, 0).length).toBe(100);
    expect(hashes(decrypted, 1).slice(-hashes(clear, 1).length)).toEqual(hashes(clear, 1));
    expect(origin.seen.length).toBeGreaterThan(0);

    // The test can fail: without the key, or with another, the frames are not the clear ones.
    const wrong = await decodedFrames(media.encrypted, {
      decryptionKeyHex: 'ffeeddccbbaa99887766554433221100',
    }).catch(() => [] as string[]);
    expect(hashes(wrong, 0)).not.toEqual(hashes(clear, 0));
  });

  it('is behind the bearer token, like every other engine route', async () => {
    const { engine } = await engineWithOrigin();
    for (const [method, path, body] of [
      ['GET', KEYS_PATH, undefined],
      ['POST', KEYS_PATH, { kid: '00'.repeat(16), key: '11'.repeat(16), ttlSeconds: 60 }],
      ['POST', CLEARKEY_PATH, { kids: [b64u('00'.repeat(16))] }],
    ] as const) {
      const res = await fetch(`${engine.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: 'Bearer not-the-token' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(await res.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    }
    // Nothing was loaded by the refused call.
    expect(await engine.api.get(KEYS_PATH)).toEqual({ keys: [] });
  });

  it('answers an unknown or an expired kid with the same 404, naming no kid', async () => {
    const { api } = await engineWithOrigin();
    const held = 'aa'.repeat(16);
    const brief = 'bb'.repeat(16);
    expect(
      (await api.post(KEYS_PATH, { kid: held, key: 'cc'.repeat(16), ttlSeconds: 600 })).status,
    ).toBe(201);
    expect(
      (await api.post(KEYS_PATH, { kid: brief, key: 'dd'.repeat(16), ttlSeconds: 1 })).status,
    ).toBe(201);

    const unknown = await api.post(CLEARKEY_PATH, { kids: [b64u('ee'.repeat(16))] });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({
      code: 'NOT_FOUND',
      message: 'no key is held for the key ids asked for',
    });
    const text = JSON.stringify(unknown.body);
    for (const kid of [held, brief]) {
      expect(text).not.toContain(b64u(kid));
      expect(text).not.toContain(kid);
    }

    await new Promise((r) => setTimeout(r, 1_100));
    const expired = await api.post(CLEARKEY_PATH, { kids: [b64u(brief)], type: 'temporary' });
    expect(expired).toEqual(unknown);
    expect(await api.get(KEYS_PATH)).toEqual({
      keys: [{ kid: b64u(held), expiresAt: expect.any(String) }],
    });
    // Asked together, the held one is answered and the others are simply absent.
    const mixed = await api.post(CLEARKEY_PATH, { kids: [b64u(brief), b64u(held)] });
    expect(mixed.body).toEqual({
      keys: [{ kty: 'oct', kid: b64u(held), k: b64u('cc'.repeat(16)) }],
      type: 'temporary',
    });
  });

  it('reads a license request as JSON whatever its Content-Type says, or without one', async () => {
    // A page posts the CDM's message (an ArrayBuffer) as it is: no Content-Type at all.
    const { engine, api } = await engineWithOrigin();
    const kid = 'ab'.repeat(16);
    expect((await api.post(KEYS_PATH, { kid, key: 'cd'.repeat(16), ttlSeconds: 60 })).status).toBe(
      201,
    );
    const message = new TextEncoder().encode(
      JSON.stringify({ kids: [b64u(kid)], type: 'temporary' }),
    );
    for (const type of [undefined, 'application/octet-stream', 'text/plain;charset=UTF-8']) {
      const res = await fetch(`${engine.url}${CLEARKEY_PATH}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${engine.token}`,
          ...(type ? { 'content-type': type } : {}),
        },
        body: message.buffer,
      });
      expect(res.status, String(type)).toBe(200);
      expect(await res.json()).toEqual({
        keys: [{ kty: 'oct', kid: b64u(kid), k: b64u('cd'.repeat(16)) }],
        type: 'temporary',
      });
    }
    const broken = await fetch(`${engine.url}${CLEARKEY_PATH}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${engine.token}` },
      body: new TextEncoder().encode('{"kids": ["AAAA').buffer,
    });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({
      code: 'USAGE',
      message: 'the body is not valid JSON',
    });
  });

  it('refuses malformed license requests and key loads with 400', async () => {
    const { engine, api } = await engineWithOrigin();
    const raw = await fetch(`${engine.url}${CLEARKEY_PATH}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${engine.token}`, 'content-type': 'application/json' },
      body: '{"kids": ["AAAA',
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({ code: 'USAGE' });

    const kid = b64u('aa'.repeat(16));
    for (const body of [
      [kid],
      {},
      { kids: [] },
      { kids: 'AAAA' },
      { kids: ['not base64url!'] },
      { kids: [kid], type: 'persistent-license' },
      { kids: [kid], extra: 1 },
      { kids: Array.from({ length: 65 }, () => kid) },
    ]) {
      const res = await api.post(CLEARKEY_PATH, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((res.body as { code: string }).code).toMatch(/^(USAGE|INVALID_KEY)$/);
    }
    for (const body of [
      { kid: 'aa'.repeat(16), key: 'bb'.repeat(16) },
      { kid: 'aa'.repeat(16), key: 'bb'.repeat(8), ttlSeconds: 60 },
      { kid: 'aa'.repeat(16), key: 'bb'.repeat(16), ttlSeconds: 0 },
      { kid: 'aa'.repeat(16), key: 'bb'.repeat(16), ttlSeconds: 60, note: 'x' },
    ]) {
      const res = await api.post(KEYS_PATH, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      // A refused key is never echoed back.
      expect(JSON.stringify(res.body)).not.toContain('bb'.repeat(8));
    }
    expect(await api.get(KEYS_PATH)).toEqual({ keys: [] });
  });
});
