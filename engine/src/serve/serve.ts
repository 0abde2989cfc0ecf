// `keepsake serve`: assembles the hardened server from its parts and starts it.
//
//   data dir/engine.db    queue, credentials (sealed), uploads, audit log
//   data dir/tls/         the server's own CA and leaf, keys sealed under the KEK (net/tls.ts)
//   data dir/uploads/     ciphertext uploads
//   data dir/outputs/     ciphertext results
//   data dir/replay-cache the replay cache across restarts (replay-file.ts)
//
// Job keys are held in memory only (job-keys.ts); nothing here writes plaintext or keys.

import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { KeepsakeError } from '../core/errors';
import { createJsonLog } from '../core/json-log';
import { openDatabase, databasePath, type Db } from '../jobs/db';
import { openJobEngine, type JobEngine } from '../jobs/job-engine';
import type { ScratchOptions } from '../ffmpeg/scratch';
import { AuditLog } from '../audit/audit';
import { CredentialStore } from '../net/credentials';
import { loadKek } from '../net/kek';
import { keepSweeping } from '../http/expiry';
import { checkHealth, queueHealth } from '../http/health';
import { openReplayCache } from '../net/replay-file';
import { JobKeyStore } from '../http/job-keys';
import { redeemPairing } from '../net/pairing';
import { createMetrics } from '../http/metrics';
import { buildServeApp } from '../http/serve-app';
import { createAuthGate } from '../http/serve-auth';
import { redisSettings, type ServeConfig } from '../http/serve-config';
import { requireRedis } from '../jobs/redis-connection';
import { ensureServerTls, type TlsFiles } from '../net/server-ca';
import { SERVER_TLS_OPTIONS, certificateChain, keepLeafFresh } from '../net/server-tls';
import { UploadStore } from '../http/uploads';
import { PoolCoordinator, poolOwner, type PoolOptions } from '../pool/coordinator';
import { BullmqJobQueue } from '../jobs/bullmq-queue';
import { DEFAULT_LOCK_MS } from '../jobs/bullmq-names';

export interface ServeOptions {
  config: ServeConfig;
  dataDir: string;
  /** The KEK, when not from the config's kekFile or the environment (tests). */
  kek?: Buffer;
  /** Overrides the scratch choice (tests). */
  scratch?: ScratchOptions;
  logError?: (err: unknown) => void;
  worker?: { pollMs?: number; heartbeatMs?: number };
  /** The pool's lease length and `holds` check (tests; the BullMQ backend's lock). */
  pool?: Pick<PoolOptions, 'leaseMs' | 'holds'>;
}

export interface RunningServer {
  url: string;
  port: number;
  caFingerprint: string;
  tls: TlsFiles;
  app: FastifyInstance;
  engine: JobEngine;
  credentials: CredentialStore;
  audit: AuditLog;
  db: Db;
  pool: PoolCoordinator;
  /** Serves with new settings (SIGHUP); on failure the old ones stay in force. */
  reload(config: ServeConfig): Promise<void>;
  close(): Promise<void>;
}

