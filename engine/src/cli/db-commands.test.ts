// A damaged or empty engine.db through the real CLI: `job list` and `desktop` say what
// is wrong and what to do (DATABASE_CORRUPT, `keepsake db repair`) instead of INTERNAL
// or a silently empty history, and `db repair` gets them going again.

import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteJobQueue } from '../jobs/sqlite-queue';
import { runCli } from '../testing/cli';
import { freshDir } from '../testing/tmp';

async function homeWithJobs(n: number) {
  const home = join(await freshDir(), 'home');
  const queue = new SqliteJobQueue(join(home, 'engine.db'));
  for (let i = 0; i < n; i++) {
    await queue.submit({
      preset: 'remux',
      params: {},
      input: { kind: 'plain', path: `/in/${i}.mp4` },
      outputDir: '/out',
    });
  }
  await queue.close();
  return { home, db: join(home, 'engine.db'), env: { KEEPSAKE_HOME: home } };
}

describe('keepsake and a damaged engine.db', () => {
  it('a damaged header: job list and desktop say DATABASE_CORRUPT and how to repair; db repair fixes it', async () => {
    const { home, db, env } = await homeWithJobs(2);
    const fd = openSync(db, 'r+');
    writeSync(fd, randomBytes(100), 0, 100, 0);
    closeSync(fd);

    const list = await runCli(['job', 'list'], { env });
    expect(list.code).toBe(4);
    expect(list.stderr).toContain('[DATABASE_CORRUPT]');
    expect(list.stderr).toContain('keepsake db repair');
    expect(list.stderr).not.toContain('INTERNAL');

    // What the desktop app shows when its engine will not start: the engine's stderr.
    const desktop = await runCli(['desktop', '--port', '0'], { env });
    expect(desktop.code).toBe(4);
    expect(desktop.stderr).toContain('[DATABASE_CORRUPT]');
    expect(desktop.stderr).toContain('keepsake db repair');

    const repair = await runCli(['db', 'repair'], { env });
    expect(repair.code).toBe(0);
    expect(repair.stdout).toContain('Moved the damaged database to');
    expect(readdirSync(home).some((n) => n.startsWith('engine.db.damaged-'))).toBe(true);
    const after = await runCli(['job', 'list', '--json'], { env });
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ ok: true, jobs: [] });
    expect((await runCli(['db', 'repair'], { env })).stdout).toContain('nothing to repair');
  });

  it('a zero-byte engine.db is refused, not shown as an empty history, and is left as it is', async () => {
    const { db, env } = await homeWithJobs(1);
    writeFileSync(db, '');
    const list = await runCli(['job', 'list'], { env });
    expect(list.code).toBe(4);
    expect(list.stderr).toContain('empty (0 bytes)');
    expect(list.stdout).not.toContain('No jobs');
    expect(statSync(db).size).toBe(0);
  });
});
