import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { ReplayCache } from './replay-cache';
import {
  HEADER_CLIENT,
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
  canonicalString,
  sign,
  signedHeaders,
  verifyRequest,
  type VerifyInput,
} from './signing';

// The shared DFFmpeg vectors (fixtures/vectors/README.md).
const KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
const T = 1_700_000_000;
const CLIENT = 'worker-1';
const keys = new Map([[CLIENT, Buffer.from(KEY, 'base64')]]);
const lookup = (id: string) => keys.get(id);

function request(
  overrides: Partial<Omit<VerifyInput, 'headers'>> = {},
  signAs = { method: 'GET', path: '/jobs' },
) {
  const body = overrides.body ?? Buffer.alloc(0);
  return {
    method: signAs.method,
    path: signAs.path,
    headers: signedHeaders(CLIENT, KEY, signAs.method, signAs.path, body, T),
    body,
    now: T,
    ...overrides,
  };
}

/** The UNAUTHORIZED (or CLOCK_SKEW) message verifyRequest throws, or 'ok'. */
function outcome(input: VerifyInput, replay = new ReplayCache()): string {
  try {
    verifyRequest(input, lookup, replay);
    return 'ok';
  } catch (err) {
    if (!isKeepsakeError(err, 'UNAUTHORIZED') && !isKeepsakeError(err, 'CLOCK_SKEW')) throw err;
    return err.message;
  }
}