export async function startServe(options: ServeOptions): Promise<RunningServer> {
  const { dataDir } = options;
  let config = options.config;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const kek = options.kek ?? (await loadKek({ file: config.kekFile })).kek;
  // A queue on Redis that does not answer stops the start: the server never falls back
  // to its SQLite queue behind the pool's back.
  const redis = await redisSettings(config);
  if (redis) await requireRedis(redis);
  const db = openDatabase(databasePath(dataDir));
  const closers: (() => Promise<void> | void)[] = [
    () => {
      db.close();
    },
  ];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  try {
    const credentials = new CredentialStore(db, kek);
    const audit = new AuditLog(db);
    // The TLS private keys are sealed under the credential store's data key (so the KEK).
    const sealer = credentials.sealer('tls');
    const tls = await ensureServerTls(join(dataDir, 'tls'), {
      hostnames: config.hostnames,
      addresses: config.addresses,
      sealer,
    });
    const jobKeys = new JobKeyStore(config.keyTtlSeconds * 1000);
    // What the last run accepted stays refused after a restart (replay-file.ts).
    const replayFile = await openReplayCache(join(dataDir, 'replay-cache'), { ttlSeconds: 60 });
    const replay = replayFile.cache;
    // Runs after the HTTP side closed (closers run in reverse): nothing is accepted later.
    closers.push(() => replayFile.save());
    closers.push(() => jobKeys.close());
    const engine = await openJobEngine({
      dataDir,
      db,
      keys: {
        perJob: (job) => {
          const keys = jobKeys.get(job.id);
          if (!keys) throw new Error(`job ${job.id} has no keys`); // canRun prevents this
          return keys;
        },
        canRun: (job) => jobKeys.has(job.id),
      },
      concurrency: config.concurrency,
      scratch: options.scratch ?? { configured: config.scratch },
      worker: options.worker,
      bullmq: redis && {
        redis,
        rateLimit: config.queue?.rateLimit && {
          max: config.queue.rateLimit.max,
          durationMs: config.queue.rateLimit.durationSeconds * 1000,
        },
      },
    });
    closers.push(() => engine.close());
    const uploadsDir = join(dataDir, 'uploads');
    await mkdir(uploadsDir, { recursive: true, mode: 0o700 });
    const uploads = new UploadStore(db, uploadsDir, {
      maxBytes: config.maxUploadBytes,
      reserveBytes: config.reserveBytes,
    });
    const health = () =>
      checkHealth({
        db,
        dataDir,
        ffmpeg: engine.env.ffmpeg,
        scratch: engine.env.scratch,
        queue: queueHealth(engine.queue),
        workers: () => pool.status(),
        keyringReady: () => {
          try {
            credentials.list();
            return true;
          } catch {
            return false;
          }
        },
      });
    // Workers of the pool (`keepsake worker`) run jobs too, with their keys by lease.
    // On BullMQ a worker's hold is its job's BullMQ lock: a worker killed mid-job stops
    // renewing it and BullMQ's stalled-job check hands the job on.
    const bull = engine.queue instanceof BullmqJobQueue ? engine.queue : undefined;
    const pool = new PoolCoordinator({
      queue: engine.queue,
      keys: jobKeys,
      outputRoot: engine.outputRoot,
      ffmpeg: engine.env.ffmpeg,
      audit,
      ...(bull && {
        leaseMs: DEFAULT_LOCK_MS,
        holds: (workerId: string, jobId: string) => bull.lockedBy(poolOwner(workerId), jobId),
        queueHandsOver: true,
      }),
      ...options.pool,
    });
    const metrics = createMetrics(engine.queue, health, () => pool.status());
    engine.worker.on('finished', (job) => {
      if (job.startedAt && job.finishedAt) {
        metrics.jobDuration.observe(
          { preset: job.preset, state: job.state },
          (job.finishedAt - job.startedAt) / 1000,
        );
      }
      if (job.state === 'succeeded') {
        metrics.bytesEncrypted.inc(job.outputs.reduce((n, o) => n + o.size, 0));
      }
      // A finished job needs its keys no more: forget them now, not at the TTL.
      jobKeys.delete(job.id);
    });
    const stderrLog = options.logError ? undefined : createJsonLog(process.stderr);
    const logError =
      options.logError ??
      ((err: unknown) => stderrLog?.error(err instanceof Error ? err.message : String(err)));
    // The database busy, full or damaged: the worker waits and tries again; the log says
    // why jobs do not move (once per cause, until one moves again).
    let lastStall = '';
    engine.worker.on('stalled', (err: KeepsakeError) => {
      if (err.message === lastStall) return;
      lastStall = err.message;
      logError(new KeepsakeError(err.code, `job worker waiting: ${err.message}`));
    });
    engine.worker.on('progress', () => (lastStall = ''));
    // The HTTP side can be rebuilt from a new configuration (SIGHUP) while the queue,
    // the running jobs and the keys in memory carry on.
    const listen = async (cfg: ServeConfig) => {
      const tlsOptions = { hostnames: cfg.hostnames, addresses: cfg.addresses, sealer };
      const files = await ensureServerTls(join(dataDir, 'tls'), tlsOptions);
      const app = await buildServeApp({
        config: cfg,
        engine,
        uploads,
        jobKeys,
        gate: createAuthGate(credentials, { replay }),
        audit,
        metrics,
        health,
        tls: { key: files.keyPem, cert: certificateChain(files) },
        pair: (request) => redeemPairing(db, credentials, tls.caFingerprint, request),
        logError,
        pool,
      });
      await app.listen({ host: cfg.host, port: cfg.port });
      const stopRenewal = keepLeafFresh(app.server as never, join(dataDir, 'tls'), {
        ...tlsOptions,
        contextOptions: SERVER_TLS_OPTIONS,
        onError: logError,
      });
      const { port } = app.server.address() as AddressInfo;
      const host = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
      const shown = host === '0.0.0.0' || host === '[::]' ? cfg.hostnames[0] : host;
      return {
        app,
        port,
        files,
        url: `https://${shown}:${port}`,
        close: async () => {
          stopRenewal();
          await app.close();
        },
      };
    };
    let http = await listen(config);
    closers.push(() => http.close());
    await engine.worker.start();
    // Abandoned uploads and orphaned jobs go, with their files (expiry.ts); the setting
    // is read at start, not on reload.
    closers.push(
      keepSweeping(
        { uploads, engine, jobKeys, audit, maxAgeMs: config.uploadExpirySeconds * 1000 },
        logError,
      ),
    );
    audit.append({ action: 'server.start', outcome: 'ok', detail: `port ${http.port}` });
    const running: RunningServer = {
      url: http.url,
      port: http.port,
      caFingerprint: tls.caFingerprint,
      tls: http.files,
      app: http.app,
      engine,
      credentials,
      audit,
      db,
      pool,
      async reload(next: ServeConfig) {
        if (next.dataDir !== undefined && next.dataDir !== dataDir) {
          throw new KeepsakeError('USAGE', 'dataDir cannot change on reload; restart the server');
        }
        // The queue (SQLite's or BullMQ's) is opened once, above: a reload that named
        // another would be logged as applied while the old one kept running.
        if (JSON.stringify(next.queue) !== JSON.stringify(config.queue)) {
          throw new KeepsakeError('USAGE', 'queue cannot change on reload; restart the server');
        }
        await http.close();
        try {
          http = await listen(next);
        } catch (err) {
          // The new settings did not start: the old ones come back.
          http = await listen(config);
          throw err;
        }
        config = next;
        Object.assign(running, { url: http.url, port: http.port, app: http.app, tls: http.files });
        audit.append({ action: 'server.reload', outcome: 'ok', detail: `port ${http.port}` });
      },
      close: closeAll,
    };
    return running;
  } catch (err) {
    await closeAll();
    throw err;
  }
}
