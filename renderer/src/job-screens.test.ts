// The job screens' small decisions, tested without a DOM: which files a job starts on,
// how a waiting job's "since" reads, which results the viewer shows as pictures, and how a
// job is named and found.
import { describe, expect, it } from 'vitest';
import type { DesktopJob, FileView, PresetInfo } from './engine-client';
import { formatSince } from './JobsScreen';
import { jobTargets } from './MakeScreen';
import { canOpen, pictures } from './JobResults';
import { jobMatches, jobTitle } from './job-title';

const preset = (accepts: string): PresetInfo => ({
  name: accepts === 'image' ? 'photo-web' : 'web-h264',
  description: '',
  scopes: [],
  accepts,
  parameters: {},
});
const file = (id: string, kind: FileView['kind']) => ({ id, kind }) as FileView;

describe('jobTargets', () => {
  const video = file('m1', 'video');
  const photo = file('m2', 'photo');
  it('never starts a preset on a file it cannot take', () => {
    // A video preset chosen for a video stays selected when a photo is picked after.
    expect(jobTargets([photo], preset('video'))).toEqual([]);
    expect(jobTargets([video], preset('image'))).toEqual([]);
    expect(jobTargets([video], preset('video'))).toEqual([video]);
    expect(jobTargets([video, photo], preset('image'))).toEqual([photo]);
    expect(jobTargets([video], undefined)).toEqual([]);
  });
});

describe('formatSince', () => {
  it('says only the time for today, the date too for earlier days', () => {
    const now = new Date(2026, 11, 3, 15, 0).getTime();
    const today = new Date(2026, 11, 3, 10, 42).getTime();
    expect(formatSince(today, now)).toBe(
      new Date(today).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
    );
    expect(formatSince(today - 86_400_000, now)).toMatch(/2026/);
  });
});

describe('pictures', () => {
  it('picks the image outputs of a job', () => {
    const job = {
      outputs: [
        { name: 'poster.jpg', size: 1 },
        { name: 'sheet.webp', size: 1 },
        { name: 'web.mp4', size: 1 },
        { name: 'v0/index.m3u8', size: 1 },
      ],
    } as DesktopJob;
    expect(pictures(job).map((o) => o.name)).toEqual(['poster.jpg', 'sheet.webp']);
  });

  it('offers Open only for what the Player can show', () => {
    const remuxed = { outputs: [{ name: 'remux.mkv', size: 1 }], filesUrl: '/play/c/j/' };
    expect(canOpen(remuxed as DesktopJob)).toBe(false);
    expect(canOpen({ ...remuxed, playUrl: '/play/c/j/web.mp4' } as DesktopJob)).toBe(true);
    const photo = { outputs: [{ name: 'photo.webp', size: 1 }], filesUrl: '/play/c/j/' };
    expect(canOpen(photo as DesktopJob)).toBe(true);
  });
});

describe('job titles', () => {
  const job = (over: Partial<DesktopJob>) =>
    ({ id: 'jb67txs4uiixg', preset: 'web-h264', ...over }) as DesktopJob;

  it('names a job by what it makes and the item, never by its preset id', () => {
    expect(jobTitle(job({ fileName: 'tapes/beach.mp4' }))).toBe('Copy to watch · beach.mp4');
    expect(jobTitle(job({ fileName: 'tapes/beach.mp4', title: 'Christmas 1989' }))).toBe(
      'Copy to watch · Christmas 1989',
    );
    expect(jobTitle(job({ preset: 'hls-playback', fileName: 'a.mp4' }))).toBe(
      'Copy to watch on the TV · a.mp4',
    );
    // A file gone from the library: what it makes, alone.
    expect(jobTitle(job({ preset: 'archive-hevc' }))).toBe('Archive master');
    expect(jobTitle(job({ preset: 'made-up' }))).toBe('Another copy');
  });

  it('finds a job by plain name, title, file name, and still by preset and id', () => {
    const tape = job({ fileName: 'tapes/beach.mp4', title: 'Christmas 1989', remote: 'Attic' });
    for (const needle of [
      'copy to watch',
      'christmas',
      'beach',
      'tapes/',
      'attic',
      'web-h264',
      'jb67',
    ]) {
      expect(jobMatches(tape, needle), needle).toBe(true);
    }
    expect(jobMatches(tape, '')).toBe(true);
    expect(jobMatches(tape, 'master')).toBe(false);
    expect(jobMatches(tape, 'on the tv')).toBe(false);
    expect(jobMatches(job({ preset: 'hls-playback' }), 'on the tv')).toBe(true);
  });
});
