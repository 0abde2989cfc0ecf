// Root-only tests act as `nobody` (chmod 000 does not stop root). That child process
// still has to read the checkout: node itself, tsx, the sources and node_modules. A
// checkout under a 0700 folder (a clone in /root) is out of its reach, and those cases
// then skip with the reason below instead of failing for a reason that is not theirs.

import { spawnSync } from 'node:child_process';
import { constants } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { engineRoot } from './paths';

export const NOBODY = 65534;

let probed: string | undefined | null = null;

/**
 * Why `nobody` cannot run code from this checkout, or undefined when it can (or when
 * this is not root, so no test switches users).
 */
export function nobodyCannotRunCheckout(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  if (probed !== null) return probed;
  const require = createRequire(import.meta.url);
  const needed = [
    join(engineRoot, 'bin', 'keepsake.mjs'),
    join(engineRoot, 'src', 'index.ts'),
    require.resolve('tsx/package.json'),
  ];
  const check = `const fs = require('node:fs');
for (const p of ${JSON.stringify(needed)}) fs.accessSync(p, ${constants.R_OK});`;
  const res = spawnSync(process.execPath, ['-e', check], {
    uid: NOBODY,
    gid: NOBODY,
    stdio: 'ignore',
    timeout: 10_000,
  });
  probed =
    res.status === 0
      ? undefined
      : `user nobody cannot read this checkout (${engineRoot}), e.g. a clone under a 0700 ` +
        'folder such as /root: this root-only case runs code from it as nobody';
  return probed;
}

let nodeProbed: string | undefined | null = null;

/**
 * Why `nobody` cannot run this Node binary (one installed under /root, say), or
 * undefined when it can or this is not root. For root-only cases whose code as nobody
 * is a plain Node script, not the checkout.
 */
export function nobodyCannotRunNode(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  if (nodeProbed !== null) return nodeProbed;
  const res = spawnSync(process.execPath, ['-e', '0'], {
    uid: NOBODY,
    gid: NOBODY,
    stdio: 'ignore',
    timeout: 10_000,
  });
  nodeProbed = res.status === 0 ? undefined : `user nobody cannot run ${process.execPath}`;
  return nodeProbed;
}
