import { describe, expect, it } from 'vitest';
import type { DesktopJob } from './engine-client';
import { describeProgress, needsClock, reliableEta } from './job-progress-text';

const NOW = 1_000_000_000;
const job = (over: Partial<DesktopJob>) =>
  ({ state: 'running', startedAt: NOW - 60_000, ...over }) as DesktopJob;
const at = (percent: number, more: Partial<NonNullable<DesktopJob['progress']>> = {}) => ({
  progress: { percent, at: NOW, ...more },
});

describe('describeProgress', () => {
  it.each([
    // what the engine says → the main line
    ['no progress yet', job({}), 'Starting…'],
    [
      'the first seconds, whatever FFmpeg guesses',
      job({ startedAt: NOW - 1_000, ...at(0, { fps: 0, speed: 46, etaSeconds: 1 }) }),
      'Starting…',
    ],
    [
      'past the first seconds, under 1 %',
      job({ ...at(0.4, { fps: 11, speed: 46, etaSeconds: 1 }) }),
      'Working out how long this takes…',
    ],
    ['no speed yet', job({ ...at(12) }), 'Working out how long this takes…'],
    [
      'a settled encode',
      job({ ...at(38.6, { fps: 11, speed: 0.38, etaSeconds: 7800 }) }),
      '38% · about 2 h 10 min left',
    ],
    ['nearly done', job({ ...at(99, { speed: 2, etaSeconds: 12 }) }), '99% · 12 s left'],
    [
      'a remote job sending its file',
      job({ remote: 'lxc', remotePhase: { phase: 'uploading', percent: 40 }, ...at(4) }),
      'Uploading 40%',
    ],
    [
      'a remote job fetching its results',
      job({ remote: 'lxc', remotePhase: { phase: 'downloading', percent: 50 }, ...at(97.5) }),
      'Fetching the results 50%',
    ],
    [
      'a remote job at work on the server',
      job({
        remote: 'lxc',
        remotePhase: { phase: 'working', percent: 50 },
        ...at(52.5, { fps: 30, speed: 1.2, etaSeconds: 180 }),
      }),
      '52% · about 3 min left',
    ],
  ])('%s', (_what, given, main) => {
    expect(describeProgress(given, NOW).main).toBe(main);
  });

  it('keeps fps and speed for a details line, never the main one', () => {
    const text = describeProgress(job(at(38, { fps: 11, speed: 0.38, etaSeconds: 600 })), NOW);
    expect(text.main).not.toMatch(/fps|×/);
    expect(text.details).toBe('11 fps · 0.38× real time');
    expect(describeProgress(job(at(38, { etaSeconds: 600 })), NOW).details).toBeUndefined();
  });

  it('shows an upload by its own percentage on the bar, and a start as activity only', () => {
    const up = job({ remotePhase: { phase: 'uploading', percent: 40 }, ...at(4) });
    expect(describeProgress(up, NOW).bar).toBe(40);
    expect(describeProgress(job({}), NOW).bar).toBeUndefined();
  });
});

describe('reliableEta', () => {
  it('counts only the times left a row would show', () => {
    expect(reliableEta(job(at(38, { speed: 0.4, etaSeconds: 600 })), NOW)).toBe(600);
    // A start's guess, a job without speed, an upload, a queued job: none.
    expect(
      reliableEta(job({ startedAt: NOW - 1_000, ...at(0, { speed: 46, etaSeconds: 1 }) }), NOW),
    ).toBeUndefined();
    expect(reliableEta(job(at(12)), NOW)).toBeUndefined();
    const upload = { remotePhase: { phase: 'uploading' as const, percent: 40 } };
    expect(reliableEta(job({ ...upload, ...at(4, { etaSeconds: 9 }) }), NOW)).toBeUndefined();
    expect(
      reliableEta(job({ state: 'queued', ...at(50, { etaSeconds: 9 }) }), NOW),
    ).toBeUndefined();
  });
});

describe('needsClock', () => {
  it('is true only while a running job has not reached 1 %', () => {
    expect(needsClock(job({}))).toBe(true);
    expect(needsClock(job(at(0.5)))).toBe(true);
    expect(needsClock(job(at(1)))).toBe(false);
    expect(needsClock(job({ state: 'queued' }))).toBe(false);
  });

  it('agrees with describeProgress: a job past 1 % reads the same at any time', () => {
    const settled = job(at(38, { speed: 0.4, etaSeconds: 600 }));
    expect(describeProgress(settled, 0)).toEqual(describeProgress(settled, NOW));
  });
});
