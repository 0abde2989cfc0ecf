// What an FFmpeg build can do: its encoder, muxer and filter names, read once per engine
// start. Presets use them to choose at run time (SVT-AV1 or libaom, whether bm3d is there)
// and to say what is missing.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ToolCache } from './tool-cache';

const run = promisify(execFile);

export interface Capabilities {
  encoders: ReadonlySet<string>;
  muxers: ReadonlySet<string>;
  filters: ReadonlySet<string>;
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

/**
 * Names from a `-filters` listing: each line is a flags column (`TSC`, `...`), the name,
 * then its pads (`V->V`); the legend above has no such pads.
 */
export function parseFilterListing(stdout: string): Set<string> {
  const names = new Set<string>();
  for (const line of stdout.split('\n')) {
    const match = /^\s*[T.][S.][C.]\s+(\S+)\s+\S*->\S*\s/.exec(line);
    if (match) names.add(match[1]!);
  }
  return names;
}

export async function readCapabilities(
  ffmpegPath: string,
  cache?: ToolCache,
): Promise<Capabilities> {
  const list = async (field: 'encoders' | 'muxers' | 'filters') => {
    const parse = field === 'filters' ? parseFilterListing : parseListing;
    const ask = async () => [
      ...parse(
        (await run(ffmpegPath, ['-hide_banner', `-${field}`], { env: { LC_ALL: 'C' } })).stdout,
      ),
    ];
    return new Set(cache ? await cache.get(ffmpegPath, field, ask) : await ask());
  };
  const [encoders, muxers, filters] = await Promise.all([
    list('encoders'),
    list('muxers'),
    list('filters'),
  ]);
  return { encoders, muxers, filters };
}
