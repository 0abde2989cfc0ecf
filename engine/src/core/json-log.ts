// The JSON log of the long-running commands (`keepsake serve`, `keepsake proxy`): one object
// per line, `{"level":"info","time":"<ISO 8601>","msg":…, …fields}`, the shape their readers
// (scripts, the tests, log shippers) already parse. It is pino, Fastify's own logger.
//
// Secrets never reach it: pino's `redact` blanks the credential headers and secret-named
// fields wherever a caller puts them, and the signed-URL query parameters (`sig`, `kid`,
// `token`) are blanked inside any string, since a URL in an error message carries them too.
import type { Writable } from 'node:stream';
import pino, { type DestinationStream, type Logger } from 'pino';

export type JsonLog = Logger;

const CENSOR = '[redacted]';

// The headers that authenticate a request: the desktop API's bearer token, the hardened
// server's signature (and its client id and timestamp, which name whose it is), cookies.
const SECRET_HEADERS = [
  'authorization',
  'cookie',
  'set-cookie',
  'x-dffmpeg-signature',
  'x-dffmpeg-client-id',
  'x-dffmpeg-timestamp',
];
// Fields whose value is a secret, whatever object holds them.
const SECRET_FIELDS = ['token', 'key', 'secret', 'password', 'signature', 'sig', 'kid'];

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

const SECRET_PARAM = /([?&](?:sig|kid|token)=)[^&#\s"'<>]*/gi;

/** `text` with the values of the `sig`, `kid` and `token` query parameters blanked. */
export const scrubUrls = (text: string): string => text.replace(SECRET_PARAM, `$1${CENSOR}`);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Error);

function scrubStrings(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubUrls(value);
  if (value === null || typeof value !== 'object' || depth > 4) return value;
  if (Array.isArray(value)) return value.map((v) => scrubStrings(v, depth + 1));
  if (value instanceof Error) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubStrings(v, depth + 1);
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
