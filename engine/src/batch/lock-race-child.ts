// A contender for lock-race.test.ts, in its own process: on "take <dir>" it tries to take
// the batch lock of <dir> and answers "won" or "busy"; on "release" it lets go.

import { createInterface } from 'node:readline';
import { isKeepsakeError } from '../core/errors';
import { lockBatch } from './lock';

let unlock: (() => Promise<void>) | undefined;
const say = (line: string) => process.stdout.write(`${line}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const [command, dir] = line.split(' ');
  if (command === 'take' && dir) {
    try {
      unlock = await lockBatch(dir);
      say('won');
    } catch (err) {
      say(isKeepsakeError(err, 'BATCH_BUSY') ? 'busy' : `error ${String(err)}`);
    }
  } else if (command === 'release') {
    await unlock?.();
    unlock = undefined;
    say('released');
  }
}
