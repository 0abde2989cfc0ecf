// Titles and dates the family types, on a real SQLite file with a real vault: checked as
// typed, kept sealed (the database never holds them in the clear), and only for items
// that exist.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { databasePath, openDatabase } from '../jobs/db';
import { freshDir, TEST_SCRYPT } from '../testing/tmp';
import { createVault } from '../vault/keyring';
import { ItemLabelStore, labelCapturedAt, parseLabelDate, parseTitle } from './item-labels';
import { Library } from './library';

async function oneItem() {
  const dir = await freshDir();
  const media = join(dir, 'tapes');
  await mkdir(media);
  await writeFile(join(media, 'tape 3.mov'), Buffer.alloc(1000, 1));
  const dataDir = join(dir, 'data');
  const { vault } = await createVault(join(dataDir, 'vault'), 'pw', {
    scrypt: TEST_SCRYPT,
    recovery: false,
  });
  const db = openDatabase(databasePath(dataDir));
  const library = new Library(db, dataDir);
  const { folder } = await library.addFolder(media);
  const [file] = library.files(folder.id);
  return { db, vault, dataDir, fileId: file!.id };
}

describe('parseLabelDate', () => {
  const now = Date.UTC(2026, 11, 3, 12);
  it('takes a day, or a day and a time, and writes them one way', () => {
    expect(parseLabelDate('1989-12-24', now)).toBe('1989-12-24');
    expect(parseLabelDate(' 1989-12-24 18:30 ', now)).toBe('1989-12-24T18:30:00');
    expect(parseLabelDate('1989-12-24T18:30:05', now)).toBe('1989-12-24T18:30:05');
    expect(labelCapturedAt('1989-12-24')).toBe('1989-12-24T00:00:00');
  });

  it.each([
    // typed, kept, as a capture date
    ['1989', '1989', '1989'],
    [' 1989-12 ', '1989-12', '1989-12'],
    ['1826', '1826', '1826'],
    ['2026-12', '2026-12', '2026-12'],
    ['1989-12-24', '1989-12-24', '1989-12-24T00:00:00'],
  ])('takes a year or a month alone as given: %j', (typed, kept, captured) => {
    expect(parseLabelDate(typed, now)).toBe(kept);
    expect(labelCapturedAt(kept)).toBe(captured);
  });

  it.each([
    ['1989-13', /is not a date/],
    ['1989-00', /is not a date/],
    ['89', /is not a date/],
    ['1989-1', /is not a date/],
    ['December 1989', /is not a date/],
    ['1825', /before 1826/],
    ['2027', /in the future/],
    ['2027-01', /in the future/],
  ])('refuses %j as a year or a month', (typed, why) => {
    expect(() => parseLabelDate(typed, now)).toThrow(why);
  });

  it('refuses what is not a date, before photography, or not yet happened, in plain words', () => {
    for (const bad of ['24/12/1989', 'Christmas', '1989-02-30', '1989-12-24 25:00', '']) {
      expect(() => parseLabelDate(bad, now)).toThrow(/is not a date: write it year-month-day/);
    }
    expect(() => parseLabelDate('1820-01-01', now)).toThrow(/before 1826/);
    expect(() => parseLabelDate('2027-01-01', now)).toThrow(/in the future/);
    expect(parseLabelDate('2026-12-04', now)).toBe('2026-12-04');
  });
});

describe('parseTitle', () => {
  it('trims, and refuses empty, over-long or multi-line titles', () => {
    expect(parseTitle('  Christmas 1989 ')).toBe('Christmas 1989');
    expect(() => parseTitle('   ')).toThrow(/cannot be empty/);
    expect(() => parseTitle('x'.repeat(201))).toThrow(/at most 200/);
    expect(() => parseTitle('Christmas\n1989')).toThrow(/line breaks/);
  });
});

describe('ItemLabelStore', () => {
  it('sets, changes and clears an item’s title and date, sealed in the database', async () => {
    const { db, vault, fileId } = await oneItem();
    const labels = new ItemLabelStore(db);
    expect(labels.anySet([fileId])).toBe(false);
    expect(labels.set(vault, fileId, { title: 'Christmas 1989', date: '1989-12-24' })).toEqual({
      title: 'Christmas 1989',
      date: '1989-12-24',
    });
    // Absent keeps, null clears.
    expect(labels.set(vault, fileId, { title: 'Christmas at Gran’s' })).toEqual({
      title: 'Christmas at Gran’s',
      date: '1989-12-24',
    });
    expect(labels.get([fileId], vault).get(fileId)).toEqual({
      title: 'Christmas at Gran’s',
      date: '1989-12-24',
    });
    const sealed = db.prepare('SELECT sealed FROM library_labels').pluck().get() as Buffer;
    expect(sealed.includes(Buffer.from('Christmas'))).toBe(false);
    expect(sealed.includes(Buffer.from('1989'))).toBe(false);
    expect(labels.set(vault, fileId, { title: null, date: null })).toEqual({});
    expect(labels.anySet([fileId])).toBe(false);
    db.close();
  });

  it('refuses an unknown item and a bad date without touching what was set', async () => {
    const { db, vault, fileId } = await oneItem();
    const labels = new ItemLabelStore(db);
    labels.set(vault, fileId, { title: 'Tape 3' });
    expect(() => labels.set(vault, 'fi_nobody', { title: 'x' })).toThrow(/no library file/);
    expect(() => labels.set(vault, fileId, { title: 'New', date: 'soon' })).toThrow(/not a date/);
    expect(labels.get([fileId], vault).get(fileId)).toEqual({ title: 'Tape 3' });
    db.close();
  });

  it('does not open under another vault, or when copied onto another item', async () => {
    const a = await oneItem();
    const b = await oneItem();
    new ItemLabelStore(a.db).set(a.vault, a.fileId, { title: 'Secret' });
    expect(new ItemLabelStore(a.db).get([a.fileId], b.vault).size).toBe(0);
    const sealed = a.db.prepare('SELECT sealed FROM library_labels').pluck().get() as Buffer;
    b.db
      .prepare('INSERT INTO library_labels (file_id, sealed, set_at) VALUES (?, ?, 1)')
      .run(b.fileId, sealed);
    expect(new ItemLabelStore(b.db).get([b.fileId], a.vault).size).toBe(0);
    a.db.close();
    b.db.close();
  });
});
