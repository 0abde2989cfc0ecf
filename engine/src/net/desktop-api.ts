// The HTTP contract of the engine: paths and response shapes, in one place. The routes
// in embedded.ts are typed against these, and the renderer's client imports them with
// `import type`, so a change here breaks the build on both sides instead of drifting.

import type { ErrorCode } from '../core/errors';
import type { FfmpegSource } from '../ffmpeg/locate';

export const API_PATHS = {
  /** Liveness probe; no token needed. */
  live: '/live',
  status: '/v1/status',
} as const;

/** Every error response body. Never a stack trace. */
export interface ApiError {
  code: ErrorCode;
  message: string;
}

export interface LiveResponse {
  ok: true;
}

export type FfmpegStatus = { source: FfmpegSource; version: string } | { error: ApiError };

export interface StatusResponse {
  /** The engine's version. */
  version: string;
  dataDir: string;
  vault: { exists: boolean; dir: string };
  ffmpeg: FfmpegStatus;
}
