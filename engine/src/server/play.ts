// `GET /play/:jobId/<output>`: a finished job's encrypted outputs, decrypted on the fly
// for a player. HLS playlists keep their relative URIs, so a player that opens
// `/play/ID/master.m3u8` fetches every rendition and segment through the same route.
// Range requests decrypt only the chunks they cover (the vault format is seekable), so
// seeking into a long video is immediate. The vault's keys stay in this process.

import type { FastifyPluginAsync } from 'fastify';
import { KeepsakeError } from '../errors';
import { parseRange } from '../ffmpeg/input-source';
import type { JobQueue } from '../jobs/queue';
import type { Vault } from '../vault/keyring';
import { mediaTypeFor } from '../vault/media-type';
import { VaultFile } from '../vault/vault-file';

export interface PlayOptions {
  queue: JobQueue;
  vault: () => Vault | undefined;
}

export function playRoutes(options: PlayOptions): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { id: string; '*': string } }>('/play/:id/*', async (request, reply) => {
      const vault = options.vault();
      if (!vault) throw new KeepsakeError('PASSWORD_REQUIRED', 'unlock the vault to play');
      const { id, '*': name } = request.params;
      if (!/^j[a-z2-7]{12}$/.test(id)) throw new KeepsakeError('JOB_NOT_FOUND', `no job "${id}"`);
      const job = await options.queue.get(id);
      // Only names the job recorded: nothing else under the outputs folder is reachable.
      const output =
        job.state === 'succeeded' ? job.outputs.find((o) => o.name === name) : undefined;
      if (!output) throw new KeepsakeError('NOT_FOUND', `job ${id} has no output "${name}"`);
      const file = await VaultFile.open(output.path, { vault });
      const range = parseRange(request.headers.range, file.size);
      reply
        .header('accept-ranges', 'bytes')
        .header('cache-control', 'no-store')
        .type(mediaTypeFor(name));
      if (range === 'unsatisfiable') {
        await file.close();
        reply.header('content-range', `bytes */${file.size}`);
        throw new KeepsakeError('RANGE_NOT_SATISFIABLE', `the output has ${file.size} bytes`);
      }
      const { start, end } = range ?? { start: 0, end: file.size };
      const stream = file.rangeStream(start, end);
      stream.once('close', () => void file.close());
      if (range) {
        reply.code(206).header('content-range', `bytes ${start}-${end - 1}/${file.size}`);
      }
      return reply.header('content-length', String(end - start)).send(stream);
    });
  };
}
