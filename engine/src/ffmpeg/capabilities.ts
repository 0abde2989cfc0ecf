// What an FFmpeg build can do: its encoder and muxer names, read once per engine start.
// Presets use them to choose at run time (SVT-AV1 or libaom) and to say what is missing.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ToolCache } from './tool-cache';

const run = promisify(execFile);

export interface Capabilities {
  encoders: ReadonlySet<string>;
  muxers: ReadonlySet<string>;
}

/**
 * Names from a `-encoders` / `-muxers` listing. Entries follow the legend's `--` line;
 * each is a flags column (`V.....`, `DE`, ` E`) then the name(s).
 */
export function parseListing(stdout: string): Set<string> {
  const names = new Set<string>();
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => /^\s*-+\s*$/.test(line));
  for (const line of lines.slice(start + 1)) {
    const [flags, name] = line.trim().split(/\s+/);
    if (!flags || !name || !/^[A-Z.]+$/.test(flags)) continue;
    for (const n of name.split(',')) names.add(n);
  }
  return names;
}

export async function readCapabilities(
  ffmpegPath: string,
  cache?: ToolCache,
): Promise<Capabilities> {
  const list = async (flag: '-encoders' | '-muxers') => {
    const ask = async () => [
      ...parseListing(
        (await run(ffmpegPath, ['-hide_banner', flag], { env: { LC_ALL: 'C' } })).stdout,
      ),
    ];
    const field = flag === '-encoders' ? 'encoders' : 'muxers';
    return new Set(cache ? await cache.get(ffmpegPath, field, ask) : await ask());
  };
  const [encoders, muxers] = await Promise.all([list('-encoders'), list('-muxers')]);
  return { encoders, muxers };
}
