// Compiles the engine's CLI into one ES module, engine/dist/cli.mjs, run by `npm ci`
// (the root package's `prepare`). Running compiled JavaScript starts in a third of the
// time and ~40 MB less memory than compiling TypeScript on the fly; bin/keepsake.mjs
// falls back to the sources whenever they are newer than this build.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const engine = fileURLToPath(new URL('..', import.meta.url));

await build({
  absWorkingDir: engine,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Dependencies stay in node_modules: they are loaded as published.
  packages: 'external',
  logLevel: 'warning',
});
