#!/usr/bin/env node
// The `keepsake` command. Runs the compiled engine (engine/dist/cli.mjs, built by
// `npm ci`) when it is at least as new as every source file, else the TypeScript
// sources through tsx, so that an edited checkout never runs a stale build.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const engine = fileURLToPath(new URL('..', import.meta.url));
const compiled = join(engine, 'dist', 'cli.mjs');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function compiledIsFresh() {
  try {
    const built = statSync(compiled).mtimeMs;
    // A packaged app ships the build without sources.
    return !existsSync(join(engine, 'src')) || built >= newestSource(join(engine, 'src'));
  } catch {
    return false;
  }
}

let entry = pathToFileURL(compiled).href;
if (!compiledIsFresh()) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = pathToFileURL(join(engine, 'src', 'cli', 'main.ts')).href;
}
const { main } = await import(entry);
process.exitCode = await main(process.argv);
