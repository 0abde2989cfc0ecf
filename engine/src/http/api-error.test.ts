// Both servers answer an error the same way, through one mapper: checked here on the
// desktop engine, which used to answer a body too large, and a body of the wrong type,
// with 400 USAGE where `keepsake serve` (and the registry) say 413 and 415.

import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../core/errors';
import { startTestDesktop } from '../testing/desktop';
import { toApiError } from './api-error';

describe('toApiError', () => {
  it('gives Fastify’s own refusals the registry codes that name them', () => {
    const logged: unknown[] = [];
    const log = (err: unknown) => logged.push(err);
    const fastify = (statusCode: number, code: string) =>
      Object.assign(new Error('refused'), { statusCode, code });
    expect(toApiError(fastify(413, 'FST_ERR_CTP_BODY_TOO_LARGE'), log).code).toBe('TOO_LARGE');
    expect(toApiError(fastify(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE'), log).code).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect(toApiError(fastify(429, 'FST_ERR_RATE_LIMIT'), log).code).toBe('RATE_LIMITED');
    expect(toApiError(fastify(400, 'FST_ERR_VALIDATION'), log).code).toBe('USAGE');
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    expect(toApiError(busy, log).code).toBe('DATABASE_BUSY');
    const bug = new TypeError('x is undefined');
    expect(toApiError(bug, log)).toEqual({
      code: 'INTERNAL',
      message: ERROR_CODES.INTERNAL.summary,
    });
    // Only the unexpected ones (and the database's) are logged, never sent.
    expect(logged).toEqual([busy, bug]);
  });

  it('the desktop engine answers 413 and 415 as the server does', async () => {
    const engine = await startTestDesktop();
    const post = (body: string, type: string) =>
      fetch(`${engine.url}/v1/library`, {
        method: 'POST',
        headers: { authorization: `Bearer ${engine.token}`, 'content-type': type },
        body,
      });
    const wrongType = await post('path=/tmp', 'text/plain');
    expect(wrongType.status).toBe(415);
    expect(((await wrongType.json()) as { code: string }).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const huge = await post(
      JSON.stringify({ path: 'x'.repeat(8 * 1024 * 1024) }),
      'application/json',
    );
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { code: string }).code).toBe('TOO_LARGE');
  });
});
