// The one mapping from any error to the `{code, message}` body both servers answer with
// (the desktop engine and `keepsake serve`), and so to its HTTP status in the registry
// (errors.ts). Registry errors pass as they are; Fastify's own client errors get the
// registry code that names them; the database's errors say what is wrong and what to
// do; anything unexpected is logged and answered as INTERNAL, never with a stack trace.

import { ERROR_CODES, KeepsakeError, fromSqliteError } from '../core/errors';
import type { ApiError } from '../net/desktop-api';

export function toApiError(err: unknown, logError: (err: unknown) => void): ApiError {
  if (err instanceof KeepsakeError) return err.toJSON();
  const db = fromSqliteError(err);
  if (db) {
    logError(err);
    return db.toJSON();
  }
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : '';
  if (e?.statusCode === 429) return { code: 'RATE_LIMITED', message };
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { code: 'UNSUPPORTED_MEDIA_TYPE', message };
  }
  if (e?.statusCode === 413) return { code: 'TOO_LARGE', message };
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { code: 'USAGE', message: message || 'bad request' };
  }
  logError(err);
  return { code: 'INTERNAL', message: ERROR_CODES.INTERNAL.summary };
}
