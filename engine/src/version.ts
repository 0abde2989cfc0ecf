// The engine's version, from its package.json (one source of truth).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_ROOT } from './engine-root';

export const ENGINE_VERSION: string = (
  JSON.parse(readFileSync(join(ENGINE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
