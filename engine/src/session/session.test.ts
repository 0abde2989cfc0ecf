// The desktop session's state between requests, with a real vault and job engine.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { testScratch } from '../testing/media';
import { TEST_PASSWORD } from '../testing/desktop';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { DesktopSession } from './session';

describe('DesktopSession', () => {
  it('answers VAULT_OPENING, not an empty error, while an unlock is still opening the engine', async () => {
    const session = new DesktopSession({
      dataDir: join(await freshDir(), 'data'),
      scrypt: TEST_SCRYPT,
      scratch: await testScratch(),
      concurrency: 1,
    });
    try {
      await session.create(TEST_PASSWORD);
      await session.lock();
      const unlocking = session.unlock({ password: TEST_PASSWORD });
      // The keys are checked first; the job engine opens after (files, FFmpeg, the queue).
      while (!session.currentVault()) await new Promise((r) => setImmediate(r));
      let caught: unknown;
      try {
        session.requireEngine();
      } catch (err) {
        caught = err;
      }
      expect(isKeepsakeError(caught, 'VAULT_OPENING')).toBe(true);
      await unlocking;
      expect(session.requireEngine().queue).toBeDefined();
    } finally {
      await session.close();
    }
  });
});
