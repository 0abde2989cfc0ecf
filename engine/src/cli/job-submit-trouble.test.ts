// `job submit` when it cannot go on, through the real CLI: no password (a clear refusal,
// not a stack trace), and a disk that fills during the job (root only: a small tmpfs as
// the data folder). The run ends with DISK_FULL and what happens next instead of a stack
// trace or a hang, and the job is not left `running`: once there is room, `job work`
// finishes it.

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeClip } from '../testing/media';
import { runCli } from '../testing/cli';
import { freshDir } from '../testing/tmp';
import { canMountTmpfs } from '../testing/tmpfs';

describe('job submit in trouble', () => {
  it('without a password: PASSWORD_REQUIRED in one line, no stack trace', async () => {
    const dir = await freshDir();
    const clip = await makeClip(dir);
    const res = await runCli(['job', 'submit', clip, '--preset', 'remux'], {
      env: { KEEPSAKE_HOME: join(dir, 'home') },
    });
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toMatch(/^keepsake: .*\[PASSWORD_REQUIRED\]$/);
  });

  // Root only: a tmpfs is how the data folder's disk fills without filling the real one.
  it.skipIf(!canMountTmpfs())(
    'a disk that fills during the job: DISK_FULL and what comes next, then job work finishes it',
    async () => {
      const dir = await freshDir();
      const clip = await makeClip(dir, 'clip.mp4', { seconds: 4 });
      const home = join(dir, 'home');
      mkdirSync(home);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', home]);
      try {
        const env = { KEEPSAKE_HOME: home, KEEPSAKE_PASSWORD: 'quiet lantern orchard' };
        expect((await runCli(['vault', 'init', '--kdf-log-n', '10'], { env })).code).toBe(0);
        expect((await runCli(['job', 'list'], { env })).code).toBe(0);
        // Leave about 120 KB: the job is queued, then its output fills the disk.
        const free = statfsSync(home);
        writeFileSync(join(home, 'filler'), Buffer.alloc(free.bavail * free.bsize - 120 * 1024));
        const res = await runCli(['job', 'submit', clip, '--preset', 'remux'], { env });
        expect(res.code, res.stderr).toBe(6);
        expect(res.stderr).toContain('[DISK_FULL]');
        expect(res.stderr).toContain('left to the next `keepsake job work`');
        expect(res.stderr).not.toMatch(/^\s+at /m);

        rmSync(join(home, 'filler'));
        const work = await runCli(['job', 'work', '--until-idle'], { env });
        expect(work.code, work.stderr).toBe(0);
        const list = JSON.parse((await runCli(['job', 'list', '--json'], { env })).stdout) as {
          jobs: { state: string }[];
        };
        expect(list.jobs.map((j) => j.state)).toEqual(['succeeded']);
      } finally {
        execFileSync('umount', [home]);
      }
    },
    120_000,
  );
});
