// A job that asks for the graphics chip (`encoder: 'hardware'`) goes only to a worker
// whose proven chip encoders include an H.264 one; `auto` and `software` go anywhere
// with libx264. Checked on fake capabilities (this machine has no chip), through
// canRunOn and through a real coordinator's claim route; and a real `startPoolWorker`
// announces what its encoder detection found.

import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerCapabilities } from '../net/worker-contract';
import {
  capabilities,
  coordinator,
  paired,
  rawWorker,
  stopAll,
  stopLater,
  submitted,
  until,
} from '../testing/pool';
import { testScratch } from '../testing/media';
import { freshDir } from '../testing/tmp';
import { announcedHardware, canRunOn } from './capabilities';
import { startPoolWorker } from './run-worker';

afterEach(stopAll);

const fake = (hardware: string[]): WorkerCapabilities => ({
  encoders: ['libx264', 'aac', 'h264_vaapi', 'hevc_nvenc'],
  muxers: ['mp4', 'mov'],
  filters: ['scale', 'hwupload', 'format'],
  hardware,
  threads: 1,
  slots: 1,
});

const job = (encoder: string) => ({ preset: 'web-h264', params: { maxHeight: '360', encoder } });

describe('hardware capabilities', () => {
  it('reads announced chip encoders by name, ignoring what is not one', () => {
    expect(announcedHardware(['h264_vaapi', 'hevc_nvenc', 'av1_nvenc', 'h264_bogus', 'x'])).toEqual(
      [
        { name: 'h264_vaapi', codec: 'h264', api: 'vaapi' },
        { name: 'hevc_nvenc', codec: 'hevc', api: 'nvenc' },
      ],
    );
  });

  it('a hardware job runs only where an H.264 chip encoder was proven', () => {
    expect(canRunOn(job('hardware'), fake([]))).toBe(false);
    expect(canRunOn(job('hardware'), fake(['hevc_nvenc']))).toBe(false); // HEVC only
    expect(canRunOn(job('hardware'), fake(['h264_vaapi']))).toBe(true);
    expect(canRunOn(job('hardware'), fake(['h264_nvenc', 'hevc_nvenc']))).toBe(true);
    for (const encoder of ['auto', 'software']) {
      expect(canRunOn(job(encoder), fake([]))).toBe(true);
      expect(canRunOn(job(encoder), fake(['h264_vaapi']))).toBe(true);
    }
  });

  it('the coordinator hands a hardware job to the worker with a chip, not to the one without', async () => {
    const { server } = await coordinator();
    const real = await capabilities();
    const { id } = await submitted(server, undefined, { maxHeight: '360', encoder: 'hardware' });
    const plain = await rawWorker(server, 'plain-pc', { ...real, hardware: [] });
    expect(await plain.claim()).toBeUndefined();
    const hevcOnly = await rawWorker(server, 'hevc-box', { ...real, hardware: ['hevc_vaapi'] });
    expect(await hevcOnly.claim()).toBeUndefined();
    const chip = await rawWorker(server, 'gpu-pc', { ...real, hardware: ['h264_vaapi'] });
    expect((await chip.claim())?.id).toBe(id);
  });

  it('a worker announces the chip encoders its detection found', async () => {
    const { server } = await coordinator();
    const { remote } = await paired(server, 'worker', 'gpu-pc');
    const running = await startPoolWorker(
      { ...remote, coordinator: remote.url, threads: 1 },
      {
        dataDir: join(await freshDir(), 'worker'),
        scratch: await testScratch(),
        detectEncoders: () =>
          Promise.resolve({
            hardware: [{ name: 'h264_vaapi', codec: 'h264', api: 'vaapi', device: '/dev/null' }],
          }),
      },
    );
    stopLater(() => running.close());
    const seen = await until('the worker to announce itself', () =>
      server.pool.seen().find((w) => w.name === 'gpu-pc'),
    );
    expect(seen.capabilities.hardware).toEqual(['h264_vaapi']);
    expect(seen.capabilities.threads).toBe(1);
  });
});
