// The activity log in plain words: each entry the engine wrote ("library.save", a file
// id, a path) becomes a sentence a family reads ("Saved “Christmas 1989.mp4” to Desktop").
// One table, one line per action; an action not in it shows as the engine wrote it, so
// nothing is hidden.
import type { ActivityEntry } from './engine-client';
import { asSentence } from './errors-text';

export interface ActivityText {
  sentence: string;
  /** More for the curious: a reason, a count, a notice. */
  detail?: string;
  /** The action was refused or failed. */
  problem: boolean;
}

type Phrase = (entry: ActivityEntry, name: string | undefined) => string | ActivityText;

const q = (name: string) => `“${name}”`;
const either = (name: string | undefined, fallback: string) => (name ? q(name) : fallback);

/** A saved file's name and the folder it went to, from the path the engine wrote. */
export function savedTo(path: string | undefined): { file: string; folder: string } | undefined {
  if (!path) return undefined;
  const parts = path.split(/[\\/]+/).filter(Boolean);
  const file = parts.pop();
  if (!file) return undefined;
  return { file, folder: parts.pop() ?? path.slice(0, 1) };
}

const saved: Phrase = (e, name) => {
  const where = savedTo(e.detail);
  if (e.outcome !== 'ok') {
    return `Could not save ${either(name, 'a copy')}`;
  }
  return where ? `Saved ${q(where.file)} to ${where.folder}` : `Saved ${either(name, 'a copy')}`;
};

/** "3 items", "12 encrypted, 1 failed": the numbers the engine wrote. */
const count = (detail: string | undefined, word: string): number | undefined => {
  const m = new RegExp(`(\\d+) ${word}`).exec(detail ?? '');
  return m ? Number(m[1]) : undefined;
};
const items = (n: number | undefined) =>
  n === undefined ? 'some items' : `${n} item${n === 1 ? '' : 's'}`;

const SETTING_NAMES: Record<string, string> = {
  encryptOnAdd: 'protect files as soon as they are added',
  deliveryFolder: 'folder for finished copies',
};

