// Plain words on the Jobs, Activity and Settings screens (issue 17, section 5 and "Also
// fix"): progress as time left, a start that says it is starting, a failure about the
// family's file by name with the code in small print, a filter that does not hide a new
// job, the activity log in sentences, and "About this Keepsake" in Settings. The library
// and jobs are set up through the engine's API (as another window or the CLI would), so
// this spec drives only the screens it is about.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import type { APIRequestContext } from '@playwright/test';
import { startEngine } from './engine';
import type { RunningEngine } from './engine';
import { nav, shot } from './ui';

const run = promisify(execFile);

let engine: RunningEngine;
let media: string;

test.beforeAll(async () => {
  media = await mkdtemp(join(tmpdir(), 'keepsake-e2e-words-'));
  await mkdir(join(media, 'Tapes'), { recursive: true });
  // Long enough at x265's slowest setting to be seen running with time left.
  await run('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=30:size=640x480:rate=25'],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', join(media, 'Tapes', 'birthday.mp4')],
  ]);
  // A picture under a video's name: the library takes it for a tape, the job finds out.
  await run('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240', '-frames:v', '1'],
    ...['-f', 'image2', '-c:v', 'png', join(media, 'Tapes', 'Christmas 1989.mpg')],
  ]);
});

test.afterAll(async () => {
  await rm(media, { recursive: true, force: true });
});

test.afterEach(async () => {
  expect(await engine.stop()).toBe(0);
});

function api(request: APIRequestContext) {
  const headers = { authorization: `Bearer ${engine.token}` };
  return async <T>(method: string, path: string, data?: unknown): Promise<T> => {
    const res = await request.fetch(`${engine.origin}${path}`, { method, headers, data });
    expect(res.ok(), `${method} ${path}: ${res.status()} ${await res.text()}`).toBe(true);
    return (res.status() === 204 ? undefined : await res.json()) as T;
  };
}

test('Jobs, Activity and Settings speak plain words', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  engine = await startEngine();
  const call = api(page.request);
  await call('POST', '/v1/vault', { password: 'correct horse battery staple' });
  const folder = await call<{ id: string }>('POST', '/v1/library', { path: media });
  await call('POST', `/v1/library/${folder.id}/encrypt`);
  await expect
    .poll(async () => (await call<{ encrypted: number }[]>('GET', '/v1/library'))[0]?.encrypted)
    .toBe(2);
  const files = await call<{ id: string; rel: string }[]>('GET', `/v1/library/${folder.id}/files`);
  const fileId = (name: string) => files.find((f) => f.rel.endsWith(name))!.id;

  await page.goto(engine.openUrl);
  await nav(page, 'Jobs').click();
  await expect(page.getByText('No jobs yet.')).toBeVisible();

  // --- An old filter does not hide a job started elsewhere. -------------------------------
  await page.getByRole('button', { name: /^Failed/ }).click();
  await call('POST', '/v1/jobs', {
    fileId: fileId('birthday.mp4'),
    preset: 'archive-hevc',
    params: { speed: 'veryslow', crf: 0 },
  });
  const hidden = page.getByTestId('hidden-new-jobs');
  await expect(hidden).toHaveText('1 new job is hidden by the filter.Show all');
  await shot(page, testInfo, 'words-jobs-filter-notice');
  await hidden.getByRole('button', { name: 'Show all' }).click();
  await expect(page.getByRole('button', { name: /^All/ })).toHaveAttribute('aria-pressed', 'true');
  await expect(hidden).toHaveCount(0);

  // --- Starting, then how far and how long, in plain words. -------------------------------
  const list = page.getByTestId('job-list');
  const hevc = list.getByRole('article', { name: /birthday\.mp4/ });
  await expect(hevc.locator('.stats')).toHaveText(
    /^(Waiting to start|Starting…|Working out how long this takes…)$/,
  );
  // Sample the progress line until it settles: no fps or × on the main line, ever.
  const seen = new Set<string>();
  const settled = /^[1-9]\d?% · (\d+ s|about \d+ (h|min)( \d+ min)?) left$/;
  for (let i = 0; i < 300; i++) {
    const [text] = await hevc.locator('.stats').allTextContents();
    if (text !== undefined) seen.add(text.replace(/\d+/g, 'N'));
    if (text === 'Starting…' && !seen.has('shot')) {
      seen.add('shot');
      await shot(page, testInfo, 'words-jobs-starting');
    }
    if (text && settled.test(text)) break;
    await page.waitForTimeout(200);
  }
  console.log(`progress lines seen: ${[...seen].join(' | ')}`);
  expect([...seen].some((t) => /fps|×/.test(t))).toBe(false);
  await expect(hevc.locator('.stats')).toHaveText(settled);
  await expect(hevc.getByTestId('job-details')).toHaveText(/^[\d.]+ fps · [\d.]+× real time$/);
  await shot(page, testInfo, 'words-jobs-running');
  // One job at a time here: the running one makes way for the next.
  await hevc.getByRole('button', { name: /^Cancel / }).click();
  await expect(hevc.getByTestId('job-state')).toHaveText('Cancelled', { timeout: 30_000 });

  // --- A failure about the family's file, by name; the code apart, for support. ------------
  await call('POST', '/v1/jobs', { fileId: fileId('Christmas 1989.mpg'), preset: 'web-h264' });
  const tape = list.getByRole('article', { name: /Christmas 1989\.mpg/ });
  await expect(tape.getByTestId('job-state')).toHaveText('Failed', { timeout: 60_000 });
  const why = tape.getByTestId('job-error');
  await expect(why).toContainText('“Christmas 1989.mpg” is not a video Keepsake can read.');
  await expect(why.getByTestId('error-code')).toHaveText('code UNSUPPORTED_INPUT, for support');
  await expect(why).not.toContainText('.ksv');
  await expect(why).not.toContainText('library/');
  await shot(page, testInfo, 'words-jobs-failed');

  // A job started while the family was on another screen is news too.
  await page.getByRole('button', { name: /^Failed/ }).click();
  await nav(page, 'Settings').click();
  const later = await call<{ id: string }>('POST', '/v1/jobs', {
    fileId: fileId('birthday.mp4'),
    preset: 'archive-hevc',
    params: { speed: 'veryslow', crf: 0 },
  });
  await nav(page, 'Jobs').click();
  await expect(hidden).toHaveText('1 new job is hidden by the filter.Show all');
  await call('POST', `/v1/jobs/${later.id}/cancel`);
  await hidden.getByRole('button', { name: 'Show all' }).click();
  await expect(hidden).toHaveCount(0);

  // --- The activity log in sentences, naming the files. -----------------------------------
  await nav(page, 'Activity').click();
  const activity = page.getByRole('table', { name: 'Activity' });
  await expect(activity).toContainText('Created the vault');
  await expect(activity).toContainText('Added the folder');
  await expect(activity).toContainText(/Protected 2 files in “keepsake-e2e-words-\w+”/);
  await expect(activity).toContainText('Started a job on “birthday.mp4”');
  await expect(activity).toContainText('The job on “Christmas 1989.mpg” failed');
  await expect(activity).toContainText('Cancelled the job on “birthday.mp4”');
  await expect(activity).not.toContainText(/\b(job|vault|library)\.[a-z]/);
  await shot(page, testInfo, 'words-activity');

  // --- Settings: about this Keepsake. -----------------------------------------------------
  await nav(page, 'Settings').click();
  const about = page.getByRole('region', { name: 'About this Keepsake' });
  await expect(about.getByLabel('Data folder')).toContainText(engine.dataDir);
  await shot(page, testInfo, 'words-settings');
});

