// The engine package's folder, found from this module whether it runs as TypeScript
// sources (engine/src/…) or bundled (engine/dist/cli.mjs): the nearest folder upwards
// whose package.json is @keepsake/engine.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findEngineRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === '@keepsake/engine'
    ) {
      return dir;
    }
    if (dirname(dir) === dir) throw new Error('cannot find the @keepsake/engine package folder');
  }
}

export const ENGINE_ROOT = findEngineRoot();
