// The desktop engine's own routes (embedded.ts): liveness and status, and the error body
// every route answers with. Part of the desktop route table (desktop-route-table.ts).

import { Type, type Static } from 'typebox';
import type { ErrorCode } from '../core/errors';
import { ApiErrorSchema } from './contract';

/** Every error response body. Never a stack trace. */
export interface ApiError {
  code: ErrorCode;
  message: string;
}

export const LiveSchema = Type.Object({ ok: Type.Literal(true) });

export const FfmpegStatusSchema = Type.Union([
  Type.Object({
    source: Type.Union([
      Type.Literal('config'),
      Type.Literal('env'),
      Type.Literal('ffmpeg-static'),
      Type.Literal('npm-package'),
      Type.Literal('system'),
    ]),
    version: Type.String(),
  }),
  Type.Object({ error: ApiErrorSchema }),
]);
export type FfmpegStatus = Static<typeof FfmpegStatusSchema>;

export const StatusSchema = Type.Object({
  /** The engine's version. */
  version: Type.String(),
  dataDir: Type.String(),
  vault: Type.Object({ exists: Type.Boolean(), dir: Type.String() }),
  ffmpeg: FfmpegStatusSchema,
});
export type StatusResponse = Static<typeof StatusSchema>;

/** The OpenAPI document itself: passed through whole. */
export const OpenApiDocumentSchema = Type.Record(Type.String(), Type.Unknown(), {
  description: 'An OpenAPI 3 document',
});
