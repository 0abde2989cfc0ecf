// Everything the hardened server checks before a route runs: the Host allowlist, the
// client address, the per-address and per-credential budgets, what can be checked of a
// body before it is read, the signature, and the security headers on every answer.
//
// One plugin wrapped with fastify-plugin: its hooks and parsers apply to the whole app,
// to every route registered after it.

import type { IncomingMessage } from 'node:http';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { KeepsakeError } from '../../core/errors';
import { watchBody } from '../body-deadline';
import type { ServeContext } from './context';

export const SECURITY_HEADERS = {
  'strict-transport-security': 'max-age=31536000',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
};

/** JSON bodies (at most bodyLimit each) one credential may have arriving at once. */
const MAX_BUFFERED_BODIES_PER_CLIENT = 16;
/** The body of a request without one (every GET), as signed. */
const EMPTY = Buffer.alloc(0);

const hasBody = (request: FastifyRequest) =>
  request.headers['transfer-encoding'] !== undefined ||
  Number(request.headers['content-length'] ?? 0) > 0;

async function guard(app: FastifyInstance, { ctx }: { ctx: ServeContext }): Promise<void> {
  const { config, gate, metrics } = ctx;
  // Only the body types the routes take: anything else is 415, not parsed as text.
  app.removeAllContentTypeParsers();
  const rawBodies = new WeakMap<FastifyRequest, Buffer>();
  // A decoration rather than a WeakMap: every signed request sets it.
  app.decorateRequest('caller', null);
  app.decorateRequest('clientAddress', '');
  app.decorateRequest('claimed', null);

  // JSON bodies are kept as bytes too: the signature covers exactly what was sent.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    rawBodies.set(request, raw);
    if (raw.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(raw.toString('utf8')));
    } catch {
      done(new KeepsakeError('USAGE', 'the body is not valid JSON'), undefined);
    }
  });
  // Upload chunks stream to disk: the route reads the body itself.
  app.addContentTypeParser('application/offset+octet-stream', (_request, payload, done) =>
    done(null, payload),
  );

  const hosts = new Set<string>();
  for (const name of [...config.hostnames, ...config.addresses]) {
    const host = name.includes(':') ? `[${name}]` : name;
    hosts.add(host.toLowerCase());
  }
  // Hooks on every request take callbacks rather than promises: under load the promise
  // and its extra turn through the microtask queue cost as much as the check itself.
  app.addHook('onRequest', (request, _reply, done) => {
    request.clientAddress = gate.address(request);
    const host = (request.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    if (!hosts.has(host)) {
      done(new KeepsakeError('FORBIDDEN_ORIGIN', 'this server does not answer to that host name'));
    } else {
      done();
    }
  });

  const window = config.rateLimit.windowSeconds * 1000;
  await app.register(rateLimit, {
    global: true,
    max: config.rateLimit.perAddress,
    timeWindow: window,
    // Signed and unsigned callers have budgets apart: a flood of /live (or of junk) from
    // an address must not lock out the signed requests from it. A request counts as
    // signed when its headers name a real credential usable from there with a fresh
    // timestamp (precheck; the signature itself needs the body), and each such credential
    // has its own budget per address, so naming one does not spend the others'.
    keyGenerator: (request) => {
      if (request.headers['x-dffmpeg-client-id'] !== undefined) {
        try {
          return `signed ${request.clientAddress} ${gate.precheck(request).clientId}`;
        } catch {
          // Counted with the unsigned; the route refuses it later with the reason.
        }
      }
      return `unsigned ${request.clientAddress}`;
    },
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'RATE_LIMITED',
      message: `too many requests from this address; retry in ${Math.ceil(context.ttl / 1000)} s`,
    }),
  });

  // Per credential, wherever it connects from: a budget of its own (a store apart from
  // the per-address one), spent only once the signature is verified, so nobody can spend
  // a credential's budget by naming it. The hook above cannot: it runs before the body.
  const perCredential = app.createRateLimit({
    max: config.rateLimit.perClient,
    timeWindow: window,
    keyGenerator: (request) => callerOfRequest(request),
  });
  app.decorate(
    'spendCredentialBudget',
    async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const budget = await perCredential(request);
      if (budget.isAllowed || !budget.isExceeded) return;
      reply.header('retry-after', String(budget.ttlInSeconds));
      throw new KeepsakeError(
        'RATE_LIMITED',
        `too many requests for this credential; retry in ${budget.ttlInSeconds} s`,
      );
    },
  );

  // Nothing of a body is read before what can be checked without it: the signature
  // headers, the timestamp window, a credential by that id and its address ranges. A
  // caller who cannot name a credential holds no memory and no upload lock; the body
  // itself must then keep arriving (body-deadline.ts).
  // JSON bodies are held in memory until their signature is checked: a credential's id
  // (which is not a secret) buys at most this many of them at once.
  const bufferedBodies = new Map<string, number>();
  app.addHook('onRequest', (request, _reply, done) => {
    if (!request.routeOptions.config.scopes || !hasBody(request)) return done();
    try {
      request.claimed = gate.precheck(request);
    } catch (err) {
      return done(err as Error);
    }
    if (request.headers['content-type']?.startsWith('application/json')) {
      const id = request.claimed.clientId;
      const held = bufferedBodies.get(id) ?? 0;
      if (held >= MAX_BUFFERED_BODIES_PER_CLIENT) {
        return done(
          new KeepsakeError(
            'SERVER_BUSY',
            `${held} requests of this credential are still arriving; retry once they are done`,
          ),
        );
      }
      bufferedBodies.set(id, held + 1);
      request.raw.once('close', () => {
        const left = (bufferedBodies.get(id) ?? 1) - 1;
        if (left > 0) bufferedBodies.set(id, left);
        else bufferedBodies.delete(id);
      });
    }
    done();
  });
  app.addHook('preParsing', (request, _reply, payload, done) => {
    if (!hasBody(request)) return done(null, payload);
    done(null, watchBody(payload as IncomingMessage, config.bodyTimeouts));
  });

  // Before validation: a caller who cannot sign learns nothing from schema errors.
  app.addHook('preValidation', (request, reply, done) => {
    const scopes = request.routeOptions.config.scopes;
    if (!scopes || request.routeOptions.config.streamAuth) return done();
    try {
      request.caller = gate.authenticate(request, rawBodies.get(request) ?? EMPTY, scopes);
    } catch (err) {
      return done(err as Error);
    }
    app.spendCredentialBudget(request, reply).then(
      () => done(),
      (err: Error) => done(err),
    );
  });

  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.headers(SECURITY_HEADERS);
    done(null, payload);
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });
}

function callerOfRequest(request: FastifyRequest): string {
  // Only ever called once the signature verified (spendCredentialBudget's callers).
  if (!request.caller) throw new KeepsakeError('INTERNAL', 'credential budget before its proof');
  return request.caller.clientId;
}

export const serveGuard = fp(guard, { name: 'keepsake-serve-guard' });
