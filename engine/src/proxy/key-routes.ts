// The ClearKey routes next to the stream proxy: `GET /keys` lists the key ids held (with
// their expiry, never the keys), `POST /keys` loads a key with a time to live, and
// `POST /keys/clearkey` answers W3C EME ClearKey license requests
// (https://www.w3.org/TR/encrypted-media/#clear-key): `{"kids":[…],"type":"temporary"}`
// in, a JWK set out. The plugin does not authenticate: the host server registers it
// behind its own auth (admin-signed on `keepsake serve`, the bearer token on the desktop).
//
// A license request that names no held key is a 404 that says only that: the same answer
// for a kid never loaded and one that expired, and no list of what is held.

import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { KeepsakeError } from '../core/errors';
import { type HeldKeyInfo, type KeyStore, parseKeyBytes } from './key-store';

export const KEYS_PATH = '/keys';
export const CLEARKEY_PATH = '/keys/clearkey';
/** Key ids one license request may name (a title has a handful: one per track at most). */
export const MAX_KIDS_PER_REQUEST = 64;

export interface ClearKeyLicense {
  keys: { kty: 'oct'; kid: string; k: string }[];
  type: 'temporary';
}

export interface KeyRoutesOptions {
  store: KeyStore;
  /** Told of every key loaded (the hardened server audits it). Never given the key. */
  onLoad?: (request: FastifyRequest, held: HeldKeyInfo) => void;
  /**
   * Read a body of any (or no) Content-Type as JSON. A page hands the CDM's license
   * request on as it is (`fetch(url, { method: 'POST', body: event.message })`, an
   * ArrayBuffer: no Content-Type), as players do by default. Not on `keepsake serve`,
   * whose signed requests keep their JSON bodies' bytes for the signature.
   */
  anyContentType?: boolean;
}

const usage = (message: string) => new KeepsakeError('USAGE', message);

function objectBody(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw usage('the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** The kids of an EME ClearKey license request, validated. */
export function parseLicenseRequest(body: unknown): string[] {
  const { kids, type, ...rest } = objectBody(body);
  const extra = Object.keys(rest);
  if (extra.length > 0) throw usage(`unknown field ${JSON.stringify(extra[0])}`);
  if (type !== undefined && type !== 'temporary') {
    throw usage('only "temporary" licenses are given');
  }
  if (!Array.isArray(kids) || kids.length === 0 || kids.length > MAX_KIDS_PER_REQUEST) {
    throw usage(`"kids" must be a list of 1 to ${MAX_KIDS_PER_REQUEST} key ids`);
  }
  return kids.map((kid) => {
    // Parsed for its shape only; the canonical spelling is what the store is keyed by.
    const bytes = parseKeyBytes(kid, 'key id');
    const id = bytes.toString('base64url');
    bytes.fill(0);
    return id;
  });
}

export function keyRoutes(options: KeyRoutesOptions): FastifyPluginAsync {
  const { store } = options;
  return async (app) => {
    // Every answer here is about secrets: nothing may be kept by a cache on the way.
    app.addHook('onSend', (_request, reply, payload, done) => {
      reply.header('cache-control', 'no-store');
      done(null, payload);
    });

    if (options.anyContentType) {
      app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
        try {
          done(null, JSON.parse(body.toString()));
        } catch {
          done(usage('the body is not valid JSON'), undefined);
        }
      });
    }

    app.get(KEYS_PATH, async (): Promise<{ keys: HeldKeyInfo[] }> => ({ keys: store.list() }));

    app.post(KEYS_PATH, async (request, reply): Promise<HeldKeyInfo> => {
      const { kid, key, ttlSeconds, ...rest } = objectBody(request.body);
      const extra = Object.keys(rest);
      if (extra.length > 0) throw usage(`unknown field ${JSON.stringify(extra[0])}`);
      if (typeof ttlSeconds !== 'number') throw usage('"ttlSeconds" is required (a number)');
      const kidBytes = parseKeyBytes(kid, 'key id');
      const keyBytes = parseKeyBytes(key, 'key');
      let held: HeldKeyInfo;
      try {
        held = store.load(kidBytes, keyBytes, ttlSeconds);
      } finally {
        kidBytes.fill(0);
        keyBytes.fill(0);
      }
      options.onLoad?.(request, held);
      return reply.code(201).send(held);
    });

    app.post(CLEARKEY_PATH, async (request): Promise<ClearKeyLicense> => {
      const kids = parseLicenseRequest(request.body);
      const keys: ClearKeyLicense['keys'] = [];
      for (const kid of new Set(kids)) {
        const k = store.keyFor(kid);
        if (k !== undefined) keys.push({ kty: 'oct', kid, k });
      }
      if (keys.length === 0) {
        throw new KeepsakeError('NOT_FOUND', 'no key is held for the key ids asked for');
      }
      return { keys, type: 'temporary' };
    });
  };
}
