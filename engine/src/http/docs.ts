// /v1/docs: the API explained in plain text, in the manner of a manual page. The
// endpoint list and the error table are generated (from the OpenAPI document and the
// error registry), so the docs cannot drift from what the server does.

import type { FastifyInstance } from 'fastify';
import { ERROR_CODES } from '../core/errors';
import { ENGINE_VERSION } from '../core/version';

export const DOC_PAGES = ['overview', 'modes', 'endpoints', 'examples', 'errors', 'auth'] as const;
export type DocPage = (typeof DOC_PAGES)[number];

const header = (page: string) =>
  `KEEPSAKE-API(${page.toUpperCase()})        Keepsake engine ${ENGINE_VERSION}        KEEPSAKE-API(${page.toUpperCase()})\n\n`;

const STATIC: Record<Exclude<DocPage, 'endpoints' | 'errors'>, string> = {
  overview: `NAME
    keepsake serve - the Keepsake engine as a hardened encoding server

DESCRIPTION
    The server runs FFmpeg jobs from validated presets on media that stays encrypted.
    Clients upload vault files (ciphertext), send each job's keys, follow progress,
    and download encrypted results. Keys live in the server's memory only; its disk
    holds ciphertext, the job queue and the audit log.

    Every request is HTTPS and signed (see auth). Errors are {"code", "message"}.

PAGES
    /v1/docs/modes       automated and manual jobs
    /v1/docs/endpoints   every route, its method and scopes
    /v1/docs/examples    a job from upload to result
    /v1/docs/errors      every error code and its HTTP status
    /v1/docs/auth        signing requests, roles and scopes
    /v1/openapi.json     the machine-readable contract
`,
  modes: `MODES
    manual
        The client keeps the encrypted results (.ksv) and decrypts them when it wants.

    automated
        The client downloads the encrypted results as soon as the job succeeds and
        decrypts them into the user's output folder.

    In both modes the server sees plaintext only in memory and in FFmpeg's pipes,
    and only while the job runs: FFmpeg's outputs stream into an encrypting sink
    and never touch the disk.

KEYS
    A job carries two keys: "input", the input vault file's own file key, and
    "output", a per-job key under which the outputs' file keys are wrapped. After a
    restart, or once a key's time to live passes, a queued job shows
    "waitingForKeys": true until the client sends them again with
    PUT /v1/jobs/ID/keys.
`,
  examples: `EXAMPLES
    Upload a vault file in chunks (each PATCH is signed over its own bytes):

        POST  /v1/uploads            {"size": 104857600}        -> 201 {"id": "u..."}
        PATCH /v1/uploads/u...       Upload-Offset: 0
                                     Content-Type: application/offset+octet-stream
                                     <first 64 MiB>              -> 204 Upload-Offset: 67108864
        GET   /v1/uploads/u...       (after a broken connection) -> {"offset": 67108864}
        PATCH /v1/uploads/u...       Upload-Offset: 67108864     <the rest>

    A body must keep arriving: one that stalls or crawls is cut off with 408
    BODY_TIMEOUT (ask for the offset and go on from there). An upload is refused with
    507 DISK_FULL when the disk cannot hold it besides the unfinished ones; one that
    no chunk reaches for a day (the server's uploadExpirySeconds) is removed, as is a
    finished job nobody collects.

    Run a job and follow it:

        POST /v1/jobs  {"input": {"upload": "u..."}, "preset": "web-h264",
                        "params": {"crf": 20}, "mode": "automated",
                        "keys": {"input": "<base64>", "output": {"vaultId": "...",
                                 "keyId": "...", "key": "<base64>"}}}
        GET  /v1/jobs/j.../events    (text/event-stream: "job" events, then "end")
        GET  /v1/jobs/j.../outputs/web.mp4    (Range supported; ciphertext)
        DELETE /v1/jobs/j...         (removes the job, its upload and its results)
`,
  auth: `AUTHENTICATION
    Each request carries three headers:

        X-DFFmpeg-Client-ID   the credential's client id
        X-DFFmpeg-Timestamp   Unix time in whole seconds (within 30 s of the server)
        X-DFFmpeg-Signature   base64(HMAC-SHA256(key, METHOD|PATH|TIMESTAMP|hex(sha256(body))))

    PATH includes the query string exactly as sent. A signature is accepted once:
    replaying a request is refused. Comparisons are constant-time.

ROLES
    admin    everything, including the audit log and users
    client   uploads, jobs (its own), results, presets
    worker   leases work, reads presets and jobs
    viewer   reads jobs and presets

    A credential may be limited to CIDRs. Keys are shown once by
    "keepsake user add NAME --role ROLE" and stored encrypted at rest.

LIMITS
    Requests are rate-limited per address and per credential (429 with Retry-After).
    Unsigned requests and each credential have their own budget per address, so a
    flood of unsigned requests does not lock out signed ones from the same address.
    /speedtest needs a signed request with the scope proxy:read.
`,
};

export function docsPage(page: DocPage, app: FastifyInstance): string {
  if (page === 'errors') {
    const rows = Object.entries(ERROR_CODES).map(
      ([code, e]) => `    ${code.padEnd(24)} ${String(e.status).padEnd(5)} ${e.summary}`,
    );
    return `${header(page)}ERRORS\n    Every error is {"code", "message"}; the code is stable.\n\n    CODE                     HTTP  MEANING\n${rows.join('\n')}\n`;
  }
  if (page === 'endpoints') {
    const spec = app.swagger() as { paths?: Record<string, Record<string, { summary?: string }>> };
    const lines = Object.entries(spec.paths ?? {}).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `    ${method.toUpperCase().padEnd(7)} ${path}`),
    );
    return `${header(page)}ENDPOINTS\n${lines.join('\n')}\n\n    Operations (unsigned): GET /live, /healthz, /version, /metrics (allowed addresses)\n`;
  }
  return header(page) + STATIC[page];
}
