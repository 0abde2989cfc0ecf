// The progress line a person reads on stderr while a long command runs.

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Progress } from './progress';

/** The lines a Progress writes, stopped at once (the final line is always drawn). */
function lines(fill: (p: Progress) => void, totals: { files: number; bytes: number }): string[] {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += String(chunk);
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  const progress = new Progress(totals, { json: false, quiet: false, stream });
  fill(progress);
  // Drawn once, as the timer would.
  (progress as unknown as { draw(): void }).draw();
  return text.trim().split('\n');
}

describe('the progress line', () => {
  it('counts bytes, with rate and time left, when it knows how many', () => {
    const [line] = lines((p) => (p.addBytes(500), p.fileDone()), { files: 2, bytes: 1000 });
    expect(line).toMatch(/^50\.0% {2}files 1\/2 {2}500 B\/1000 B {2}\S+ \S+\/s {2}ETA /);
  });

  it('counts files when only they are known, rather than saying 100 % at the start', () => {
    expect(lines(() => {}, { files: 4, bytes: 0 })).toEqual(['0.0%  files 0/4']);
    expect(lines((p) => p.fileDone(), { files: 4, bytes: 0 })).toEqual(['25.0%  files 1/4']);
  });
});
