// `GET /play/<cap>/<jobId>/<output>`: a finished job's encrypted outputs, decrypted on the
// fly for a player. HLS playlists keep their relative URIs, so a player that opens
// `.../master.m3u8` fetches every rendition and segment through the same route. Range
// requests decrypt only the chunks they cover (the vault format is seekable), so seeking
// into a long video is immediate. The vault's keys stay in this process.
//
// Players (<video>, hls.js's loader, FFmpeg) cannot be made to send the bearer token, so
// the route is guarded by a capability instead: an HMAC of the job id under a secret made
// at each launch. Only API callers (who hold the token) learn it, it opens that one job's
// outputs, and it dies with the process.

import { createHmac } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { KeepsakeError } from '../core/errors';
import { parseRange } from '../core/byte-range';
import type { JobSnapshot } from '../jobs/queue';
import type { Vault } from '../vault/keyring';
import { mediaTypeFor } from '../vault/media-type';
import { VaultFile } from '../vault/vault-file';
import { capabilityMatches } from './capability';
import type { PlayCache } from './play-cache';

export interface PlayOptions {
  /** Throws JOB_NOT_FOUND for an unknown id. */
  job: (id: string) => Promise<JobSnapshot>;
  vault: () => Vault | undefined;
  /** The per-launch secret capabilities are made with. */
  secret: Buffer;
  /** Decrypted small outputs kept in memory (play-cache.ts); none without. */
  cache?: PlayCache;
}

const JOB_ID = /^j[a-z2-7]{12}$/;
/** What a player opens first, in order of preference. */
const PLAYABLE = [/^master\.m3u8$/, /\.(mp4|m4v|webm|mov)$/];

export function playCapability(secret: Buffer, jobId: string): string {
  return createHmac('sha256', secret).update(`play|${jobId}`).digest('base64url').slice(0, 32);
}

/** The path a succeeded job's outputs open under (`<base><output name>`), else undefined. */
export function filesPath(secret: Buffer, job: JobSnapshot): string | undefined {
  if (job.state !== 'succeeded' || job.outputs.length === 0) return undefined;
  return `/play/${playCapability(secret, job.id)}/${job.id}/`;
}

/** The URL (path) a player opens for a succeeded job, or undefined if nothing plays. */
export function playPath(secret: Buffer, job: JobSnapshot): string | undefined {
  if (job.state !== 'succeeded') return undefined;
  for (const pattern of PLAYABLE) {
    const output = job.outputs.find((o) => pattern.test(o.name));
    if (output) return `/play/${playCapability(secret, job.id)}/${job.id}/${output.name}`;
  }
  return undefined;
}

export function playRoutes(options: PlayOptions): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { cap: string; id: string; '*': string } }>(
      '/play/:cap/:id/*',
      // No automatic HEAD: Fastify would answer it by decrypting the whole output.
      { exposeHeadRoute: false },
      async (request, reply) => {
        const { cap, id, '*': name } = request.params;
        const expected = JOB_ID.test(id) ? playCapability(options.secret, id) : '';
        if (!capabilityMatches(cap, expected)) {
          throw new KeepsakeError('UNAUTHORIZED', 'this playback link is not valid (any more)');
        }
        const vault = options.vault();
        if (!vault) throw new KeepsakeError('PASSWORD_REQUIRED', 'unlock the vault to play');
        const job = await options.job(id);
        // Only names the job recorded: nothing else under the outputs folder is reachable.
        const output =
          job.state === 'succeeded' ? job.outputs.find((o) => o.name === name) : undefined;
        if (!output) throw new KeepsakeError('NOT_FOUND', `job ${id} has no output "${name}"`);
        const cached = options.cache?.get(output.path);
        const file = cached ? undefined : await VaultFile.open(output.path, { vault });
        const size = cached?.length ?? file!.size;
        const range = parseRange(request.headers.range, size);
        reply
          .header('accept-ranges', 'bytes')
          .header('cache-control', 'no-store')
          .type(mediaTypeFor(name));
        if (range === 'unsatisfiable') {
          await file?.close();
          reply.header('content-range', `bytes */${size}`);
          throw new KeepsakeError('RANGE_NOT_SATISFIABLE', `the output has ${size} bytes`);
        }
        const { start, end } = range ?? { start: 0, end: size };
        if (range) reply.code(206).header('content-range', `bytes ${start}-${end - 1}/${size}`);
        reply.header('content-length', String(end - start));
        if (cached) return reply.send(cached.subarray(start, end));
        if (options.cache?.fits(size)) {
          // Small enough to keep: decrypt it whole once, serve every later read from memory.
          const whole = await file!.read(0, size).finally(() => file!.close());
          options.cache.set(output.path, whole);
          return reply.send(whole.subarray(start, end));
        }
        const stream = file!.rangeStream(start, end);
        stream.once('close', () => void file!.close());
        return reply.send(stream);
      },
    );
  };
}