test('a remote job still sending its file says so, not encoding figures', async ({
  page,
}, testInfo) => {
  engine = await startEngine();
  await api(page.request)('POST', '/v1/vault', { password: 'correct horse battery staple' });
  // The engine's remotePhase comes from its progress bar (remote/remote-progress.ts, tested
  // there); what is under test here is what the row says for each phase.
  const now = Date.now();
  const base = {
    preset: 'web-h264',
    params: {},
    mode: 'manual',
    priority: 0,
    attempts: 1,
    maxAttempts: 3,
    waitingForKeys: false,
    notes: [],
    outputs: [],
    fileId: 'maaaaaaaaaaaa',
  };
  const jobs = [
    {
      ...base,
      id: 'jaaaaaaaaaaa1',
      state: 'running',
      createdAt: now - 60_000,
      startedAt: now - 50_000,
      fileName: 'Tapes/Christmas 1989.mpg',
      remote: 'nas',
      remotePhase: { phase: 'uploading', percent: 40 },
      progress: { percent: 4, at: now },
    },
    {
      ...base,
      id: 'jaaaaaaaaaaa2',
      state: 'running',
      createdAt: now - 2_000,
      startedAt: now - 1_000,
      fileName: 'Tapes/birthday.mp4',
      progress: { percent: 0, fps: 0, speed: 46, etaSeconds: 1, at: now },
    },
  ];
  await page.route(/\/v1\/jobs(\?.*)?$/, (route) =>
    route.request().method() === 'GET' ? route.fulfill({ json: jobs }) : route.continue(),
  );
  await page.route(/\/v1\/jobs\/events$/, (route) => route.abort('connectionreset'));
  await page.goto(engine.openUrl);
  await nav(page, 'Jobs').click();
  const list = page.getByTestId('job-list');
  const upload = list.getByRole('article', { name: /Christmas 1989/ });
  await expect(upload.locator('.stats')).toHaveText('Uploading 40%');
  await expect(upload.getByRole('progressbar')).toHaveAttribute('value', '40');
  const fresh = list.getByRole('article', { name: /birthday/ });
  await expect(fresh.locator('.stats')).toHaveText('Starting…');
  await expect(fresh.getByTestId('job-details')).toHaveCount(0);
  await shot(page, testInfo, 'words-jobs-uploading');
});
