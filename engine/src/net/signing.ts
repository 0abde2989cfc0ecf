// HMAC request signing, wire-compatible with DFFmpeg: HMAC-SHA256 over
// METHOD|PATH|TIMESTAMP|hex(sha256(body)), keyed with the client's base64-decoded key,
// sent as standard padded base64 next to the client id and integer-second timestamp.
// There is no nonce in the scheme, so freshness comes from the timestamp window and
// uniqueness from the replay cache.

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { KeepsakeError } from '../core/errors';
import type { ReplayCache } from './replay-cache';

export const HEADER_CLIENT = 'x-dffmpeg-client-id';
export const HEADER_TIMESTAMP = 'x-dffmpeg-timestamp';
export const HEADER_SIGNATURE = 'x-dffmpeg-signature';

export const DEFAULT_WINDOW_SECONDS = 30;

const SIGNATURE_BYTES = 32;
// Exactly 32 bytes in canonical padded base64: 43 characters whose last one carries two
// zero bits, then one '='. Node's decoder ignores stray bits and characters, so without
// this, many distinct strings would decode to the same MAC and slip past the replay cache.
const SIGNATURE_FORMAT = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
const BASE64_FORMAT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// Visible ASCII only: the id is a map key and may reach logs, so no spaces or controls.
const CLIENT_ID_FORMAT = /^[\x21-\x7e]{1,256}$/;
const TIMESTAMP_FORMAT = /^[0-9]{1,15}$/;

const SHA256_HEX = /^[0-9a-f]{64}$/i;

/**
 * A request body as signed: its bytes, or the SHA-256 of them in hex when the body is
 * streamed and hashed on the way through rather than held in memory.
 */
export type SignedBody = Buffer | string | { sha256Hex: string };

// Most signed requests (every GET) have no body: its hash is a constant.
const EMPTY_SHA256_HEX = createHash('sha256').digest('hex');

function bodyHash(body: SignedBody): string {
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    if (body.length === 0) return EMPTY_SHA256_HEX;
    return createHash('sha256').update(body).digest('hex');
  }
  if (!SHA256_HEX.test(body.sha256Hex)) {
    throw new KeepsakeError('INTERNAL', 'a body digest must be 64 hex digits of SHA-256');
  }
  return body.sha256Hex.toLowerCase();
}

// Unknown clients are checked against this throwaway key so that they cost the same
// HMAC and comparison as known ones and cannot be told apart by timing.
const DECOY_KEY = randomBytes(32);

/** Canonical string METHOD|PATH|TIMESTAMP|hex(sha256(body)); PATH includes the query string exactly as sent. */
export function canonicalString(
  method: string,
  path: string,
  timestamp: number,
  body: SignedBody,
): string {
  // Methods are case-sensitive tokens on the wire but always upper-case in practice;
  // upper-casing here keeps a client that writes 'get' compatible.
  return `${method.toUpperCase()}|${path}|${timestamp}|${bodyHash(body)}`;
}

function mac(key: Buffer, method: string, path: string, timestamp: number, body: SignedBody) {
  return createHmac('sha256', key)
    .update(canonicalString(method, path, timestamp, body))
    .digest();
}

function decodeKey(keyBase64: string): Buffer {
  if (keyBase64.length === 0 || !BASE64_FORMAT.test(keyBase64)) {
    throw new KeepsakeError('INVALID_KEY', 'the signing key must be standard padded base64');
  }
  return Buffer.from(keyBase64, 'base64');
}

/** The signature for a request: standard base64 with padding. */
export function sign(
  keyBase64: string,
  method: string,
  path: string,
  timestamp: number,
  body: SignedBody,
): string {
  return mac(decodeKey(keyBase64), method, path, timestamp, body).toString('base64');
}

/** Headers for a request (timestamp defaults to now in integer seconds). */
export function signedHeaders(
  clientId: string,
  keyBase64: string,
  method: string,
  path: string,
  body: SignedBody = '',
  timestamp: number = Math.floor(Date.now() / 1000),
): Record<string, string> {
  return {
    [HEADER_CLIENT]: clientId,
    [HEADER_TIMESTAMP]: String(timestamp),
    [HEADER_SIGNATURE]: sign(keyBase64, method, path, timestamp, body),
  };
}

export interface VerifyInput {
  method: string;
  /** Path and query string exactly as received (the request target). */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body bytes, or their SHA-256 when the body was streamed. */
  body: Buffer | { sha256Hex: string };
  /** Current time in seconds; defaults to the wall clock. */
  now?: number;
}

/** The client's key, from memory: verifying runs on every request, with no await in it. */
export type KeyLookup = (clientId: string) => Buffer | undefined;

function refuse(reason: string): never {
  throw new KeepsakeError('UNAUTHORIZED', `request signature refused: ${reason}`);
}

function clockRefused(reason: string): never {
  throw new KeepsakeError('CLOCK_SKEW', `request signature refused: ${reason}`);
}

const SIGNED_HEADERS = [HEADER_CLIENT, HEADER_TIMESTAMP, HEADER_SIGNATURE] as const;
const PREFIX = 'x-dffmpeg-';

/**
 * The three headers' values, found in one pass over the headers (every signed request
 * pays for this); refuses a header that is absent, empty or sent more than once.
 */
