// The desktop engine's own log (stderr, for errors nobody expected): a proxied URL in an
// error reaches it with its signed-URL and key parameters blanked.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freshDir } from '../testing/tmp';
import { startEmbeddedServer, type EmbeddedServer } from './embedded';

let server: EmbeddedServer | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await server?.close();
});

describe('the desktop engine’s error log', () => {
  it('blanks kid, sig and tokens in what it writes, and tells the caller nothing', async () => {
    const inner = 'https://cdn.example/a.m4s?kid=kid1secret&sig=sig2secret&n=3';
    server = await startEmbeddedServer({
      dataDir: await freshDir(),
      routes: async (app) => {
        app.get('/v1/boom', async () => {
          throw new Error(
            `upstream gave up on /proxy/stream?d=${encodeURIComponent(inner)}&token=tok3secret (${inner})`,
          );
        });
      },
    });
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const res = await fetch(`${server.url}/v1/boom`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: 'INTERNAL', message: expect.any(String) });
    const log = written.join('');
    expect(log).toContain('keepsake engine: Error: upstream gave up on /proxy/stream');
    expect(log).toContain('cdn.example');
    for (const secret of ['kid1secret', 'sig2secret', 'tok3secret']) {
      expect(log).not.toContain(secret);
    }
  });
});
