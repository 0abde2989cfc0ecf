// The small decisions the screens make, tested without a DOM.
import { describe, expect, it } from 'vitest';
import type { DesktopJob, FileView, PresetInfo } from './engine-client';
import { matchesFilter } from './JobsScreen';
import { presetFits } from './MakeScreen';
import { isHls } from './VideoPlayer';
import { nameFromUrl } from './ServersScreen';

const preset = (accepts: string): PresetInfo => ({
  name: 'p',
  description: '',
  scopes: [],
  accepts,
  parameters: {},
});
const file = (kind: FileView['kind']): FileView => ({
  id: 'm1',
  folderId: 'f1',
  rel: 'x',
  size: 1,
  mtimeMs: 0,
  kind,
  encrypted: true,
  sourceExists: true,
  jobs: [],
});

describe('presetFits', () => {
  it('matches the engine’s "image" presets to the library’s photos, video to video', () => {
    expect(presetFits(preset('image'), file('photo'))).toBe(true);
    expect(presetFits(preset('image'), file('video'))).toBe(false);
    expect(presetFits(preset('video'), file('video'))).toBe(true);
    expect(presetFits(preset('video'), file('audio'))).toBe(false);
    expect(presetFits(preset('any'), file('other'))).toBe(true);
    expect(presetFits(preset('video'), undefined)).toBe(true);
  });
});

describe('matchesFilter', () => {
  const job = (state: DesktopJob['state']) => ({ state }) as DesktopJob;
  it('treats queued and running as active', () => {
    expect(matchesFilter(job('queued'), 'active')).toBe(true);
    expect(matchesFilter(job('running'), 'active')).toBe(true);
    expect(matchesFilter(job('failed'), 'active')).toBe(false);
    expect(matchesFilter(job('failed'), 'failed')).toBe(true);
    expect(matchesFilter(job('cancelled'), 'all')).toBe(true);
    expect(matchesFilter(job('succeeded'), 'running')).toBe(false);
  });
});

describe('isHls', () => {
  it.each([
    ['/play/cap/j1/master.m3u8', true],
    ['/play/cap/j1/MASTER.M3U8?x=1', true],
    ['/play/cap/j1/video.mp4', false],
    ['/play/cap/j1/m3u8.mp4', false],
  ])('%s → %s', (url, hls) => {
    expect(isHls(url)).toBe(hls);
  });
});

describe('nameFromUrl', () => {
  it('offers the host as a server name, in the characters the engine allows', () => {
    expect(nameFromUrl('https://nas.local:8443')).toBe('nas.local');
    expect(nameFromUrl('https://[::1]:8443')).toBe('1');
    expect(nameFromUrl('https://Nas_Box.local/')).toBe('nas_box.local');
    expect(nameFromUrl('not a url')).toBe('');
  });
});
