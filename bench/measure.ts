// Running one command for a benchmark: its wall time, its stdout, and its peak memory.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Measured {
  seconds: number;
  out: string;
  /** The process's own peak RSS (VmHWM), in MiB. */
  rssMb: number;
}

/** Runs `cmd`, returning wall seconds, its stdout, and the peak RSS it (or it alone) reached. */
export function measure(cmd: string, args: string[]): Promise<Measured> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let peakKb = 0;
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    // VmHWM is the process's own high-water mark; sample it until the process ends.
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        /* gone */
      }
    };
    const timer = setInterval(sample, 20);
    child.on('close', (code) => {
      clearInterval(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`));
      else resolvePromise({ seconds, out, rssMb: peakKb / 1024 });
    });
  });
}
