import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createJsonLog } from './json-log';
import { scrubUrls } from './redact-url';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { log: createJsonLog(stream), lines, raw };
}

describe('json log', () => {
  it('writes one object a line: level by name, ISO time, msg and the fields, nothing else', () => {
    const { log, lines } = capture();
    log.info({ url: 'https://h:8443', routes: 3 }, 'listening');
    log.error('stopping');
    expect(lines).toHaveLength(2);
    expect(Object.keys(lines[0]!).sort()).toEqual(['level', 'msg', 'routes', 'time', 'url']);
    // In the order the lines had before pino, which readers matching text rely on.
    expect(Object.keys(lines[0]!)).toEqual(['level', 'time', 'msg', 'url', 'routes']);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'listening', url: 'https://h:8443' });
    expect(new Date(lines[0]!.time as string).toISOString()).toBe(lines[0]!.time);
    expect(lines[1]).toMatchObject({ level: 'error', msg: 'stopping' });
  });

  it('blanks credential headers and secret fields wherever a caller puts them', () => {
    const { log, raw } = capture();
    const headers = {
      authorization: 'Bearer desktop-token-1',
      'x-dffmpeg-signature': 'sig-value-2',
      'x-dffmpeg-client-id': 'ks_client3',
      cookie: 'a=cookie4',
      accept: 'text/plain',
    };
    log.warn(
      {
        headers,
        req: { headers, url: '/v1/jobs' },
        token: 'token-5',
        remote: { key: 'key-6', password: 'password-7', name: 'nas' },
      },
      'odd request',
    );
    const text = raw.join('\n');
    for (const secret of ['desktop-token-1', 'sig-value-2', 'ks_client3', 'cookie4']) {
      expect(text).not.toContain(secret);
    }
    for (const secret of ['token-5', 'key-6', 'password-7']) expect(text).not.toContain(secret);
    expect(text).toContain('text/plain');
    expect(text).toContain('"name":"nas"');
    expect(text).toContain('/v1/jobs');
  });

  it('blanks the proxy password header, and secret fields at any depth', () => {
    const { log, raw } = capture();
    log.warn(
      {
        headers: { 'x-keepsake-api-password': 'proxy-pass-1', 'proxy-authorization': 'Basic pa2' },
        a: { b: { c: { d: { e: { f: { k: 'deep-key-3', kid: 'deep-kid-4', name: 'kept' } } } } } },
        z: { z: { z: { z: { z: { z: { z: { z: { z: { z: { token: 'deepest-5' } } } } } } } } } },
      },
      'odd request',
    );
    const text = raw.join('\n');
    for (const secret of ['proxy-pass-1', 'pa2', 'deep-key-3', 'deep-kid-4', 'deepest-5']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('"name":"kept"');
    expect(text).toContain('[nested too deep]');
  });

  it('blanks sig, kid and token query parameters in the message, fields and errors', () => {
    const { log, raw } = capture();
    const url = 'https://h/play/a.m3u8?kid=k1secret&sig=s1secret&d=keep&token=t1secret';
    log.error({ url, err: new Error(`fetch ${url} failed`) }, `could not play ${url}`);
    const text = raw.join('\n');
    expect(text).not.toMatch(/k1secret|s1secret|t1secret/);
    expect(text).toContain('d=keep');
    expect(scrubUrls('/p?sig=abc&x=1#f')).toBe('/p?sig=[redacted]&x=1#f');
    expect(scrubUrls('a signature=abc stays')).toBe('a signature=abc stays');
  });

  it('blanks the stream proxy’s secrets: tokens, keys, cloud signatures, encoded inner URLs', () => {
    const { log, raw } = capture();
    const inner =
      'https://cdn.example/v/seg1.m4s?kid=AbCkid1&X-Amz-Signature=amz2&access_token=tok3&n=4';
    const proxied = `/proxy/stream?d=${encodeURIComponent(inner)}&h_range=bytes%3D0-`;
    const twice = `/proxy/stream?d=${encodeURIComponent(`https://a/b?d=${encodeURIComponent(inner)}`)}`;
    log.error({ req: { url: proxied }, upstream: inner }, `upstream failed for ${proxied}`);
    log.warn({ url: twice }, 'refused');
    log.info({ license: { keys: [{ kty: 'oct', kid: 'kidB64five', k: 'keyB64six' }] } }, 'license');
    log.info(`GET /keys/clearkey?token=tok7&key=key8&api_key=api9&Key-Pair-Id=cf10&keep=yes`);
    const text = raw.join('\n');
    for (const secret of ['AbCkid1', 'amz2', 'tok3', 'kidB64five', 'keyB64six']) {
      expect(text).not.toContain(secret);
    }
    for (const secret of ['tok7', 'key8', 'api9', 'cf10']) expect(text).not.toContain(secret);
    // What is not secret stays readable: the host, the path, other parameters.
    expect(text).toContain('cdn.example');
    expect(text).toContain('seg1.m4s');
    expect(text).toContain('n%3D4');
    expect(text).toContain('h_range=bytes%3D0-');
    expect(text).toContain('keep=yes');
    // Separators encoded and plain, mixed: as a caller may half-encode an inner URL.
    expect(scrubUrls('/proxy/stream?d=https://cdn/a.ts%3Fkid=kid11&n=1')).toBe(
      '/proxy/stream?d=https://cdn/a.ts%3Fkid=[redacted]&n=1',
    );
    expect(scrubUrls('/proxy/stream?d=https://cdn/a.ts?x=1%26token=tok12%26y=2')).toBe(
      '/proxy/stream?d=https://cdn/a.ts?x=1%26token=[redacted]%26y=2',
    );
    expect(scrubUrls('/p?sig%3Dsig13')).toBe('/p?sig%3D[redacted]');
    expect(scrubUrls(`/p?d=${encodeURIComponent('https://h/x?sig=abc&y=2')}`)).toBe(
      `/p?d=${encodeURIComponent('https://h/x?sig=')}[redacted]%26y%3D2`,
    );
  });
});
