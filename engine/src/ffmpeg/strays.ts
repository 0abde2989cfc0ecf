// FFmpeg left running by an engine that died (kill -9, a crash, power management). Where
// the system has no parent-death signal (tool-process.ts), such a child would keep
// burning CPU for as long as its job took. So each engine process writes down the
// children it starts (pid, start time, binary, working folder) in its data folder
// (cache/children/<engine pid>.json); the next engine to start there kills the children of engines that are gone, when the pid
// still names the very process that was written down (same start time, same binary: a
// reused pid is left alone), and removes their working folders.

import { execFileSync } from 'node:child_process';
import {
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { basename, isAbsolute, join, relative } from 'node:path';

interface ChildRecord {
  pid: number;
  /** The process's start time, as processStart() reads it. */
  start: string;
  tool: string;
  cwd?: string;
}

interface EngineRecord {
  pid: number;
  start: string;
  children: ChildRecord[];
}

let registryFile: string | undefined;
/** This engine's own start time (asked once: off Linux it costs a `ps`). */
let ownStart: string | undefined;
const children = new Map<number, ChildRecord>();

/**
 * When the process `pid` started: the kernel's start time on Linux, `ps`'s elsewhere;
 * undefined when it is not running or the system cannot say (Windows).
 */
export function processStart(pid: number): string | undefined {
  try {
    if (process.platform === 'linux') {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      // Fields after the command name (which may hold spaces and parentheses); the
      // start time is field 22, the 20th after the name.
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    }
    if (process.platform === 'win32') return undefined;
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    }).trim();
    return out || undefined;
  } catch {
    return undefined;
  }
}

/** Whether the running process `pid` is the binary `tool` (best effort off Linux). */
function runs(pid: number, tool: string): boolean {
  try {
    if (process.platform === 'linux') {
      return readlinkSync(`/proc/${pid}/exe`) === realpathSync(tool);
    }
    const comm = execFileSync('ps', ['-o', 'comm=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    }).trim();
    return basename(comm) === basename(tool);
  } catch {
    return false;
  }
}

function save(): void {
  if (!registryFile) return;
  const record: EngineRecord = {
    pid: process.pid,
    start: ownStart ?? '',
    children: [...children.values()],
  };
  const temp = `${registryFile}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify(record), { mode: 0o600 });
    renameSync(temp, registryFile);
  } catch {
    // The registry is a second line behind the parent-death signal: a data folder that
    // went away (or filled up) must not fail the job whose FFmpeg is starting.
  }
}

/**
 * Writes this engine's children down in `registryDir` from now on (at the engine's
 * start). A second engine in one process (tests) moves the registry to its own folder.
 */
export async function trackChildrenIn(registryDir: string): Promise<void> {
  ownStart ??= processStart(process.pid);
  if (ownStart === undefined) return;
  await mkdir(registryDir, { recursive: true, mode: 0o700 });
  registryFile = join(registryDir, `${process.pid}.json`);
  save();
}

/** Notes a child just started; call the returned function when it has exited. */
export function registerChild(pid: number, tool: string, cwd: string | undefined): () => void {
  if (!registryFile) return () => undefined;
  const start = processStart(pid);
  if (start === undefined) return () => undefined;
  children.set(pid, { pid, start, tool, cwd });
  save();
  return () => {
    if (children.get(pid)?.start !== start) return;
    children.delete(pid);
    save();
  };
}

export interface StrayReport {
  /** Pids killed. */
  killed: number[];
  /** Working folders removed. */
  cleaned: string[];
}

/**
 * Kills the children that engines no longer running wrote down in `dir`, and removes
 * their working folders when inside `scratchRoot`. An engine still running (the desktop
 * while the CLI starts, say) keeps its children.
 */
export async function reapStrays(dir: string, scratchRoot: string): Promise<StrayReport> {
  const report: StrayReport = { killed: [], cleaned: [] };
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const file = join(dir, name);
    let record: EngineRecord;
    try {
      record = JSON.parse(await readFile(file, 'utf8')) as EngineRecord;
    } catch {
      continue; // Being written by its engine right now, or not ours to read.
    }
    if (record.pid === process.pid) continue;
    if (record.start !== '' && processStart(record.pid) === record.start) continue;
    for (const child of record.children ?? []) {
      if (processStart(child.pid) === child.start && runs(child.pid, child.tool)) {
        try {
          process.kill(child.pid, 'SIGKILL');
          report.killed.push(child.pid);
        } catch {
          // Gone between the check and the kill.
        }
      }
      const inside = child.cwd ? relative(scratchRoot, child.cwd) : '';
      if (inside && !inside.startsWith('..') && !isAbsolute(inside)) {
        await rm(child.cwd!, { recursive: true, force: true });
        report.cleaned.push(child.cwd!);
      }
    }
    rmSync(file, { force: true });
  }
  return report;
}
