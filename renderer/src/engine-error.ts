// What a failed engine call throws: the engine's own `{code, message}` (from its error
// registry), or one of the two failures only a client can see.

import type { ErrorCode } from '../../engine/src/core/errors';
import type { ApiError } from '../../engine/src/net/desktop-api';

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

/** The vault must be unlocked (or created) before this request can succeed. */
export function needsVault(err: unknown): boolean {
  if (!(err instanceof EngineError)) return false;
  // Typed as the registry's codes (no cast): a code the engine does not have is a type
  // error here. The engine says PASSWORD_REQUIRED for a locked vault.
  const codes: readonly ClientErrorCode[] = ['PASSWORD_REQUIRED', 'VAULT_NOT_FOUND'];
  return codes.includes(err.code);
}

export function badResponse(status: number): EngineError {
  return new EngineError(
    'BAD_RESPONSE',
    `The engine sent an unexpected response (HTTP ${status}).`,
    status,
  );
}

export function isApiError(body: unknown): body is ApiError {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as ApiError).code === 'string' &&
    typeof (body as ApiError).message === 'string'
  );
}
