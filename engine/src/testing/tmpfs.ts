// Tests that need a disk that fills up (a full database, an upload that does not fit)
// mount a tiny tmpfs: only root can, and not in every container.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let answer: boolean | undefined;

/** Whether this machine lets us mount a tiny tmpfs (root, and not a locked-down container). */
export function canMountTmpfs(): boolean {
  if (answer !== undefined) return answer;
  answer = false;
  if (process.getuid?.() !== 0) return answer;
  const dir = mkdtempSync(join(tmpdir(), 'keepsake-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    answer = true;
  } catch {
    answer = false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return answer;
}
