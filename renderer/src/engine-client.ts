// The renderer's only way to reach the engine: typed fetch calls with the per-launch
// bearer token. Shapes come from the engine's API contract as types only, so the UI
// bundle contains no engine code and a contract change fails this file's typecheck.

import type { ErrorCode } from '../../engine/src/errors';
import type { API_PATHS, ApiError, StatusResponse } from '../../engine/src/server/api';

// Spelt out here (no runtime import), but typed as the engine's own literals.
const PATHS: { status: (typeof API_PATHS)['status'] } = { status: '/v1/status' };

/** Engine codes, plus the two failures only a client can see. */
export type ClientErrorCode = ErrorCode | 'ENGINE_UNREACHABLE' | 'BAD_RESPONSE';

export class EngineError extends Error {
  readonly code: ClientErrorCode;
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;

  constructor(code: ClientErrorCode, message: string, status: number) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
    this.status = status;
  }
}

/**
 * The token travels in the URL fragment (`#token=…`): fragments are never sent to a
 * server, logged, or leaked through Referer.
 */
export function tokenFromHash(hash: string): string | undefined {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('token');
  return token ? token : undefined;
}

export interface EngineClient {
  status(): Promise<StatusResponse>;
}

export interface EngineClientOptions {
  /** Engine origin; '' means the page's own origin (the engine serves the UI). */
  baseUrl?: string;
  token: string | undefined;
  fetch?: typeof fetch;
}

export function createEngineClient(options: EngineClientOptions): EngineClient {
  const baseUrl = options.baseUrl ?? '';
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function get<T>(path: string): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let res: Response;
    try {
      res = await doFetch(`${baseUrl}${path}`, { headers, cache: 'no-store' });
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new EngineError('ENGINE_UNREACHABLE', `The engine is not reachable (${detail}).`, 0);
    }
    const body: unknown = await res.json().catch(() => undefined);
    if (res.ok && body !== undefined) return body as T;
    if (isApiError(body)) throw new EngineError(body.code, body.message, res.status);
    throw new EngineError(
      'BAD_RESPONSE',
      `The engine sent an unexpected response (HTTP ${res.status}).`,
      res.status,
    );
  }

  return {
    status: () => get<StatusResponse>(PATHS.status),
  };
}

function isApiError(body: unknown): body is ApiError {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as ApiError).code === 'string' &&
    typeof (body as ApiError).message === 'string'
  );
}
