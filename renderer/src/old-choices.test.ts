import { describe, expect, it } from 'vitest';
import type { SettingsView } from './engine-client';
import { EngineError } from './engine-error';
import { OLD_OUT_DIR_KEY, OLD_WATCHED_KEY, moveOldChoices } from './old-choices';

/** A Storage over a Map, as a browser's localStorage behaves for these calls. */
function memory(entries: Record<string, string>) {
  const data = new Map(Object.entries(entries));
  return {
    data,
    getItem: (k: string) => data.get(k) ?? null,
    removeItem: (k: string) => void data.delete(k),
  };
}

/** An engine that keeps what it is sent, as the real routes do; `fail` makes calls throw. */
function engine(settings: SettingsView, fail?: Error) {
  const sent: { folder: string[]; watched: string[][] } = { folder: [], watched: [] };
  const check = () => {
    if (fail) throw fail;
  };
  return {
    sent,
    settings: async () => (check(), settings),
    updateSettings: async (changes: Partial<SettingsView>) => {
      check();
      if (changes.deliveryFolder && !changes.deliveryFolder.startsWith('/')) {
        throw new EngineError('USAGE', 'choose a folder (a full path)', 400);
      }
      sent.folder.push(changes.deliveryFolder ?? '');
      return { ...settings, ...changes };
    },
    rememberWatched: async (ids: string[]) => {
      check();
      sent.watched.push(ids);
      return ids.map((fileId) => ({ fileId, watchedAt: 1 }));
    },
  };
}

const A = 'maaaaaaaaaaaa';
const B = 'mbbbbbbbbbbbb';

describe('moving old browser choices to the engine', () => {
  it('sends the folder and the ids (newest first), then removes both keys', async () => {
    const store = memory({
      [OLD_OUT_DIR_KEY]: ' /home/nan/Videos ',
      [OLD_WATCHED_KEY]: JSON.stringify([B, A, 'not an id', 7]),
      other: 'kept',
    });
    const client = engine({ encryptOnAdd: true });
    await moveOldChoices(client, store);
    expect(client.sent).toEqual({ folder: ['/home/nan/Videos'], watched: [[B, A]] });
    expect([...store.data.keys()]).toEqual(['other']);
  });

  it("keeps the engine's own folder, which is newer, and still removes the old one", async () => {
    const store = memory({ [OLD_OUT_DIR_KEY]: '/old' });
    const client = engine({ encryptOnAdd: true, deliveryFolder: '/new' });
    await moveOldChoices(client, store);
    expect(client.sent.folder).toEqual([]);
    expect(store.data.size).toBe(0);
  });

  it('drops a folder the engine refuses, and a list with nothing usable', async () => {
    const store = memory({ [OLD_OUT_DIR_KEY]: 'Videos', [OLD_WATCHED_KEY]: '{broken' });
    const client = engine({ encryptOnAdd: true });
    await moveOldChoices(client, store);
    expect(client.sent).toEqual({ folder: [], watched: [] });
    expect(store.data.size).toBe(0);
  });

  it('keeps both keys for next time when the engine cannot be reached', async () => {
    const store = memory({ [OLD_OUT_DIR_KEY]: '/home/nan', [OLD_WATCHED_KEY]: `["${A}"]` });
    await moveOldChoices(engine({ encryptOnAdd: true }, new Error('offline')), store);
    expect(store.data.size).toBe(2);
  });

  it('does nothing without storage or old values', async () => {
    const client = engine({ encryptOnAdd: true });
    await moveOldChoices(client, undefined);
    await moveOldChoices(client, memory({}));
    expect(client.sent).toEqual({ folder: [], watched: [] });
  });
});
