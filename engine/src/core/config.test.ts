import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { configPath, readConfig } from './config';
import { isKeepsakeError } from './errors';
import { freshDir } from '../testing/tmp';

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('settings file', () => {
  it('is optional, and read when present', async () => {
    const dir = await freshDir();
    expect(await readConfig(dir)).toEqual({});
    await writeFile(configPath(dir), JSON.stringify({ scratch: '/mnt/ram', concurrency: 2 }));
    expect(await readConfig(dir)).toEqual({ scratch: '/mnt/ram', concurrency: 2 });
  });

  it('names an unknown or mistyped setting instead of ignoring it', async () => {
    const dir = await freshDir();
    await writeFile(configPath(dir), JSON.stringify({ scrach: '/mnt/ram' }));
    const unknown = await caught(readConfig(dir));
    expect(isKeepsakeError(unknown, 'USAGE')).toBe(true);
    expect(String(unknown)).toMatch(/unknown setting "scrach"/);
    await writeFile(configPath(dir), JSON.stringify({ allowDiskScratch: 'yes' }));
    expect(String(await caught(readConfig(dir)))).toMatch(
      /"allowDiskScratch" has an invalid value/,
    );
    await writeFile(configPath(dir), '{"concurrency": 1,');
    expect(String(await caught(readConfig(dir)))).toMatch(/config.json: is not valid JSON/);
  });
});
