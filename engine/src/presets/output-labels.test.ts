// The title and date of an item as FFmpeg reads them: an FFmetadata document with every
// special character escaped, a date each container understands, and an argv that names
// only the loopback URL of that document (golden, pinned in __golden__/labelled.json).

import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../ffmpeg/locate';
import { freshDir } from '../testing/tmp';
import { buildJob, PRESETS } from './index';
import { carriedLabels, escapeFfmetadata, ffmetadataDocument, utcInstant } from './output-labels';
import type { BuildContext } from './preset';

const run = promisify(execFile);
const LABELS = 'http://keepsake.invalid/docs/labels';

function context(labels?: string): BuildContext {
  return {
    input: 'http://keepsake.invalid/media',
    inputProtocols: 'http,tcp',
    inputFormat: 'mov',
    outputBase: 'http://127.0.0.1:40001/fedcba9876543210fedcba9876543210',
    media: { durationSeconds: 120, width: 1280, height: 720, hasAudio: true },
    encoders: new Set(['libx264', 'libx265', 'libsvtav1', 'libopus', 'libwebp', 'ffv1', 'flac']),
    muxers: new Set(['avif']),
    ...(labels ? { labels } : {}),
  };
}

describe('output labels', () => {
  it('escapes what FFmetadata gives a meaning: = ; # \\ and line breaks', () => {
    expect(escapeFfmetadata('a=b;c#d\\e\nf')).toBe('a\\=b\\;c\\#d\\\\e\\\nf');
    expect(escapeFfmetadata('Christmas 1989')).toBe('Christmas 1989');
  });

  it('writes the date as each container holds it', () => {
    expect(ffmetadataDocument({ title: 'Christmas 1989', date: '1989-12-24' }, 'mp4')).toBe(
      ';FFMETADATA1\ntitle=Christmas 1989\ndate=1989-12-24\ncreation_time=1989-12-24T00:00:00.000000Z\n',
    );
    expect(ffmetadataDocument({ date: '1989-12-24T18:30:00' }, 'matroska')).toBe(
      ';FFMETADATA1\nDATE_RECORDED=1989-12-24 18:30:00\ncreation_time=1989-12-24T18:30:00.000000Z\n',
    );
    expect(ffmetadataDocument({}, 'mp4')).toBeUndefined();
  });

  it.each([
    // date as kept, mp4 document's date lines, matroska's
    ['1989', ['date=1989'], ['DATE_RECORDED=1989']],
    ['1989-12', ['date=1989-12'], ['DATE_RECORDED=1989-12']],
    [
      '1989-12-24',
      ['date=1989-12-24', 'creation_time=1989-12-24T00:00:00.000000Z'],
      ['DATE_RECORDED=1989-12-24', 'creation_time=1989-12-24T00:00:00.000000Z'],
    ],
  ])('a date of %s: as given, and a creation time only for a whole day', (date, mp4, mkv) => {
    expect(ffmetadataDocument({ date }, 'mp4')).toBe(`;FFMETADATA1\n${mp4.join('\n')}\n`);
    expect(ffmetadataDocument({ date }, 'matroska')).toBe(`;FFMETADATA1\n${mkv.join('\n')}\n`);
  });

  it.each<[string, Record<string, string>, string[]]>([
    ['mp4 with both', { title: 'Christmas 1989', date: '1989-12-24' }, ['title', 'date']],
    [
      'matroska with both',
      { TITLE: 'Christmas 1989', DATE_RECORDED: '1989-12-24' },
      ['title', 'date'],
    ],
    ['another title', { title: 'Something else', date: '1989-12-24' }, ['date']],
    ['no tags (a segment)', {}, []],
    ['only the source creation time', { creation_time: '2026-01-01T00:00:00Z' }, []],
  ])('reads back what an output carries: %s', (_, tags, kinds) => {
    expect(carriedLabels({ title: 'Christmas 1989', date: '1989-12-24' }, tags)).toEqual(kinds);
  });

  it('turns every capture-date form into one UTC instant', () => {
    expect(utcInstant('2019-08-12T14:30:00+02:00')).toBe('2019-08-12T12:30:00.000000Z');
    expect(utcInstant('2019-08-12T14:30:00-0500')).toBe('2019-08-12T19:30:00.000000Z');
    expect(utcInstant('1994-12-25T10:00:00.000000Z')).toBe('1994-12-25T10:00:00.000000Z');
    expect(utcInstant('1989-12-24T18:30:00')).toBe('1989-12-24T18:30:00.000000Z');
    expect(utcInstant('24/12/1989')).toBeUndefined();
  });

  it('FFmpeg reads a hostile title back exactly as it was', async () => {
    const { ffmpegPath } = await locateFfmpeg();
    const dir = await freshDir();
    const title = 'Tante =Ursula; #1 \\ beim Baum\nzweite Zeile';
    const doc = join(dir, 'labels.txt');
    await writeFile(doc, ffmetadataDocument({ title, date: '1989-12-24' }, 'mp4')!);
    // FFmpeg reads the document and writes it back out: what it parsed, re-escaped.
    const { stdout } = await run(ffmpegPath, [
      ...['-v', 'error', '-f', 'ffmetadata', '-i', doc, '-f', 'ffmetadata', '-'],
    ]);
    expect(stdout).toContain(`title=${escapeFfmetadata(title)}\n`);
    expect(stdout).toContain('date=1989-12-24\n');
  });

  it('golden argv: the labels are a second input, mapped before the source, never inline', async () => {
    const built = ['web-h264', 'archive-hevc', 'remux', 'photo-web'].map((name) => ({
      name,
      ...buildJob(
        name,
        { ...(name === 'archive-hevc' ? { speed: 'ultrafast' } : {}) },
        context(LABELS),
      ),
    }));
    await expect(JSON.stringify(built, null, 2) + '\n').toMatchFileSnapshot(
      './__golden__/labelled.json',
    );
    const web = built[0]!.steps[0]!.args.join(' ');
    expect(web).toContain(`-f ffmetadata -i ${LABELS}/mp4`);
    expect(web).toContain('-map_metadata 1 -map_metadata 0');
    expect(built[1]!.steps[0]!.args.join(' ')).toContain(`-i ${LABELS}/matroska`);
    // FFmpeg cannot write a WebP's metadata: the engine is told to add it.
    expect(built[3]!.steps[0]).toMatchObject({ labelled: ['photo.webp'] });
    expect(built[3]!.steps[0]!.args).not.toContain('ffmetadata');
  });

  it('no labels without keepMetadata, and none where the job carries none', () => {
    for (const preset of PRESETS) {
      const off = buildJob(
        preset.name,
        { ...('keepMetadata' in preset.params ? { keepMetadata: false } : {}) },
        context(LABELS),
      );
      const none = buildJob(preset.name, {}, context());
      for (const step of [...off.steps, ...none.steps]) {
        expect(step.args).not.toContain('ffmetadata');
      }
      for (const step of off.steps) expect(step.labelled).toBeUndefined();
      // A WebP kept with its metadata gets the photo's own date from the engine, labels or not.
      for (const step of none.steps) {
        expect(step.labelled ?? []).toEqual(preset.name === 'photo-web' ? ['photo.webp'] : []);
      }
    }
  });
});
