// What a coordinator says of its workers: /healthz lists each (name, last heartbeat,
// threads, chips, running jobs, done and failed), /metrics counts per worker, and
// `keepsake doctor -c` on the server's configuration prints them, asking the running
// server over TLS checked against its own CA.

import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { parseServeConfig } from '../http/serve-config';
import type { Health } from '../net/contract';
import { pinnedAgent } from '../net/pinning';
import { WORKER_PATHS } from '../net/worker-contract';
import { startServe, type RunningServer } from '../serve/serve';
import { runCli } from '../testing/cli';
import { testScratch } from '../testing/media';
import {
  capabilities,
  poolWorker,
  rawWorker,
  stopAll,
  stopLater,
  submitted,
  until,
} from '../testing/pool';
import { freePort } from '../testing/redis-server';
import { freshDir } from '../testing/tmp';

afterEach(stopAll);

async function get(s: RunningServer, path: string) {
  const res = await request(new URL(path, s.url), {
    dispatcher: pinnedAgent(s.tls.caCertPem, s.caFingerprint),
  });
  return res.body.text();
}

describe("a coordinator's report of its workers", () => {
  it('healthz, metrics and doctor list the workers seen, their load and their counts', async () => {
    const dir = await freshDir();
    const dataDir = join(dir, 'server');
    const port = await freePort();
    const file = join(dir, 'serve.json');
    await writeFile(file, JSON.stringify({ port, dataDir }));
    const server = await startServe({
      config: parseServeConfig({ port, dataDir }),
      dataDir,
      kek: randomBytes(32),
      scratch: await testScratch(),
      logError: () => undefined,
    });
    stopLater(() => server.close());
    await server.engine.worker.stop();

    // One real worker runs a job to the end; a raw one holds another, and says it runs it.
    const able = await poolWorker(server, 'kitchen-pc');
    const first = await submitted(server);
    expect((await first.client.waitFor(first.id, undefined, 200)).state).toBe('succeeded');
    await able.worker.stop();
    const second = await submitted(server);
    const busy = await rawWorker(server, 'nas', {
      ...(await capabilities()),
      hardware: ['h264_vaapi'],
    });
    expect((await busy.claim())?.id).toBe(second.id);
    // Listed as running from its claim, before its next heartbeat says so.
    expect(server.pool.status().find((w) => w.name === 'nas')?.running).toEqual([second.id]);
    await busy.heartbeat([{ id: second.id, percent: 10 }]);

    const health = JSON.parse(await get(server, '/healthz')) as Health;
    const byName = Object.fromEntries((health.workers ?? []).map((w) => [w.name, w]));
    expect(Object.keys(byName).sort()).toEqual(['kitchen-pc', 'nas']);
    expect(byName['kitchen-pc']).toMatchObject({ running: [], done: 1, failed: 0, threads: 1 });
    expect(byName.nas).toMatchObject({ running: [second.id], done: 0, hardware: ['h264_vaapi'] });
    expect(Date.now() - byName.nas!.lastHeartbeat).toBeLessThan(30_000);
    expect(byName.nas!.silentSeconds).toBeLessThan(30);

    const doctor = await runCli(['doctor', '-c', file]);
    expect(doctor.code, doctor.stderr).toBe(0);
    expect(doctor.stdout).toContain('workers: 2 seen');
    const nasLine = `nas: last heartbeat \\d+ s ago; 1 thread, 1 slot, h264_vaapi; running ${second.id}; 0 done, 0 failed`;
    expect(doctor.stdout).toMatch(new RegExp(`^ {2}${nasLine}$`, 'm'));
    expect(doctor.stdout).toMatch(/ {2}kitchen-pc: .*software only; idle; 1 done, 0 failed/);
    const json = await runCli(['--json', 'doctor', '-c', file]);
    const report = JSON.parse(json.stdout) as {
      workers: { reachable: boolean; workers: unknown[] };
    };
    expect(report.workers.reachable).toBe(true);
    expect(report.workers.workers).toHaveLength(2);

    // The worker gives up: a failure counts against it.
    await busy.client.call('POST', WORKER_PATHS.fail(second.id), {
      json: { code: 'FFMPEG_FAILED', message: 'test' },
    });
    const metrics = await get(server, '/metrics');
    expect(metrics).toMatch(
      /^keepsake_worker_jobs_total\{worker="kitchen-pc",outcome="done"\} 1$/m,
    );
    expect(metrics).toMatch(/^keepsake_worker_jobs_total\{worker="nas",outcome="failed"\} 1$/m);
    expect(metrics).toMatch(/^keepsake_worker_running\{worker="nas"\} 0$/m);
    expect(metrics).toMatch(/^keepsake_worker_last_heartbeat_seconds\{worker="nas"\} \d+/m);

    await server.close();
    const down = await runCli(['doctor', '-c', file]);
    expect(down.stdout).toMatch(/workers: unknown; the server does not answer/);
  }, 120_000);

  it('a coordinator with concurrency 0 runs no job itself: the job waits for a worker', async () => {
    const server = await startServe({
      config: parseServeConfig({ port: 0, concurrency: 0 }),
      dataDir: join(await freshDir(), 'server'),
      kek: randomBytes(32),
      scratch: await testScratch(),
      logError: () => undefined,
      worker: { pollMs: 50 },
    });
    stopLater(() => server.close());
    const { id, client } = await submitted(server);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await client.job(id)).state).toBe('queued');
    const helper = await poolWorker(server, 'attic');
    expect((await client.waitFor(id, undefined, 200)).state).toBe('succeeded');
    // Recorded once the coordinator has answered: possibly after the job reads as done.
    await until('the worker to record the end', () => helper.ended.length > 0);
    expect(helper.ended.map((e) => e.id)).toEqual([id]);
  });
});