const PHRASES: Record<string, Phrase> = {
  'vault.create': () => 'Created the vault',
  'vault.unlock': (e) =>
    e.outcome === 'ok'
      ? `Unlocked the vault${e.detail ? ` ${e.detail}` : ''}`
      : 'The vault stayed locked: the password or recovery key was not right',
  'vault.lock': (e) => ({
    sentence: 'Locked the vault',
    // Why, when it was not the family's own click: "the engine shut down during the job".
    detail: e.detail ? asSentence(e.detail) : undefined,
    problem: false,
  }),
  'vault.lock-pending': () => 'Will lock the vault once the running jobs are done',
  'vault.password': (e) =>
    e.outcome === 'ok'
      ? 'Changed the vault password'
      : 'Did not change the password: the current one was not right',
  'vault.recovery-key': () => 'Made a new recovery key; the old one no longer works',
  'vault.recovery-key-confirmed': () => 'Checked that the recovery key was written down',
  'library.add': (e, name) => ({
    sentence: `Added the folder ${either(name, 'a folder')} to the library`,
    // The engine writes the folder's path here, or a notice when nothing new was added.
    detail: e.detail && !e.detail.startsWith('/') ? e.detail : undefined,
    problem: false,
  }),
  'library.encrypt': (e, name) => {
    const done = count(e.detail, 'encrypted');
    const failed = count(e.detail, 'failed') ?? 0;
    const where = either(name, 'a folder');
    if (e.outcome === 'ok') return `Protected ${done ?? 'the'} files in ${where}`;
    return failed > 0
      ? `Protected ${done ?? 0} files in ${where}; ${failed} could not be protected`
      : `Could not protect the files in ${where}`;
  },
  'library.remove': (e, name) => ({
    sentence: `Took ${either(name, 'a folder')} out of the library`,
    detail: e.detail ? asSentence(e.detail) : undefined,
    problem: false,
  }),
  'library.upload': (_e, name) => `Added ${either(name, 'a file')} from this browser`,
  'library.save': saved,
  'library.label': (_e, name) => `Changed the title or date of ${either(name, 'an item')}`,
  'tape.clips': (_e, name) => `Saved the clips of ${either(name, 'a tape')}`,
  'tape.clips.export': (_e, name) => `Saved the clips of ${either(name, 'a tape')} as a CSV file`,
  'tape.make-clips': (_e, name) => `Started making the clips of ${either(name, 'a tape')}`,
  'library.clip': (e, name) =>
    e.outcome === 'ok'
      ? `Added the clip ${either(name, 'of a tape')} to the library`
      : {
          sentence: 'A clip of a tape could not be added to the library',
          detail: e.detail ? asSentence(e.detail) : undefined,
          problem: true,
        },
  'library.read': (e) =>
    e.outcome === 'ok'
      ? `Read the dates and details of ${items(count(e.detail, 'items'))}`
      : `Could not read the dates and details of ${items(count(e.detail, 'items'))}`,
  'library.pictures': (e) =>
    e.outcome === 'ok'
      ? `Made pictures for ${items(count(e.detail, 'items'))}`
      : `Could not make pictures for ${items(count(e.detail, 'items'))}`,
  'settings.change': (e) => {
    let changed: Record<string, unknown> = {};
    try {
      changed = JSON.parse(e.detail ?? '{}') as Record<string, unknown>;
    } catch {
      // Not JSON: the general sentence below.
    }
    const said = Object.entries(changed).map(
      ([key, value]) =>
        `${SETTING_NAMES[key] ?? key}: ${value === true ? 'on' : value === false ? 'off' : String(value)}`,
    );
    return said.length > 0 ? `Changed a setting (${said.join('; ')})` : 'Changed the settings';
  },
  'goal.start': (e) => {
    // The engine writes "<goal's name>: <n> jobs".
    const goal = e.detail?.split(':')[0]?.trim();
    return goal ? `Started “${goal}”` : 'Started a goal';
  },
  'job.create': (_e, name) => `Started a job on ${either(name, 'a file')}`,
  'job.cancel': (_e, name) => `Cancelled the job on ${either(name, 'a file')}`,
  'job.retry': (_e, name) => `Started the job on ${either(name, 'a file')} again`,
  'job.save': saved,
  'job.deliver': saved,
  'job.delete': (_e, name) => `Deleted a job${name ? ` on ${q(name)}` : ''} and what it made`,
  'job.succeeded': (_e, name) => `Finished the job on ${either(name, 'a file')}`,
  'job.failed': (_e, name) => `The job on ${either(name, 'a file')} failed`,
  'job.cancelled': (_e, name) => `The job on ${either(name, 'a file')} was cancelled`,
  'server.pair': (e, name) =>
    e.outcome === 'ok'
      ? `Paired with the server ${either(name, 'a server')}`
      : `Did not pair with ${either(name, 'a server')}: it showed another fingerprint`,
  'server.unpair': (_e, name) => `Unpaired the server ${either(name, 'a server')}`,
};

/** Which actions have a sentence of their own (the tests check every one). */
export const PLAIN_ACTIONS: readonly string[] = Object.keys(PHRASES);

export function describeActivity(entry: ActivityEntry): ActivityText {
  const problem = entry.outcome !== 'ok';
  const phrase = PHRASES[entry.action];
  if (!phrase) {
    return { sentence: entry.action, detail: entry.detail, problem };
  }
  const said = phrase(entry, entry.name);
  if (typeof said !== 'string') return { ...said, problem: said.problem || problem };
  // A failure's reason (the engine's words) is worth showing; a success's detail is a
  // path or a count the sentence already says.
  return {
    sentence: said,
    detail: problem && entry.detail ? asSentence(entry.detail) : undefined,
    problem,
  };
}
