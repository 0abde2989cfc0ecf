// Background work on a real desktop engine whose outcome cannot be recorded (the activity
// log's database busy or full): the failure is logged, and never becomes an unhandled
// rejection, which would stop the engine (vitest fails a run that has one).
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { FolderView } from '../net/desktop-contract';
import { TEST_PASSWORD, startTestDesktop, until } from '../testing/desktop';
import { freshDir } from '../testing/tmp';

describe('desktop background work', () => {
  it('logs a folder protection whose outcome the activity log refuses, and keeps serving', async () => {
    const engine = await startTestDesktop();
    const { api, session } = engine;
    await api.post('/v1/vault', { password: TEST_PASSWORD });
    const media = await freshDir();
    await writeFile(join(media, 'a.mp4'), randomBytes(5000));

    const append = session.activity.append.bind(session.activity);
    vi.spyOn(session.activity, 'append').mockImplementation((event) => {
      if (event.action === 'library.encrypt') throw new Error('database is locked');
      append(event);
    });
    const stderr: string[] = [];
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr.push(String(chunk));
      return true;
    });
    try {
      expect((await api.post('/v1/library', { path: media })).status).toBe(201);
      await until(
        () => api.get<FolderView[]>('/v1/library'),
        (f) => f[0]?.encrypted === 1 && f[0].pending === 0,
      );
      await until(
        () => Promise.resolve(stderr.join('')),
        (text) => text.includes('a background task failed: database is locked'),
        10_000,
      );
    } finally {
      write.mockRestore();
    }
    expect((await api.call('GET', '/v1/library')).status).toBe(200);
  });
});
