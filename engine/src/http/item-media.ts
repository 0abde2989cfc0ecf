// `GET /pic/<cap>/<fileId>/<name>` and `GET /media/<cap>/<fileId>`: a library item's
// pictures (thumbnail, preview, poster, sprite; and `clips/<name>/<n>`, the pictures of
// the clips a tape's analysis proposes) and its vault copy itself, decrypted on
// the fly for <img> and <video>, which cannot send the bearer token. Like /play (play.ts)
// each is guarded by a capability: an HMAC of the item's id under the per-launch secret,
// handed out only with the item list (behind the token), opening that one item, and dying
// with the process. Nothing decrypted is written to disk: pictures are read into memory,
// the vault copy streams only the chunks a Range asks for.
//
// A picture's name is random and changes whenever the picture is made again, so its
// reply may be cached for good (by the browser only: `private`); the vault copy is not.

import { createHmac } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { parseRange } from '../core/byte-range';
import { KeepsakeError } from '../core/errors';
import type { Library } from '../library/library';
import type { LibraryItems } from '../library/library-items';
import { readPicture } from '../library/preview-store';
import type { TapeAnalysisStore } from '../tape/analysis-store';
import type { Vault } from '../vault/keyring';
import { mediaTypeFor } from '../vault/media-type';
import { VaultFile } from '../vault/vault-file';
import { capabilityMatches } from './capability';

export interface ItemMediaOptions {
  library: Library;
  items: LibraryItems;
  dataDir: string;
  vault: () => Vault | undefined;
  /** The per-launch secret capabilities are made with. */
  secret: Buffer;
  /** Tapes' analyses, with the pictures of their proposed clips. */
  tapeAnalyses?: TapeAnalysisStore;
}

const FILE_ID = /^m[a-z2-7]{12}$/;
const PICTURES_NAME = /^[0-9a-f]{32}$/;

/** Capabilities made so far, by secret: a 10,000-item list would otherwise make 20,000 HMACs. */
const made = new WeakMap<Buffer, Map<string, string>>();

function capability(secret: Buffer, what: 'pic' | 'media', fileId: string): string {
  let bySecret = made.get(secret);
  if (!bySecret) made.set(secret, (bySecret = new Map()));
  const key = `${what}|${fileId}`;
  let cap = bySecret.get(key);
  if (cap === undefined) {
    cap = createHmac('sha256', secret).update(key).digest('base64url').slice(0, 32);
    bySecret.set(key, cap);
  }
  return cap;
}

/** The path a picture of the item opens under (append the picture's stored name). */
export function picturesPath(secret: Buffer, fileId: string): string {
  return `/pic/${capability(secret, 'pic', fileId)}/${fileId}/`;
}

/** The path the item's decrypted vault copy opens under. */
export function mediaPath(secret: Buffer, fileId: string): string {
  return `/media/${capability(secret, 'media', fileId)}/${fileId}`;
}

/** Refuses a capability that is not this item's (in constant time), then a locked vault. */
function check(
  options: ItemMediaOptions,
  what: 'pic' | 'media',
  cap: string,
  fileId: string,
): Vault {
  const expected = FILE_ID.test(fileId) ? capability(options.secret, what, fileId) : '';
  if (!capabilityMatches(cap, expected)) {
    throw new KeepsakeError('UNAUTHORIZED', 'this picture or video link is not valid (any more)');
  }
  const vault = options.vault();
  if (!vault) throw new KeepsakeError('PASSWORD_REQUIRED', 'unlock the vault to see this');
  return vault;
}

export function itemMediaRoutes(options: ItemMediaOptions): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { cap: string; id: string; name: string } }>(
      '/pic/:cap/:id/:name',
      async (request, reply) => {
        const { cap, id, name } = request.params;
        const vault = check(options, 'pic', cap, id);
        const picture = options.items.picture(id, name);
        if (!picture) throw new KeepsakeError('NOT_FOUND', 'this picture is not there (any more)');
        // No caching header of its own: the onSend hook's `no-store` (embedded.ts) keeps the
        // decrypted picture out of the browser's disk cache, where it would outlive the lock.
        const { bytes } = await readPicture(options.dataDir, vault, picture);
        return reply.type('image/jpeg').header('content-length', String(bytes.length)).send(bytes);
      },
    );

    // A picture of a clip a tape's analysis proposes: the item's own capability opens it.
    app.get<{ Params: { cap: string; id: string; name: string; index: string } }>(
      '/pic/:cap/:id/clips/:name/:index',
      async (request, reply) => {
        const { cap, id, name, index } = request.params;
        const vault = check(options, 'pic', cap, id);
        const bytes =
          /^\d{1,4}$/.test(index) && PICTURES_NAME.test(name)
            ? await options.tapeAnalyses?.picture(vault, id, name, Number(index))
            : undefined;
        if (!bytes) throw new KeepsakeError('NOT_FOUND', 'this picture is not there (any more)');
        return reply.type('image/jpeg').header('content-length', String(bytes.length)).send(bytes);
      },
    );

    // No automatic HEAD: Fastify would answer it by decrypting the whole file and dropping it.
    app.get<{ Params: { cap: string; id: string } }>(
      '/media/:cap/:id',
      { exposeHeadRoute: false },
      async (request, reply) => {
        const { cap, id } = request.params;
        const vault = check(options, 'media', cap, id);
        const item = options.library.file(id);
        if (!item.encryptedPath) {
          throw new KeepsakeError('NOT_ENCRYPTED', 'this file is not in the vault yet');
        }
        const file = await VaultFile.open(item.encryptedPath, { vault });
        const size = file.size;
        const range = parseRange(request.headers.range, size);
        reply
          .header('accept-ranges', 'bytes')
          .header('cache-control', 'no-store')
          .type(mediaTypeFor(item.rel));
        if (range === 'unsatisfiable') {
          await file.close();
          reply.header('content-range', `bytes */${size}`);
          throw new KeepsakeError('RANGE_NOT_SATISFIABLE', `the file has ${size} bytes`);
        }
        const { start, end } = range ?? { start: 0, end: size };
        if (range) reply.code(206).header('content-range', `bytes ${start}-${end - 1}/${size}`);
        reply.header('content-length', String(end - start));
        const stream = file.rangeStream(start, end);
        stream.once('close', () => void file.close());
        return reply.send(stream);
      },
    );
  };
}