function signedHeaderValues(headers: VerifyInput['headers']): [string, string, string] {
  const found: (string | undefined)[] = [undefined, undefined, undefined];
  const counts = [0, 0, 0];
  // Node lower-cases names, but callers may pass hand-built objects: match any case.
  for (const key of Object.keys(headers)) {
    const value = headers[key];
    if (value === undefined || key.length <= PREFIX.length) continue;
    if (key.slice(0, PREFIX.length).toLowerCase() !== PREFIX) continue;
    const i = (SIGNED_HEADERS as readonly string[]).indexOf(key.toLowerCase());
    if (i < 0) continue;
    for (const one of Array.isArray(value) ? value : [value]) {
      counts[i]! += 1;
      found[i] = one;
    }
  }
  return SIGNED_HEADERS.map((name, i) => {
    if (counts[i]! > 1) refuse(`${name} header sent more than once`);
    const value = found[i]?.trim();
    if (!value) refuse(`missing ${name} header`);
    return value;
  }) as [string, string, string];
}

/**
 * What can be checked before a body arrives: the three headers are there, well formed,
 * and the timestamp is inside the window. The server runs this (and looks the client up)
 * before it reads a single body byte, so a caller who cannot even name a credential
 * holds no memory or upload lock on it.
 */
export function checkSignedHeaders(
  headers: VerifyInput['headers'],
  nowSeconds: number | undefined,
  windowSeconds: number = DEFAULT_WINDOW_SECONDS,
): { clientId: string; timestamp: number; signature: string } {
  const [clientId, timestampText, signature] = signedHeaderValues(headers);

  if (!CLIENT_ID_FORMAT.test(clientId)) refuse(`malformed ${HEADER_CLIENT} header`);
  if (!TIMESTAMP_FORMAT.test(timestampText)) {
    refuse(`${HEADER_TIMESTAMP} must be whole seconds since the Unix epoch`);
  }
  const timestamp = Number(timestampText);
  const now = nowSeconds ?? Math.floor(Date.now() / 1000);
  const skew = now - timestamp;
  // Its own code: the client can tell a wrong clock (wait, and say so) from a wrong key.
  if (skew > windowSeconds) {
    clockRefused(
      `timestamp is ${Math.floor(skew)} s old; the limit is ${windowSeconds} s (is the ` +
        "client's clock behind?)",
    );
  }
  if (-skew > windowSeconds) {
    clockRefused(
      `timestamp is ${Math.floor(-skew)} s in the future; the limit is ${windowSeconds} s ` +
        "(is the client's clock ahead?)",
    );
  }
  // Format is public knowledge, so refusing a malformed signature early leaks nothing
  // about the key; from here on, equal-length buffers go to timingSafeEqual.
  if (!SIGNATURE_FORMAT.test(signature)) {
    refuse(`${HEADER_SIGNATURE} must be ${SIGNATURE_BYTES} bytes in padded base64`);
  }
  return { clientId, timestamp, signature };
}

/**
 * Checks the three headers, the ±windowSeconds timestamp window, then the HMAC in
 * constant time, then the replay cache. Returns the client id; throws UNAUTHORIZED (or
 * CLOCK_SKEW for a timestamp outside the window or before the server started) with
 * a specific reason that never includes the expected signature or the key. An unknown
 * client gets exactly the error a wrong signature gets, so ids cannot be probed.
 */
export function verifyRequest(
  input: VerifyInput,
  lookupKey: KeyLookup,
  replay: ReplayCache,
  options: { windowSeconds?: number } = {},
): string {
  const windowSeconds = options.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  if (!Number.isFinite(windowSeconds) || windowSeconds <= 0) {
    throw new KeepsakeError('INTERNAL', 'the signing window must be a positive number');
  }
  // A cache that forgets sooner than a signature stops being acceptable lets replays in.
  if (replay.ttlSeconds < 2 * windowSeconds) {
    throw new KeepsakeError(
      'INTERNAL',
      `the replay cache TTL (${replay.ttlSeconds} s) must be at least twice the signing window (${windowSeconds} s)`,
    );
  }

  const { clientId, timestamp, signature } = checkSignedHeaders(
    input.headers,
    input.now,
    windowSeconds,
  );
  // After a crash the replay cache cannot know what the dead process accepted (see
  // replay-cache.ts). Checked before the MAC: it depends on nothing secret.
  if (timestamp < replay.since) {
    clockRefused(
      `signed at ${timestamp}, before the server restarted from a crash (at ` +
        `${replay.since - 1}); sign it again`,
    );
  }
  const given = Buffer.from(signature, 'base64');

  const key = lookupKey(clientId);
  const known = key !== undefined && key.length > 0;
  const expected = mac(known ? key : DECOY_KEY, input.method, input.path, timestamp, input.body);
  const matches = timingSafeEqual(expected, given);
  if (!matches || !known) {
    refuse('the signature does not match (unknown client, wrong key, or altered request)');
  }

  // Only authenticated requests reach the cache, so forgeries cannot fill it. 48 bits of
  // the MAC identify it: MACs are uniformly random, so two different requests share them
  // with odds near n²/2^49 (about 1 in 560 for a million within one minute, and then
  // the client simply signs again), while a number key costs a fraction of a string.
  if (!replay.checkAndRemember(given.readUIntBE(0, 6))) {
    refuse('this signed request was already used; sign each request afresh');
  }
  return clientId;
}
