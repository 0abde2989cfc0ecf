// The JSON log of the long-running commands (`keepsake serve`, `keepsake proxy`): one object
// per line, `{"level":"info","time":"<ISO 8601>","msg":…, …fields}`, the shape their readers
// (scripts, the tests, log shippers) already parse. It is pino, Fastify's own logger.
//
// Secrets never reach it: pino's `redact` blanks the credential headers and secret-named
// fields wherever a caller puts them, and secret query parameters (`sig`, `kid`, tokens,
// keys, cloud signatures: SECRET_PARAMS) are blanked inside any string, since a URL in an
// error message carries them too, also percent-encoded inside another URL's query (the
// stream proxy's `/proxy/stream?d=https%3A%2F%2F…%3Fsig%3D…`).
import type { Writable } from 'node:stream';
import pino, { type DestinationStream, type Logger } from 'pino';
import { REDACTED, scrubUrls } from './redact-url';

export type JsonLog = Logger;

const CENSOR = REDACTED;

// The headers that authenticate a request: the desktop API's bearer token, the hardened
// server's signature (and its client id and timestamp, which name whose it is), cookies.
const SECRET_HEADERS = [
  'authorization',
  'proxy-authorization',
  // The stream proxy's shared secret (proxy/stream-route.ts).
  'x-keepsake-api-password',
  'cookie',
  'set-cookie',
  'x-dffmpeg-signature',
  'x-dffmpeg-client-id',
  'x-dffmpeg-timestamp',
];
// Fields whose value is a secret, whatever object holds them.
// `k` is a JWK's key (the ClearKey license answers of proxy/key-routes.ts).
const SECRET_FIELDS = ['token', 'key', 'secret', 'password', 'signature', 'sig', 'kid', 'k'];

const SECRET_FIELD_NAMES: ReadonlySet<string> = new Set(SECRET_FIELDS);

// A plain name is `a.b`; one with a dash is `a["b-c"]` in pino's path syntax.
const under = (prefix: string, name: string) =>
  /^[a-z]+$/i.test(name) ? `${prefix}.${name}` : `${prefix}["${name}"]`;

/** pino `redact` paths: the headers under `headers`, `req.headers` or `res.headers`, the fields at the top or one level down. */
export const REDACT_PATHS = [
  ...SECRET_HEADERS.flatMap((h) =>
    ['headers', 'req.headers', 'res.headers', 'request.headers'].map((at) => under(at, h)),
  ),
  ...SECRET_FIELDS.flatMap((f) => [f, under('*', f)]),
];

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Error);

/** Deeper than this, an object is logged as TOO_DEEP: its fields are not looked at. */
const MAX_DEPTH = 8;
const TOO_DEEP = '[nested too deep]';

function scrubStrings(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubUrls(value);
  if (value === null || typeof value !== 'object') return value;
  // Not passed through unlooked-at: a secret-named field may sit at any depth.
  if (depth > MAX_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) return value.map((v) => scrubStrings(v, depth + 1));
  if (value instanceof Error) return value;
  const out: Record<string, unknown> = {};
  // pino's paths reach one level down; a secret-named field deeper (a JWK in a list) is
  // blanked here.
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_FIELD_NAMES.has(k.toLowerCase()) ? CENSOR : scrubStrings(v, depth + 1);
  }
  return out;
}

/**
 * A logger writing to `destination` (stdout by default, synchronously, so the last lines
 * before an exit are not lost).
 */
export function createJsonLog(
  destination: DestinationStream | Writable = pino.destination({ fd: 1, sync: true }),
): JsonLog {
  return pino(
    {
      base: undefined, // no pid and hostname: the lines say what they said before pino
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => scrubStrings(fields) as Record<string, unknown>,
      },
      hooks: {
        // The message string is not one of the fields: blank its URLs here. Given fields
        // and a message, the message goes in first, so lines read `…"msg":…, …fields` as
        // before pino (which writes a message argument last), for readers that expect it.
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubUrls(a) : a));
          const [fields, msg] = scrubbed;
          if (scrubbed.length === 2 && typeof msg === 'string' && isPlainObject(fields)) {
            return method.apply(this, [{ msg, ...fields }] as Parameters<typeof method>);
          }
          return method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
      // An error's message and stack can quote a signed URL too.
      serializers: { err: (e: Error) => scrubStrings(pino.stdSerializers.err(e)) },
      redact: { paths: REDACT_PATHS, censor: CENSOR },
    },
    destination,
  );
}
