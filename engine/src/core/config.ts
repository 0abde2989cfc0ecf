// The engine's settings file, `<data dir>/config.json`. Every key is optional; an
// unknown key or a wrong type is an error that names it, so a typo never silently falls
// back to a default.
//
//   {
//     "scratch": "/var/tmp/keepsake",   FFmpeg's working folder (it never holds media)
//     "allowDiskScratch": false,        ignored: older versions needed it for a disk scratch
//     "ffmpegPath": "/opt/ffmpeg/bin/ffmpeg",
//     "ffprobePath": "/opt/ffmpeg/bin/ffprobe",
//     "concurrency": 1,                 jobs at once
//     "stallSeconds": 120,              kill a job whose FFmpeg makes no progress this long
//     "uploadChunkMiB": 32,             signed chunks sent to a paired server (a broken
//                                       connection costs at most one; 1 to 256)
//     "proxyAllow": [                   what /proxy/stream may fetch (docs/stream-proxy.md);
//       { "host": "*.example.net" }     none by default
//     ],
//     "upstreamProxy": "socks5://user:pass@host:1080"   reach those through a SOCKS5 or
//                                       HTTP CONNECT proxy (docs/stream-proxy.md)
//   }

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeepsakeError } from './errors';

// The stream proxy's allowlist, as written in the settings file (proxy/allowlist.ts
// matches URLs against these entries).
export type ProxyScheme = 'http' | 'https';

export interface AllowlistEntry {
  /**
   * 'media.example.com' (exactly that host), '*.example.com' (its subdomains, not the
   * domain itself), another picomatch glob, or an IP literal ('192.168.1.20', '[fd00::7]').
   */
  host: string;
  /** Default ['https']: plain http sends the family's media in the clear, so it is opt-in. */
  schemes?: ProxyScheme[];
  /** Ports; default any. */
  ports?: number[];
  /** picomatch globs on the URL path as sent (percent-encoded); default ['**'], every path. */
  paths?: string[];
  /** Special-purpose ranges this host may resolve to, e.g. ['192.168.1.0/24']; default none. */
  allowPrivate?: string[];
  /** Follow a redirect from an https URL to an http URL of this entry (default false). */
  allowDowngrade?: boolean;
}

export interface EngineConfig {
  scratch?: string;
  /** Ignored since outputs stream into the encrypting sink; accepted so old files load. */
  allowDiskScratch?: boolean;
  ffmpegPath?: string;
  ffprobePath?: string;
  concurrency?: number;
  stallSeconds?: number;
  uploadChunkMiB?: number;
  proxyAllow?: AllowlistEntry[];
  /** `socks5://user:pass@host:port` or `http://host:port`: /proxy/stream goes through it. */
  upstreamProxy?: string;
}

const KEYS: Record<keyof EngineConfig, (v: unknown) => boolean> = {
  scratch: (v) => typeof v === 'string' && v.length > 0,
  allowDiskScratch: (v) => typeof v === 'boolean',
  ffmpegPath: (v) => typeof v === 'string' && v.length > 0,
  ffprobePath: (v) => typeof v === 'string' && v.length > 0,
  concurrency: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 64,
  stallSeconds: (v) => Number.isInteger(v) && (v as number) >= 5 && (v as number) <= 86_400,
  uploadChunkMiB: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 256,
  // The shape only: the entries themselves are checked where the proxy is built, so every
  // other command starts without loading the allowlist's glob matcher.
  proxyAllow: (v) =>
    Array.isArray(v) && v.every((e) => typeof e === 'object' && e !== null && !Array.isArray(e)),
  // The shape only, like proxyAllow: proxy/upstream-proxy.ts parses it.
  upstreamProxy: (v) => typeof v === 'string' && v.length > 0,
};

export function configPath(dataDir: string): string {
  return join(dataDir, 'config.json');
}

export function parseConfig(text: string, file: string): EngineConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new KeepsakeError('USAGE', `is not valid JSON (${(err as Error).message})`, { file });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new KeepsakeError('USAGE', 'must hold one JSON object', { file });
  }
  for (const [key, value] of Object.entries(raw)) {
    const check = KEYS[key as keyof EngineConfig];
    if (!check) {
      throw new KeepsakeError(
        'USAGE',
        `unknown setting "${key}" (known: ${Object.keys(KEYS).join(', ')})`,
        { file },
      );
    }
    if (!check(value)) {
      throw new KeepsakeError('USAGE', `setting "${key}" has an invalid value`, { file });
    }
  }
  return raw as EngineConfig;
}

/** The settings in `dataDir`, or none when the file does not exist. */
export async function readConfig(dataDir: string): Promise<EngineConfig> {
  const file = configPath(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new KeepsakeError('SOURCE_UNREADABLE', 'cannot read the settings file', {
      file,
      cause: err,
    });
  }
  return parseConfig(text, file);
}
