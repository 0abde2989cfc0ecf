// The error and not-found handlers, as a plugin either server can register: every error
// becomes `{code, message}` with its status from the registry (api-error.ts), and a
// request refused before its body was all read is answered with `connection: close`, so
// the rest of that body is not waited for.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ERROR_CODES } from '../core/errors';
import type { ApiErrorBody as ApiError } from '../net/contract';
import { toApiError } from './api-error';

export interface ErrorHandlingOptions {
  /** Where unexpected errors (answered as INTERNAL) are logged. */
  logError: (err: unknown) => void;
  /** Sees every error answer, not-found included (the server audits them). */
  onError?: (request: FastifyRequest, body: ApiError) => void;
  /** The not-found message; by default "no such route: METHOD /path". */
  notFound?: (method: string, path: string) => string;
}

async function errorHandling(app: FastifyInstance, options: ErrorHandlingOptions) {
  const { logError, onError } = options;
  const notFound = options.notFound ?? ((method, path) => `no such route: ${method} ${path}`);
  app.setErrorHandler((err, request, reply) => {
    const body = toApiError(err, logError);
    onError?.(request, body);
    if (!request.raw.complete) reply.header('connection', 'close');
    return reply.code(ERROR_CODES[body.code].status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body: ApiError = {
      code: 'ROUTE_NOT_FOUND',
      message: notFound(request.method, request.url.split('?')[0] ?? ''),
    };
    onError?.(request, body);
    return reply.code(ERROR_CODES.ROUTE_NOT_FOUND.status).send(body);
  });
}

export const errorHandlingPlugin = fp(errorHandling, { name: 'keepsake-error-handling' });
