// The Range header of a request for one resource of known size. Neutral ground: the
// loopback source FFmpeg reads (media) and the player's decrypted streams (http) both
// answer ranges over bodies no file-serving library can see, so both parse it here.

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * One `bytes=` range (RFC 9110 §14.1.2) as [start, end), 'unsatisfiable', or undefined
 * when the header is absent or ignored. A multi-range request is ignored (the whole body
 * is sent with 200, as the RFC allows): FFmpeg never asks for one, and multipart bodies
 * are not worth the code. Malformed headers are ignored too, as the RFC says.
 */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    // Suffix range: the last n bytes.
    const n = Number(last);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size : Math.min(Number(last) + 1, size);
  return { start, end };
}
