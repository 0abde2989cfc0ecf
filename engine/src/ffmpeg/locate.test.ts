// Runs the real binaries shipped by @ffmpeg-installer / @ffprobe-installer. Other sources
// are built from them: symlinks in a temp dir stand in for a system install, and a temp
// node_modules stands in for a package layout, so every branch runs real FFmpeg.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { freshDir } from '../testing/tmp';
import { locateFfmpeg, parseVersionLine } from './locate';

const req = createRequire(import.meta.url);
const npmFfmpeg = (req('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const npmFfprobe = (req('@ffprobe-installer/ffprobe') as { path: string }).path;
const ffmpegStatic = req('ffmpeg-static') as string | null;

/** An environment with no FFmpeg variables and no FFmpeg on PATH. */
const bareEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  PATH: '/nonexistent-keepsake-path',
  ...extra,
});

/** A folder holding `ffmpeg` (and optionally `ffprobe`) links to the real binaries. */
async function binDir(withProbe = true): Promise<string> {
  const dir = await freshDir('keepsake-ffbin-');
  await symlink(npmFfmpeg, join(dir, 'ffmpeg'));
  if (withProbe) await symlink(npmFfprobe, join(dir, 'ffprobe'));
  return dir;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error('expected a rejection');
  return err;
}

describe('locateFfmpeg', () => {
  it('finds a working FFmpeg from the installed packages and reads its version', async () => {
    const found = await locateFfmpeg({ env: bareEnv() });
    // ffmpeg-static ranks first, but only when its binary was really downloaded.
    const staticPresent = ffmpegStatic !== null && existsSync(ffmpegStatic);
    expect(found.source).toBe(staticPresent ? 'ffmpeg-static' : 'npm-package');
    if (!staticPresent) expect(found.ffmpegPath).toBe(npmFfmpeg);
    expect(found.ffprobePath).toBe(npmFfprobe);

    const firstLine = execFileSync(found.ffmpegPath, ['-version']).toString().split('\n')[0];
    expect(found.version).not.toBe('');
    expect(firstLine).toContain(`ffmpeg version ${found.version} `);
  });

  it('prefers FFMPEG_PATH over the packages and reports source "env"', async () => {
    const found = await locateFfmpeg({ env: bareEnv({ FFMPEG_PATH: npmFfmpeg }) });
    expect(found.source).toBe('env');
    expect(found.ffmpegPath).toBe(npmFfmpeg);
    expect(found.ffprobeSource).toBe('npm-package');
  });

  it('honours FFPROBE_PATH separately', async () => {
    const dir = await binDir();
    const found = await locateFfmpeg({ env: bareEnv({ FFPROBE_PATH: join(dir, 'ffprobe') }) });
    expect(found.ffprobeSource).toBe('env');
    expect(found.ffprobePath).toBe(join(dir, 'ffprobe'));
  });

  it('lets an explicit config path beat FFMPEG_PATH', async () => {
    const dir = await binDir();
    const found = await locateFfmpeg({
      ffmpegPath: join(dir, 'ffmpeg'),
      env: bareEnv({ FFMPEG_PATH: '/nonexistent/ffmpeg' }),
    });
    expect(found.source).toBe('config');
    expect(found.ffmpegPath).toBe(join(dir, 'ffmpeg'));
    // The FFprobe next to the chosen FFmpeg keeps the pair from one build.
    expect(found.ffprobeSource).toBe('beside-ffmpeg');
    expect(found.ffprobePath).toBe(join(dir, 'ffprobe'));
  });

  it('fails clearly on a FFMPEG_PATH that does not exist instead of falling through', async () => {
    const err = await rejection(
      locateFfmpeg({ env: bareEnv({ FFMPEG_PATH: '/nonexistent/ffmpeg' }) }),
    );
    expect(isKeepsakeError(err, 'FFMPEG_NOT_FOUND')).toBe(true);
    expect(err.message).toBe(
      'FFMPEG_PATH names ffmpeg "/nonexistent/ffmpeg", which does not exist',
    );
  });

  it('fails clearly on a FFMPEG_PATH that runs but is not FFmpeg', async () => {
    const dir = await freshDir();
    const fake = join(dir, 'ffmpeg');
    await writeFile(fake, '#!/bin/sh\necho "hello"\n');
    await chmod(fake, 0o755);
    const err = await rejection(locateFfmpeg({ env: bareEnv({ FFMPEG_PATH: fake }) }));
    expect(isKeepsakeError(err, 'FFMPEG_NOT_FOUND')).toBe(true);
    expect(err.message).toContain(`"${fake}", which does not work as ffmpeg`);
  });

  it('fails clearly on a configured path that is not executable', async () => {
    const dir = await freshDir();
    const plain = join(dir, 'ffmpeg');
    await writeFile(plain, 'not a program');
    const err = await rejection(locateFfmpeg({ ffmpegPath: plain, env: bareEnv() }));
    expect(err.message).toBe(
      `the configured path names ffmpeg "${plain}", which is not executable`,
    );
  });

  it('treats a bare FFMPEG_PATH name as a command on PATH', async () => {
    const dir = await binDir();
    const found = await locateFfmpeg({ env: { PATH: dir, FFMPEG_PATH: 'ffmpeg' } });
    expect(found.source).toBe('env');
    expect(found.ffmpegPath).toBe(join(dir, 'ffmpeg'));
  });

  it('falls back to the system PATH when no package provides a binary', async () => {
    const dir = await binDir();
    const noPackages = await freshDir();
    const found = await locateFfmpeg({
      env: { PATH: `/nonexistent:${dir}` },
      resolveFrom: noPackages,
    });
    expect(found).toMatchObject({
      source: 'system',
      ffmpegPath: join(dir, 'ffmpeg'),
      ffprobeSource: 'beside-ffmpeg',
    });
  });

  it('prefers an FFprobe on PATH to the npm-packaged one (which crashes on MPEG-TS)', async () => {
    const dir = await freshDir('keepsake-ffbin-');
    await symlink(npmFfprobe, join(dir, 'ffprobe'));
    const found = await locateFfmpeg({ env: { PATH: dir } });
    expect(found.source).not.toBe('system');
    expect(found).toMatchObject({ ffprobeSource: 'system', ffprobePath: join(dir, 'ffprobe') });
  });

  it('prefers an FFmpeg on PATH to the npm-packaged 2018 build', async () => {
    const dir = await binDir();
    const found = await locateFfmpeg({ env: { PATH: dir } });
    expect(found).toMatchObject({ source: 'system', ffmpegPath: join(dir, 'ffmpeg') });
  });

  it('ranks ffmpeg-static above @ffmpeg-installer when its binary exists', async () => {
    const staticBin = await binDir(false);
    const root = await freshDir();
    const pkg = async (name: string, body: string) => {
      await mkdir(join(root, 'node_modules', name), { recursive: true });
      await writeFile(join(root, 'node_modules', name, 'index.js'), body);
    };
    await pkg('ffmpeg-static', `module.exports = ${JSON.stringify(join(staticBin, 'ffmpeg'))};`);
    await pkg(
      '@ffmpeg-installer/ffmpeg',
      `module.exports = { path: ${JSON.stringify(npmFfmpeg)} };`,
    );
    await pkg(
      '@ffprobe-installer/ffprobe',
      `module.exports = { path: ${JSON.stringify(npmFfprobe)} };`,
    );

    const found = await locateFfmpeg({ env: bareEnv(), resolveFrom: root });
    expect(found.source).toBe('ffmpeg-static');
    expect(found.ffmpegPath).toBe(join(staticBin, 'ffmpeg'));
    // ffmpeg-static ships no FFprobe, so it comes from the next source.
    expect(found.ffprobeSource).toBe('npm-package');
  });

  it('lists everything it tried when nothing is found', async () => {
    const noPackages = await freshDir();
    const err = await rejection(locateFfmpeg({ env: bareEnv(), resolveFrom: noPackages }));
    expect(isKeepsakeError(err, 'FFMPEG_NOT_FOUND')).toBe(true);
    for (const part of [
      'FFMPEG_PATH (not set)',
      'ffmpeg-static',
      '@ffmpeg-installer/ffmpeg',
      'on PATH',
    ]) {
      expect(err.message).toContain(part);
    }
  });

  it('reports a missing FFprobe on its own', async () => {
    const dir = await binDir(false);
    const noPackages = await freshDir();
    const err = await rejection(locateFfmpeg({ env: { PATH: dir }, resolveFrom: noPackages }));
    expect(err.message).toMatch(/^no usable ffprobe found\. Tried: FFPROBE_PATH \(not set\); /);
  });
});

describe('parseVersionLine', () => {
  it.each([
    ['ffmpeg version 6.1.1-static https://johnvansickle.com/ffmpeg/  Copyright', '6.1.1-static'],
    ['ffmpeg version n7.0.2 Copyright (c) 2000-2024 the FFmpeg developers', 'n7.0.2'],
    ['ffmpeg version N-47683-g0e8eb07980-static https://x', 'N-47683-g0e8eb07980-static'],
  ])('reads %j', (line, version) => {
    expect(parseVersionLine('ffmpeg', line)).toBe(version);
  });

  it('rejects output from another program', () => {
    expect(parseVersionLine('ffmpeg', 'ffprobe version 6.1')).toBeUndefined();
    expect(parseVersionLine('ffmpeg', 'hello')).toBeUndefined();
  });
});
