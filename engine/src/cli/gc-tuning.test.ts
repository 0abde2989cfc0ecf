import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('./gc-tuning.ts', import.meta.url));

// In a child process, since the setting is process-wide: tune (or not), then grow and drop
// an old generation of ~200 MB, and count the incremental-marking starts V8 reports.
function markingStarts(env: Record<string, string>): number {
  const script = `
    const { tuneGarbageCollector } = await import(${JSON.stringify(MODULE)});
    tuneGarbageCollector(process.env);
    for (let round = 0; round < 4; round++) {
      const keep = [];
      for (let i = 0; i < 500_000; i++) keep.push({ i, s: 'x' + i, a: [i, i] });
      keep.length = 0;
    }
  `;
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--trace-incremental-marking', '--input-type=module', '-e', script],
    { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 },
  );
  expect(child.status, child.stderr).toBe(0);
  return child.stdout.split('\n').filter((l) => l.includes('[IncrementalMarking] Start')).length;
}

describe('tuneGarbageCollector', () => {
  it('turns incremental marking off, unless KEEPSAKE_GC=default', () => {
    expect(markingStarts({ KEEPSAKE_GC: 'default' })).toBeGreaterThan(0);
    expect(markingStarts({})).toBe(0);
  });
});
