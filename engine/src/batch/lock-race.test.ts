// Two processes that find the same stale batch lock (a run killed with -9) at the same
// moment: exactly one may take it over, every round. Before the takeover was atomic, both
// removed the stale lock and both went on to "hold" it (11 of 60 rounds in the report).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freshDir } from '../testing/tmp';
import { LOCK_FILE } from './lock';

const CHILD = fileURLToPath(new URL('./lock-race-child.ts', import.meta.url));

interface Contender {
  child: ChildProcess;
  next: () => Promise<string>;
  send: (line: string) => void;
}

function contender(): Contender {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  });
  return {
    child,
    next: () =>
      lines.length
        ? Promise.resolve(lines.shift()!)
        : new Promise((resolve) => waiting.push(resolve)),
    send: (line) => child.stdin!.write(`${line}\n`),
  };
}

describe('batch lock', () => {
  it('two processes taking over one stale lock: exactly one wins, in every one of 150 rounds', async () => {
    const root = await freshDir();
    const a = contender();
    const b = contender();
    // A pid that has exited: its lock is stale.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const outcomes: string[] = [];
    try {
      for (let round = 0; round < 150; round++) {
        const dir = join(root, String(round));
        await mkdir(dir);
        await writeFile(join(dir, LOCK_FILE), String(dead));
        a.send(`take ${dir}`);
        b.send(`take ${dir}`);
        const answers = [await a.next(), await b.next()];
        outcomes.push(answers.join('/'));
        for (const [who, answer] of [
          [a, answers[0]],
          [b, answers[1]],
        ] as const) {
          if (answer === 'won') {
            who.send('release');
            expect(await who.next()).toBe('released');
          }
        }
        // Nothing is left behind: no lock, no staged or moved-aside lock files.
        expect(await readdir(dir)).toEqual([]);
      }
    } finally {
      a.child.kill();
      b.child.kill();
    }
    const wins = outcomes.map((o) => o.split('/').filter((x) => x === 'won').length);
    expect(outcomes.filter((o) => o.includes('error'))).toEqual([]);
    expect(wins.filter((w) => w !== 1).length, outcomes.join(' ')).toBe(0);
  }, 120_000);
});
