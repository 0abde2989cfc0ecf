// Who is on the other end of a loopback connection. On Linux the kernel lists every TCP
// socket with the uid that created it in /proc/net/tcp{,6}; the client end of a
// connection to one of our loopback servers must be a socket of our own user (FFmpeg,
// FFprobe, or this process), never another local user's. That makes a leaked URL or
// secret useless to other users, whatever a command line shows.
//
// Other systems have no such table; there the secrets (kept out of command lines where
// FFmpeg allows it, see input-source.ts) are the only guard.

import { closeSync, openSync, readSync } from 'node:fs';
import type { Socket } from 'node:net';

const TABLES = ['/proc/net/tcp', '/proc/net/tcp6'];

/** A socket line's local and remote address and port and owner, from /proc/net/tcp{,6}. */
interface SocketLine {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: string;
  uid: number;
  /** 0 once the socket's owner has closed it (an orphan, listed with uid 0). */
  inode: number;
}

/**
 * The lines of a table that mention `port` as a local or remote port (` :PPPP `), parsed.
 * A busy machine lists thousands of sockets (every closed connection waits a minute in
 * TIME_WAIT); parsing all of them for each connection was most of the engine's work when
 * it served a library's video pictures, a connection per slice.
 */
function linesWithPort(text: string, port: number): SocketLine[] {
  const needle = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const lines: SocketLine[] = [];
  for (let at = text.indexOf(needle); at >= 0;) {
    const start = text.lastIndexOf('\n', at) + 1;
    const newline = text.indexOf('\n', at);
    const end = newline < 0 ? text.length : newline;
    const line = parseLine(text.slice(start, end));
    if (line) lines.push(line);
    at = newline < 0 ? -1 : text.indexOf(needle, end);
  }
  return lines;
}

function parseLine(line: string): SocketLine | undefined {
  // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
  const fields = line.trim().split(/\s+/);
  if (fields.length < 10) return undefined;
  const [localHex, local] = fields[1]!.split(':');
  const [remoteHex, remote] = fields[2]!.split(':');
  if (local === undefined || remote === undefined) return undefined;
  return {
    localAddress: tableAddress(localHex!),
    localPort: parseInt(local, 16),
    remoteAddress: tableAddress(remoteHex!),
    remotePort: parseInt(remote, 16),
    state: fields[3]!,
    uid: Number(fields[7]),
    inode: Number(fields[9]),
  };
}

/**
 * An address as the table writes it (hex, each 32-bit word in host order: little-endian
 * here) in the form `canonical()` gives: dotted IPv4 (also for ::ffff:a.b.c.d), or eight
 * full lowercase IPv6 groups.
 */
function tableAddress(hex: string): string {
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    for (let i = 6; i >= 0; i -= 2) bytes.push(parseInt(hex.slice(word + i, word + i + 2), 16));
  }
  if (bytes.length === 4) return bytes.join('.');
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255;
  if (mapped) return bytes.slice(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

/** Node's form of an address (`127.0.0.1`, `::ffff:127.0.0.1`, `::1`) in tableAddress's form. */
export function canonical(address: string): string {
  const v4 = /(?:^|:)(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (v4 && (!address.includes(':') || /^::ffff:/i.test(address))) return v4[1]!;
  const [head, tail] = address.toLowerCase().split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16).toString(16)).join(':');
}

/** Bytes asked for per read of a table: the kernel then walks only as far as it must. */
const READ_BYTES = 2048;

/**
 * One table's sockets on `port`, read until `enough` says what was read suffices, or to
 * its end; undefined when the table cannot be read.
 *
 * The kernel makes the table as it is read, walking its hash of every connection (262,144
 * buckets on a machine with 24 GB, nearly all empty) from the start; that walk, about a
 * millisecond, is most of what the check costs, and a library's video pictures make a
 * connection per seek. Read a little at a time, the walk resumes where the last read
 * stopped and ends where the client's line is, on average half way. Listening sockets
 * come before every connection.
 */
export function readTable(
  table: string,
  port: number,
  enough: (lines: SocketLine[]) => boolean,
): SocketLine[] | undefined {
  let fd: number;
  try {
    fd = openSync(table, 'r');
  } catch {
    return undefined; // tcp6 is absent when IPv6 is off.
  }
  try {
    const buffer = Buffer.alloc(READ_BYTES);
    const lines: SocketLine[] = [];
    let rest = '';
    for (;;) {
      const n = readSync(fd, buffer, 0, READ_BYTES, null);
      if (n === 0) break;
      const text = rest + buffer.toString('latin1', 0, n);
      const end = text.lastIndexOf('\n') + 1;
      rest = text.slice(end);
      lines.push(...linesWithPort(text.slice(0, end), port));
      if (enough(lines)) return lines;
    }
    return [...lines, ...linesWithPort(rest, port)];
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

const LISTEN = '0A';

export type PeerVerdict = 'ours' | 'foreign' | 'closed' | 'unknown';

/**
 * Whose socket is the client end of `socket` (a connection accepted on loopback):
 * 'ours' (this user's); 'foreign' (another user's, or not found while the table works);
 * 'closed' when the client has already closed its end (the kernel then no longer
 * knows its owner: it can read no answer, but what it sent may still be unread);
 * or 'unknown' where the system has no socket table to ask (not Linux, or a sandbox
 * whose table does not even list our own listening socket).
 */
export function loopbackPeer(
  socket: Socket,
  uid: number | undefined = process.getuid?.(),
): PeerVerdict {
  if (process.platform !== 'linux' || uid === undefined) return 'unknown';
  const serverPort = socket.localPort;
  const clientPort = socket.remotePort;
  if (
    serverPort === undefined ||
    clientPort === undefined ||
    socket.localAddress === undefined ||
    socket.remoteAddress === undefined
  ) {
    return 'foreign';
  }
  const serverAddress = canonical(socket.localAddress);
  const clientAddress = canonical(socket.remoteAddress);
  // All four: matching ports alone can pick our own accepted socket, when another user
  // connects from 127.0.0.2 with our server's port as its source port.
  const isClient = (s: SocketLine) =>
    s.state !== LISTEN &&
    s.localPort === clientPort &&
    s.localAddress === clientAddress &&
    s.remotePort === serverPort &&
    s.remoteAddress === serverAddress;
  // Every line that names the server's port: its listening socket, and both ends of each
  // connection to it. tcp6 is read only when tcp (where an IPv4 client is) lacks the client.
  let table: SocketLine[] | undefined;
  let client: SocketLine | undefined;
  for (const name of TABLES) {
    const lines = readTable(name, serverPort, (read) => read.some(isClient));
    if (!lines) continue;
    table = [...(table ?? []), ...lines];
    client = table.find(isClient);
    if (client) break;
  }
  if (!table) return 'unknown';
  // The table must show our own listening socket, or it does not describe this network
  // namespace (some sandboxes give an empty or fake one): then it proves nothing.
  if (!table.some((s) => s.state === LISTEN && s.localPort === serverPort && s.uid === uid)) {
    return 'unknown';
  }
  // Not found: the client went away entirely (its end would be listed until ours closes).
  if (!client) return 'foreign';
  if (client.inode === 0) return 'closed';
  return client.uid === uid ? 'ours' : 'foreign';
}
