import { describe, expect, it } from 'vitest';
import { shortPath } from './delivery-words';

describe('where a delivered file went, in words', () => {
  it.each([
    ['/home/nan/Videos/Keepsake/Christmas 1989.mp4', 'Videos › Keepsake › Christmas 1989.mp4'],
    ['/Keepsake/a.mp4', 'Keepsake › a.mp4'],
    ['/a.mp4', 'a.mp4'],
    ['C:\\Users\\Nan\\Videos\\beach (web-h264).mp4', 'Nan › Videos › beach (web-h264).mp4'],
    ['/home/nan/Videos/Keepsake/beach (hls)/', 'Videos › Keepsake › beach (hls)'],
  ])('%s', (path, words) => {
    expect(shortPath(path)).toBe(words);
  });
});
