// The CLI and the desktop engine (`keepsake desktop`, the Electron app's child) hold the
// vault's master key and, briefly, the password. A core dump of either would write them
// to disk in the clear (systemd-coredump keeps dumps for days), so both turn dumps off
// before anything secret is read.
//
// Node has no setrlimit or prctl, so on Linux:
//   1. prlimit(1) (util-linux) lowers this very process's RLIMIT_CORE to 0, soft and hard
//      (a process may lower its own limits; the hard 0 also binds every child);
//   2. /proc/self/coredump_filter is set to 0, so that even a dump made despite 1 (no
//      prlimit installed, or a core_pattern pipe that ignores the limit) holds no
//      anonymous memory, which is where the heap and its keys live.
// The process stays "dumpable" (prctl PR_SET_DUMPABLE needs native code): another process
// of the same user can still ptrace it, as it could read its files anyway.
// macOS sets RLIMIT_CORE to 0 by default and has no prlimit; Windows writes no core
// dumps (a Windows Error Reporting LocalDumps policy could, and is left to the admin).

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export interface CoreDumpState {
  /** RLIMIT_CORE is 0 (soft and hard). */
  limit: boolean;
  /** coredump_filter is 0. */
  filter: boolean;
}

let done: CoreDumpState | undefined;

export function disableCoreDumps(): CoreDumpState {
  if (done) return done;
  const state: CoreDumpState = { limit: false, filter: false };
  if (process.platform === 'linux') {
    try {
      execFileSync('prlimit', ['--pid', String(process.pid), '--core=0:0'], {
        stdio: 'ignore',
        timeout: 5_000,
      });
      state.limit = true;
    } catch {
      // No prlimit here (a minimal container): the filter below still keeps keys out.
    }
    try {
      writeFileSync('/proc/self/coredump_filter', '0');
      state.filter = true;
    } catch {
      // /proc not mounted: nothing more to do from JavaScript.
    }
  }
  done = state;
  return state;
}
