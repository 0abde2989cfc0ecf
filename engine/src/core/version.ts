// The engine's version, from its package.json (one source of truth).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_ROOT } from './engine-root';

export const ENGINE_VERSION: string = (
  JSON.parse(readFileSync(join(ENGINE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

/**
 * The commit and build time: written into engine/dist/build-info.json by the build, or
 * read from git when running from sources (a checkout), else "unknown".
 */
export const BUILD_INFO: { commit: string; buildTime: string } = (() => {
  try {
    return JSON.parse(readFileSync(join(ENGINE_ROOT, 'dist', 'build-info.json'), 'utf8')) as {
      commit: string;
      buildTime: string;
    };
  } catch {
    return { commit: 'unknown', buildTime: 'unknown' };
  }
})();
