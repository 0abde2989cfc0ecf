// `keepsake worker -c worker.json` assembled: FFmpeg found and its capabilities read, the
// coordinator's CA fetched and checked against the pinned fingerprint, what a killed
// run left removed, then the loop (worker-loop.ts) started.

import { join } from 'node:path';
import { detectEncoders, type EncoderCapabilities } from '../ffmpeg/hw-detect';
import { locateFfmpeg } from '../ffmpeg/locate';
import { openScratch, type ScratchOptions } from '../ffmpeg/scratch';
import { RemoteClient } from '../net/client';
import { detectCapabilities } from './capabilities';
import { clearLeftovers, leasedJobRunner } from './leased-job';
import { pinnedCa, type WorkerConfig } from './worker-config';
import { PoolWorker } from './worker-loop';

export interface RunningWorker {
  worker: PoolWorker;
  close(): Promise<void>;
}

export async function startPoolWorker(
  config: WorkerConfig,
  options: {
    dataDir: string;
    scratch?: ScratchOptions;
    onTrouble?: (err: unknown) => void;
    onJobEnd?: (id: string, err?: unknown) => void;
    /** What finds the graphics chips (tests pass a fake one). */
    detectEncoders?: (ffmpegPath: string) => Promise<Pick<EncoderCapabilities, 'hardware'>>;
  },
): Promise<RunningWorker> {
  const dataDir = config.dataDir ?? join(options.dataDir, 'worker');
  const ffmpeg = await locateFfmpeg();
  // Graphics chips are offered only once a one-frame test encode passed on each.
  const { hardware } = await (options.detectEncoders ?? detectEncoders)(ffmpeg.ffmpegPath);
  const capabilities = await detectCapabilities(ffmpeg.ffmpegPath, {
    threads: config.threads,
    slots: config.slots,
    hardware,
  });
  const scratch = await openScratch(options.scratch);
  // Jobs a killed worker left: the coordinator has handed them on, or will.
  await clearLeftovers(dataDir);
  const client = new RemoteClient({
    url: config.coordinator,
    clientId: config.clientId,
    key: config.key,
    caCertPem: await pinnedCa(config),
    caFingerprint: config.caFingerprint,
  });
  const worker = new PoolWorker({
    client,
    capabilities,
    run: leasedJobRunner({ client, dataDir, ffmpeg, capabilities, scratch, hardware }),
    heartbeatMs: (config.heartbeatSeconds ?? 5) * 1000,
    onTrouble: options.onTrouble,
    onJobEnd: options.onJobEnd,
  });
  await worker.start();
  return {
    worker,
    async close() {
      await worker.stop();
      await client.close();
    },
  };
}
