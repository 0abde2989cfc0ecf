// The embedded engine server: what the desktop app (and `npm start` in a browser) talks
// to. It listens on loopback only and guards its API with a random bearer token (per
// launch, or kept in the data folder in browser mode: desktop-address.ts), because any
// local program or web page can reach 127.0.0.1.
//
// Defences, in the order a request meets them:
//   1. Host header must be our loopback origin (stops DNS-rebinding pages).
//   2. An Origin header, when sent, must be our own origin; no CORS headers are ever
//      emitted, so foreign pages can neither send nor read cross-origin requests.
//   3. /v1 routes require `Authorization: Bearer <token>`; the token reaches the UI in
//      the URL fragment, which browsers never send to servers or put in Referer.
// Every response carries a strict CSP and nosniff/no-referrer headers, and every error
// is `{code, message}` from the error registry, never a stack.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, RouteOptions } from 'fastify';
import { defaultVaultDir } from '../core/data-dir';
import { ERROR_CODES, KeepsakeError } from '../core/errors';
import { scrubUrls } from '../core/redact-url';
import { locateFfmpeg } from '../ffmpeg/locate';
import type { FfmpegLocation, LocateOptions } from '../ffmpeg/locate';
import { vaultExists } from '../vault/keyring';
import { ENGINE_VERSION } from '../core/version';
import type { ApiError, FfmpegStatus } from '../net/desktop-api';
import { DESKTOP_ROUTES } from '../net/desktop-route-table';
import { toApiError } from './api-error';

export const LOOPBACK_HOST = '127.0.0.1';

/** Only our own files: no inline script, no remote anything, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export interface EmbeddedServerOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** When `port` is taken, take a free one instead of failing (browser mode's last port). */
  portFallback?: boolean;
  /** The bearer token; a random per-launch one when absent. */
  token?: string;
  /** The built renderer (renderer/dist); served at `/` when the folder exists. */
  staticDir?: string;
  /** How to find FFmpeg (explicit paths, env, package root). */
  ffmpeg?: LocateOptions;
  /** Further API routes (full paths, e.g. `/v1/...`), behind the token. */
  routes?: FastifyPluginAsync;
  /** Playback routes (`/play/...`, see play.ts), guarded by their own capabilities. */
  play?: FastifyPluginAsync;
  /** Library pictures and media (`/pic/...`, `/media/...`, item-media.ts), guarded likewise. */
  media?: FastifyPluginAsync;
  /** Where unexpected errors are reported; clients only ever see INTERNAL. */
  logError?: (err: unknown) => void;
  /** Told of every route as it is registered (tests check them against the route table). */
  onRoute?: (route: RouteOptions) => void;
}

export interface EmbeddedServer {
  /** The origin, e.g. http://127.0.0.1:51234 */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export async function startEmbeddedServer(opts: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const token = opts.token ?? randomBytes(32).toString('base64url');
  const app = await buildApp(opts, token);
  try {
    await app.listen({ host: LOOPBACK_HOST, port: opts.port ?? 0 });
  } catch (err) {
    if (!opts.portFallback || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    await app.listen({ host: LOOPBACK_HOST, port: 0 });
  }
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://${LOOPBACK_HOST}:${port}`, port, token, close: () => app.close() };
}

async function buildApp(opts: EmbeddedServerOptions, token: string): Promise<FastifyInstance> {
  const logError =
    opts.logError ??
    // A proxied URL in an error carries signed-URL and key parameters: blanked first.
    ((err: unknown) => process.stderr.write(`keepsake engine: ${scrubUrls(errorText(err))}\n`));
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
  }).withTypeProvider<TypeBoxTypeProvider>();
  if (opts.onRoute) app.addHook('onRoute', opts.onRoute);
  // The API takes JSON (and raw bytes for uploads, added by that route): any other body
  // is 415, as on `keepsake serve`, not a string that then fails validation as a 400.
  app.removeContentTypeParser('text/plain');

  // Allowed once the port is known; before listen() nothing can arrive anyway.
  const ownHosts = (): Set<string> => {
    const address = app.server.address() as AddressInfo | null;
    const port = address?.port ?? -1;
    return new Set([`${LOOPBACK_HOST}:${port}`, `localhost:${port}`]);
  };