describe('sign', () => {
  it('reproduces the DFFmpeg vectors', () => {
    expect(sign(KEY, 'GET', '/jobs', T, '')).toBe('FkQo7QFfQE7Jf0qd2jgZUIR/iruHCmqpjwg7Gr1EPpk=');
    expect(sign(KEY, 'POST', '/worker/register', T, '{"worker_id": "w1"}')).toBe(
      'FnmG/1arr4PYc7orfu2v0HgQpery0xtamceEWa9XiL0=',
    );
    expect(sign(KEY, 'POST', '/worker/register', T, Buffer.from('{"worker_id": "w1"}'))).toBe(
      'FnmG/1arr4PYc7orfu2v0HgQpery0xtamceEWa9XiL0=',
    );
  });

  it('builds the canonical string from method, path with query, timestamp and body hash', () => {
    expect(canonicalString('get', '/jobs?a=1', T, '')).toBe(
      'GET|/jobs?a=1|1700000000|e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('puts the three headers on a request', () => {
    expect(signedHeaders(CLIENT, KEY, 'GET', '/jobs', undefined, T)).toEqual({
      [HEADER_CLIENT]: CLIENT,
      [HEADER_TIMESTAMP]: '1700000000',
      [HEADER_SIGNATURE]: 'FkQo7QFfQE7Jf0qd2jgZUIR/iruHCmqpjwg7Gr1EPpk=',
    });
    const now = Math.floor(Date.now() / 1000);
    const stamp = Number(signedHeaders(CLIENT, KEY, 'GET', '/jobs')[HEADER_TIMESTAMP]);
    expect(Math.abs(stamp - now)).toBeLessThanOrEqual(1);
  });

  it('refuses a key that is not base64', () => {
    expect(() => sign('not base64!', 'GET', '/', T, '')).toThrow(/base64/);
    expect(() => sign('', 'GET', '/', T, '')).toThrow(/base64/);
  });
});

describe('verifyRequest', () => {
  it('accepts the vectors and returns the client id', () => {
    const replay = new ReplayCache();
    const get = request();
    expect(get.headers[HEADER_SIGNATURE]).toBe('FkQo7QFfQE7Jf0qd2jgZUIR/iruHCmqpjwg7Gr1EPpk=');
    expect(verifyRequest(get, lookup, replay)).toBe(CLIENT);
    const body = Buffer.from('{"worker_id": "w1"}');
    const post = request({ body }, { method: 'POST', path: '/worker/register' });
    expect(verifyRequest(post, lookup, replay)).toBe(CLIENT);
  });

  it('signs the query string', () => {
    const signed = request({}, { method: 'GET', path: '/jobs?a=1' });
    expect(outcome(signed)).toBe('ok');
    expect(outcome({ ...signed, path: '/jobs?a=2' })).toMatch(/does not match/);
    expect(outcome({ ...signed, path: '/jobs' })).toMatch(/does not match/);
  });

  it.each([HEADER_CLIENT, HEADER_TIMESTAMP, HEADER_SIGNATURE])(
    'refuses a request without %s',
    (name) => {
      const signed = request();
      const headers: VerifyInput['headers'] = { ...signed.headers, [name]: undefined };
      expect(outcome({ ...signed, headers })).toMatch(`missing ${name} header`);
      expect(outcome({ ...signed, headers: { ...signed.headers, [name]: ' ' } })).toMatch(
        `missing ${name} header`,
      );
    },
  );

  it('reads headers in any case but refuses one sent twice', () => {
    const signed = request();
    const upper = Object.fromEntries(
      Object.entries(signed.headers).map(([k, v]) => [k.toUpperCase(), v]),
    );
    expect(outcome({ ...signed, headers: upper })).toBe('ok');
    const sig = signed.headers[HEADER_SIGNATURE] ?? '';
    const twice = { ...signed.headers, [HEADER_SIGNATURE]: [sig, sig] };
    expect(outcome({ ...signed, headers: twice })).toMatch(/more than once/);
  });

  it('accepts a timestamp 30 s off either way and refuses 31 s', () => {
    const signed = request();
    expect(outcome({ ...signed, now: T + 30 })).toBe('ok');
    expect(outcome({ ...signed, now: T - 30 })).toBe('ok');
    expect(outcome({ ...signed, now: T + 31 })).toMatch(/31 s old/);
    expect(outcome({ ...signed, now: T - 31 })).toMatch(/31 s in the future/);
  });

  it('gives a timestamp outside the window its own code, CLOCK_SKEW', () => {
    const signed = request();
    const err = (() => {
      try {
        verifyRequest({ ...signed, now: T + 35 }, lookup, new ReplayCache());
      } catch (e) {
        return e;
      }
    })();
    expect(isKeepsakeError(err, 'CLOCK_SKEW')).toBe(true);
    expect((err as Error).message).toMatch(/35 s old.*clock behind/);
  });

  it('refuses a request stamped before the replay cache "since" (a server after a crash)', () => {
    const signed = request({ now: T + 5 });
    const restarted = new ReplayCache({ since: T + 1 });
    expect(outcome(signed, restarted)).toMatch(/before the server restarted.*sign it again/);
    // Signed again after the start, the same request goes through.
    expect(outcome(request({ now: T + 5 }, undefined), new ReplayCache({ since: T }))).toBe('ok');
  });

  it('honours a custom window', () => {
    const signed = request({ now: T + 100 });
    const options = { windowSeconds: 120 };
    expect(verifyRequest(signed, lookup, new ReplayCache({ ttlSeconds: 240 }), options)).toBe(
      CLIENT,
    );
    // A cache that would forget a still-valid signature is a configuration error.
    expect(() => verifyRequest(signed, lookup, new ReplayCache(), options)).toThrow(
      /at least twice/,
    );
  });

  it.each(['1700000000.5', '1.7e9', '-1700000000', '+1700000000', '0x6553f100', 'soon'])(
    'refuses the non-integer timestamp %s',
    (stamp) => {
      const signed = request();
      const headers = { ...signed.headers, [HEADER_TIMESTAMP]: stamp };
      expect(outcome({ ...signed, headers })).toMatch(/whole seconds/);
    },
  );

  it('refuses an altered body, method or path', () => {
    const body = Buffer.from('{"worker_id": "w1"}');
    const signed = request({ body }, { method: 'POST', path: '/worker/register' });
    expect(outcome(signed)).toBe('ok');
    expect(outcome({ ...signed, body: Buffer.from('{"worker_id": "w2"}') })).toMatch(
      /does not match/,
    );
    expect(outcome({ ...signed, body: Buffer.alloc(0) })).toMatch(/does not match/);
    expect(outcome({ ...signed, method: 'PUT' })).toMatch(/does not match/);
    expect(outcome({ ...signed, path: '/worker/register/' })).toMatch(/does not match/);
  });

  it('accepts the SHA-256 of a streamed body in place of the bytes', () => {
    const bytes = Buffer.from('{"worker_id": "w1"}');
    const sha256Hex = createHash('sha256').update(bytes).digest('hex');
    expect(sign(KEY, 'POST', '/worker/register', T, { sha256Hex })).toBe(
      'FnmG/1arr4PYc7orfu2v0HgQpery0xtamceEWa9XiL0=',
    );
    const signed = request({ body: bytes }, { method: 'POST', path: '/worker/register' });
    expect(outcome({ ...signed, body: { sha256Hex: sha256Hex.toUpperCase() } })).toBe('ok');
    const other = createHash('sha256').update('other').digest('hex');
    expect(outcome({ ...signed, body: { sha256Hex: other } })).toMatch(/does not match/);
    expect(() =>
      verifyRequest({ ...signed, body: { sha256Hex: 'abc' } }, lookup, new ReplayCache()),
    ).toThrow(/64 hex digits/);
  });

  it('refuses a timestamp that was changed after signing', () => {
    const signed = request();
    const headers = { ...signed.headers, [HEADER_TIMESTAMP]: String(T + 1) };
    expect(outcome({ ...signed, headers })).toMatch(/does not match/);
  });

  it('refuses an unknown client with the same message as a bad signature', () => {
    const signed = request();
    const unknown = outcome({
      ...signed,
      headers: { ...signed.headers, [HEADER_CLIENT]: 'intruder' },
    });
    const wrongSig = outcome({
      ...signed,
      headers: { ...signed.headers, [HEADER_SIGNATURE]: sign(KEY, 'GET', '/other', T, '') },
    });
    expect(unknown).toMatch(/does not match/);
    expect(unknown).toBe(wrongSig);
    // An empty stored key counts as no key at all.
    expect(() => verifyRequest(signed, () => Buffer.alloc(0), new ReplayCache())).toThrow(unknown);
  });

  it.each([
    ['too short', 'FkQo7QFfQE7Jf0qd2jgZUIR/iruHCmqpjwg7Gr1EPp='],
    ['unpadded', 'FkQo7QFfQE7Jf0qd2jgZUIR/iruHCmqpjwg7Gr1EPpk'],
    ['url-safe alphabet', 'FkQo7QFfQE7Jf0qd2jgZUIR_iruHCmqpjwg7Gr1EPpk='],
    ['non-canonical trailing bits', 'FkQo7QFfQE7Jf0qd2jgZUIR/iruHCmqpjwg7Gr1EPpl='],
    ['hex', 'a'.repeat(64)],
  ])('refuses a %s signature before touching the key', (_label, signature) => {
    let looked = false;
    const signed = request();
    const headers = { ...signed.headers, [HEADER_SIGNATURE]: signature };
    const result = () =>
      verifyRequest(
        { ...signed, headers },
        () => {
          looked = true;
          return keys.get(CLIENT);
        },
        new ReplayCache(),
      );
    expect(result).toThrow(/32 bytes in padded base64/);
    expect(looked).toBe(false);
  });

  it('refuses a malformed client id', () => {
    const signed = request();
    const headers = { ...signed.headers, [HEADER_CLIENT]: 'two words' };
    expect(outcome({ ...signed, headers })).toMatch(/malformed x-dffmpeg-client-id/);
  });

  it('refuses the second use of an identical signed request', () => {
    const replay = new ReplayCache();
    const signed = request();
    expect(outcome(signed, replay)).toBe('ok');
    expect(outcome({ ...signed, now: T + 5 }, replay)).toMatch(/already used/);
    // A failed forgery is not remembered, so it cannot lock out the genuine request.
    const fresh = request({}, { method: 'GET', path: '/jobs?page=2' });
    const forged = { ...fresh, body: Buffer.from('x') };
    expect(outcome(forged, replay)).toMatch(/does not match/);
    expect(outcome(fresh, replay)).toBe('ok');
  });

  it('never puts the expected signature or the key in its messages', () => {
    const signed = request();
    const headers = { ...signed.headers, [HEADER_SIGNATURE]: sign(KEY, 'GET', '/x', T, '') };
    const message = outcome({ ...signed, headers });
    expect(message).not.toContain(signed.headers[HEADER_SIGNATURE]);
    expect(message).not.toContain(KEY);
  });

  it('accepts what it signed and refuses any single-byte change to the body', () => {
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE');
    const path = fc
      .tuple(fc.webPath(), fc.option(fc.webQueryParameters(), { nil: undefined }))
      .map(([p, q]) => `/${p.replace(/^\/+/, '')}${q === undefined ? '' : `?${q}`}`);
    const body = fc.uint8Array({ minLength: 1, maxLength: 256 });
    fc.assert(
      fc.property(
        method,
        path,
        body,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (m, p, bytes, at, flip) => {
          const replay = new ReplayCache();
          const buf = Buffer.from(bytes);
          const input = {
            method: m,
            path: p,
            headers: signedHeaders(CLIENT, KEY, m, p, buf, T),
            body: buf,
            now: T,
          };
          const changed = Buffer.from(buf);
          const index = at % changed.length;
          changed[index] = (changed[index] ?? 0) ^ flip;
          expect(outcome({ ...input, body: changed }, replay)).toMatch(/does not match/);
          expect(outcome(input, replay)).toBe('ok');
        },
      ),
      { numRuns: 200 },
    );
  });
});
