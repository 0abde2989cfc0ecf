// Secret query parameters blanked inside any text: what the logs (json-log.ts, the desktop
// engine's stderr) do to every URL before it is written. Apart from the logger, so the
// desktop engine can use it without loading pino.

export const REDACTED = '[redacted]';

/**
 * Query parameters whose value is a secret: signed-URL parts (ours and the CDNs'), key ids
 * and keys, and anything named like a token, a key or a password.
 */
const SECRET_PARAMS = [
  'sig',
  'signature',
  'kid',
  'k',
  'key',
  'keyid',
  'key-pair-id',
  'policy',
  'auth',
  'password',
  'passwd',
  'secret',
  'jwt',
  'hdnts',
  'hdntl',
  'x-amz-signature',
  'x-amz-credential',
  'x-goog-signature',
  'x-goog-credential',
  '[\\w.-]*token',
  '[\\w.-]*[_-]key',
  'api_?key',
].join('|');
// `?name=value`, up to the next parameter or the end of the URL, also inside a
// percent-encoded URL (once or twice encoded) and with any mix of encoded and plain
// separators (`%3Fname=value`, `&name%3Dvalue`): a value runs to the next `&`, plain or
// encoded.
const SEPARATOR = '(?:[?&]|%3F|%26|%253F|%2526)';
const EQUALS = '(?:=|%3D|%253D)';
const SECRET_PARAM = new RegExp(
  `(${SEPARATOR}(?:${SECRET_PARAMS})${EQUALS})(?:(?!%26|%2526)[^&#\\s"'<>])*`,
  'gi',
);

/** `text` with the values of secret query parameters (SECRET_PARAMS) blanked. */
export const scrubUrls = (text: string): string => text.replace(SECRET_PARAM, `$1${REDACTED}`);