  app.addHook('onRequest', async (request) => {
    const hosts = ownHosts();
    const host = request.headers.host?.toLowerCase();
    if (!host || !hosts.has(host)) {
      throw new KeepsakeError(
        'FORBIDDEN_ORIGIN',
        'this server only answers to its loopback address',
      );
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !isOwnOrigin(origin, hosts)) {
      throw new KeepsakeError('FORBIDDEN_ORIGIN', 'cross-origin requests are not allowed');
    }
  });

  app.addHook('onSend', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    // Assets are fingerprinted; proxied bodies keep their upstream's caching headers.
    // Everything else, decrypted pictures and media above all, is never stored: a browser's
    // disk cache would keep them in plain form after the vault is locked.
    const ownCaching = request.url.startsWith('/assets/') || request.url.startsWith('/proxy/');
    if (!ownCaching) {
      reply.header('cache-control', 'no-store');
    }
  });

  app.setErrorHandler((err, _request, reply) => {
    const body = toApiError(err, logError);
    return reply.code(ERROR_CODES[body.code].status).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const body: ApiError = {
      code: 'ROUTE_NOT_FOUND',
      message: `no such page or API route: ${request.method} ${request.url.split('?')[0]}`,
    };
    return reply.code(ERROR_CODES.ROUTE_NOT_FOUND.status).send(body);
  });

  // The desktop API as OpenAPI, from the route table (net/desktop-route-table.ts). Only
  // the table's routes are tagged; untagged ones (playback, the proxy, static files) are
  // not part of the API and stay out of the document.
  await app.register(swagger, {
    openapi: {
      info: { title: 'Keepsake desktop engine', version: ENGINE_VERSION },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
    hideUntagged: true,
  });

  app.route({ ...DESKTOP_ROUTES.live, handler: async () => ({ ok: true as const }) });

  const ffmpegStatus = ffmpegProbe(opts.ffmpeg);

  // The token-guarded API. The hook is scoped to this plugin, so it applies to every
  // route matched here however its URL was spelt (percent-encoding, case).
  await app.register(async (v1) => {
    v1.addHook('onRequest', async (request) => {
      if (!hasToken(request, token)) {
        throw new KeepsakeError('UNAUTHORIZED', 'missing or wrong bearer token');
      }
    });

    v1.route({
      ...DESKTOP_ROUTES.status,
      handler: async () => {
        const vaultDir = defaultVaultDir(opts.dataDir);
        return {
          version: ENGINE_VERSION,
          dataDir: opts.dataDir,
          vault: { exists: await vaultExists(vaultDir), dir: vaultDir },
          ffmpeg: await ffmpegStatus(),
        };
      },
    });
    // Behind the token like the rest of /v1: it holds no secret, but one rule for every
    // /v1 route is simpler to check than exceptions, and every client has the token.
    v1.route({ ...DESKTOP_ROUTES.openapi, handler: async () => app.swagger() });

    if (opts.routes) await v1.register(opts.routes);
  });
  if (opts.play) await app.register(opts.play);
  if (opts.media) await app.register(opts.media);

  if (opts.staticDir && existsSync(opts.staticDir)) {
    await app.register(fastifyStatic, { root: opts.staticDir, prefix: '/', dotfiles: 'deny' });
  }

  return app;
}

function isOwnOrigin(origin: string, hosts: Set<string>): boolean {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && hosts.has(url.host) && url.origin === origin;
  } catch {
    return false; // includes the opaque origin "null"
  }
}

function hasToken(request: FastifyRequest, token: string): boolean {
  const match = /^Bearer ([^\s]+)$/i.exec(request.headers.authorization ?? '');
  if (!match?.[1]) return false;
  // Hashing first gives equal lengths, so the comparison time says nothing.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(match[1]), digest(token));
}

/**
 * Finds FFmpeg once. A success is kept for the server's life; a failure is retried on
 * the next request, so installing FFmpeg while the app runs is picked up.
 */
function ffmpegProbe(options: LocateOptions | undefined): () => Promise<FfmpegStatus> {
  let pending: Promise<FfmpegLocation> | undefined;
  return async () => {
    pending ??= locateFfmpeg(options);
    try {
      const { source, version } = await pending;
      return { source, version };
    } catch (err) {
      pending = undefined;
      return { error: toApiError(err, () => {}) };
    }
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
