// `keepsake doctor -c FILE`: the pool's workers the running server has heard from. Only
// the server knows them (in memory), so doctor asks its /healthz on this machine, over
// TLS checked against the server's own CA from its data folder, as a desktop would.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkerStatus } from '../net/contract';

/** A heartbeat older than this: the worker is not answering (it beats every 5 s). */
const SILENT_SECONDS = 30;

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function workerLine(w: WorkerStatus): string {
  const age = w.silentSeconds;
  const state =
    age > SILENT_SECONDS
      ? `NOT ANSWERING (last heartbeat ${age} s ago)`
      : `last heartbeat ${age} s ago`;
  const chips = w.hardware.length > 0 ? w.hardware.join(', ') : 'software only';
  const running = w.running.length > 0 ? `running ${w.running.join(', ')}` : 'idle';
  return `  ${w.name}: ${state}; ${plural(w.threads, 'thread', 'threads')}, ${plural(w.slots, 'slot', 'slots')}, ${chips}; ${running}; ${w.done} done, ${w.failed} failed`;
}

export async function workersReport(
  configFile: string,
  dataDir: string | undefined,
): Promise<{ lines: string[]; data: Record<string, unknown> }> {
  const { readServeConfig, TLS_FILE_NAMES } = await import('./server-runtime');
  const { resolveDataDir } = await import('../core/data-dir');
  const { Agent, request } = await import('undici');
  const config = await readServeConfig(configFile);
  const dir = dataDir ? resolveDataDir(dataDir) : (config.dataDir ?? resolveDataDir(undefined));
  const name = config.hostnames[0] ?? 'localhost';
  const address = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host;
  const target = address.includes(':') ? `[${address}]` : address;
  let agent: InstanceType<typeof Agent> | undefined;
  try {
    const ca = await readFile(join(dir, 'tls', TLS_FILE_NAMES.caCert), 'utf8');
    // The certificate names `name`; the connection goes to where the server listens.
    agent = new Agent({ connect: { ca, servername: name, rejectUnauthorized: true } });
    const res = await request(`https://${target}:${config.port}/healthz`, {
      dispatcher: agent,
      headers: { host: `${name}:${config.port}` },
      headersTimeout: 3000,
      bodyTimeout: 3000,
    });
    const body = (await res.body.json()) as { workers?: WorkerStatus[] };
    const workers = body.workers ?? [];
    return {
      lines: [
        workers.length === 0
          ? 'workers: none has announced itself since the server started'
          : `workers: ${workers.length} seen`,
        ...workers.map((w) => workerLine(w)),
      ],
      data: { reachable: true, workers },
    };
  } catch (err) {
    const problem = err instanceof Error ? err.message : String(err);
    return {
      lines: [
        `workers: unknown; the server does not answer at ${target}:${config.port} (${problem})`,
      ],
      data: { reachable: false, problem, workers: [] },
    };
  } finally {
    await agent?.close();
  }
}
