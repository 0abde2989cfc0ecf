import { describe, expect, it } from 'vitest';
import { describeActivity, PLAIN_ACTIONS, savedTo } from './activity-text';
import type { ActivityEntry } from './engine-client';

const entry = (
  action: string,
  more: Partial<Omit<ActivityEntry, 'action'>> = {},
): ActivityEntry => ({ seq: 1, at: 0, action, outcome: 'ok', ...more });

// action, what the engine wrote, the sentence people read
const TABLE: [string, Partial<ActivityEntry>, string][] = [
  ['vault.create', {}, 'Created the vault'],
  ['vault.unlock', {}, 'Unlocked the vault'],
  ['vault.unlock', { detail: 'with the recovery key' }, 'Unlocked the vault with the recovery key'],
  [
    'vault.unlock',
    { outcome: 'denied', detail: 'the password or recovery key does not open this vault' },
    'The vault stayed locked: the password or recovery key was not right',
  ],
  ['vault.lock', {}, 'Locked the vault'],
  [
    'vault.lock-pending',
    { detail: 'waiting for 2 job(s)' },
    'Will lock the vault once the running jobs are done',
  ],
  ['vault.password', {}, 'Changed the vault password'],
  [
    'vault.password',
    { outcome: 'denied' },
    'Did not change the password: the current one was not right',
  ],
  ['vault.recovery-key', {}, 'Made a new recovery key; the old one no longer works'],
  ['vault.recovery-key-confirmed', {}, 'Checked that the recovery key was written down'],
  [
    'library.add',
    { target: 'fabcdefghijkl', name: 'Tapes 1998', detail: '/home/ann/Tapes 1998' },
    'Added the folder “Tapes 1998” to the library',
  ],
  [
    'library.encrypt',
    { name: 'Tapes 1998', detail: '12 encrypted, 0 failed' },
    'Protected 12 files in “Tapes 1998”',
  ],
  [
    'library.encrypt',
    { outcome: 'error', name: 'Tapes 1998', detail: '10 encrypted, 2 failed' },
    'Protected 10 files in “Tapes 1998”; 2 could not be protected',
  ],
  ['library.remove', { name: 'Tapes 1998' }, 'Took “Tapes 1998” out of the library'],
  ['library.remove', {}, 'Took a folder out of the library'],
  ['library.upload', { name: 'cake.mp4' }, 'Added “cake.mp4” from this browser'],
  [
    'library.save',
    { name: 'Christmas 1989.mpg', detail: '/home/ann/Desktop/Christmas 1989.mpg' },
    'Saved “Christmas 1989.mpg” to Desktop',
  ],
  ['library.label', { name: 'tape1.mpg' }, 'Changed the title or date of “tape1.mpg”'],
  ['tape.clips', { name: 'tape1.mpg' }, 'Saved the clips of “tape1.mpg”'],
  ['tape.clips.export', {}, 'Saved the clips of a tape as a CSV file'],
  [
    'tape.make-clips',
    { name: 'tape1.mpg', detail: '3 started, 0 kept, 0 running' },
    'Started making the clips of “tape1.mpg”',
  ],
  [
    'library.clip',
    { name: 'tape1 clip 0.00.05.mkv' },
    'Added the clip “tape1 clip 0.00.05.mkv” to the library',
  ],
  [
    'library.clip',
    { outcome: 'error', detail: 'no room left' },
    'A clip of a tape could not be added to the library',
  ],
  ['library.read', { detail: '3 items' }, 'Read the dates and details of 3 items'],
  [
    'library.read',
    { outcome: 'error', detail: 'boom' },
    'Could not read the dates and details of some items',
  ],
  ['library.pictures', { detail: '1 items' }, 'Made pictures for 1 item'],
  [
    'library.pictures',
    { outcome: 'error', detail: '2 items left' },
    'Could not make pictures for 2 items',
  ],
  [
    'settings.change',
    { detail: '{"encryptOnAdd":false}' },
    'Changed a setting (protect files as soon as they are added: off)',
  ],
  ['settings.change', { detail: 'not json' }, 'Changed the settings'],
  ['goal.start', { detail: 'Preserve this tape: 4 jobs' }, 'Started “Preserve this tape”'],
  [
    'job.create',
    { name: 'cake.mp4', detail: 'web-h264 on birthday/cake.mp4' },
    'Started a job on “cake.mp4”',
  ],
  ['job.cancel', { name: 'cake.mp4' }, 'Cancelled the job on “cake.mp4”'],
  ['job.retry', { name: 'cake.mp4' }, 'Started the job on “cake.mp4” again'],
  [
    'job.save',
    { name: 'cake.mp4', detail: '/home/ann/Desktop/cake (web).mp4' },
    'Saved “cake (web).mp4” to Desktop',
  ],
  [
    'job.deliver',
    { name: 'cake.mp4', detail: 'C:\\Users\\ann\\Videos\\cake.mp4' },
    'Saved “cake.mp4” to Videos',
  ],
  [
    'job.deliver',
    { outcome: 'error', name: 'cake.mp4', detail: 'disk full' },
    'Could not save “cake.mp4”',
  ],
  ['job.delete', {}, 'Deleted a job and what it made'],
  ['job.succeeded', { name: 'cake.mp4' }, 'Finished the job on “cake.mp4”'],
  [
    'job.failed',
    { outcome: 'error', name: 'cake.mp4', detail: 'the input is not a video' },
    'The job on “cake.mp4” failed',
  ],
  ['job.cancelled', {}, 'The job on a file was cancelled'],
  ['server.pair', { target: 'lxc', name: 'lxc' }, 'Paired with the server “lxc”'],
  [
    'server.pair',
    { outcome: 'denied', name: 'lxc' },
    'Did not pair with “lxc”: it showed another fingerprint',
  ],
  ['server.unpair', { name: 'lxc' }, 'Unpaired the server “lxc”'],
];

describe('describeActivity', () => {
  it.each(TABLE)('%s %j', (action, more, sentence) => {
    expect(describeActivity(entry(action, more)).sentence).toBe(sentence);
  });

  it('has a line in the table for every action it knows', () => {
    expect(new Set(TABLE.map(([action]) => action))).toEqual(new Set(PLAIN_ACTIONS));
  });

  it('never shows an id, a dotted action or a path for a known action', () => {
    for (const [action, more] of TABLE) {
      const { sentence } = describeActivity(entry(action, { target: 'mabcdefghijkl', ...more }));
      expect(sentence).not.toMatch(
        /mabcdefghijkl|fabcdefghijkl|\b(vault|library|job|server|settings|goal)\.[a-z]|\/home/,
      );
    }
  });

  it('gives a failure its reason, as a sentence, and marks it', () => {
    const text = describeActivity(
      entry('job.failed', { outcome: 'error', name: 'a.mpg', detail: 'the input is not a video' }),
    );
    expect(text).toEqual({
      sentence: 'The job on “a.mpg” failed',
      detail: 'The input is not a video.',
      problem: true,
    });
  });

  it('shows an action it does not know as the engine wrote it', () => {
    expect(describeActivity(entry('library.teleport', { detail: 'x' }))).toEqual({
      sentence: 'library.teleport',
      detail: 'x',
      problem: false,
    });
  });
});

describe('savedTo', () => {
  it('splits a written path into the file and its folder', () => {
    expect(savedTo('/home/ann/Desktop/a.mp4')).toEqual({ file: 'a.mp4', folder: 'Desktop' });
    expect(savedTo('/a.mp4')).toEqual({ file: 'a.mp4', folder: '/' });
    expect(savedTo(undefined)).toBeUndefined();
  });
});
