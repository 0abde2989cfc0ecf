#!/usr/bin/env node
// The `keepsake` command. The engine is TypeScript run through tsx, so a fresh
// `npm ci` is all it takes; no build step stands between a clone and a working CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
