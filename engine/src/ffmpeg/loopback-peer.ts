// Who is on the other end of a loopback connection. On Linux the kernel lists every TCP
// socket with the uid that created it in /proc/net/tcp{,6}; the client end of a
// connection to one of our loopback servers must be a socket of our own user (FFmpeg,
// FFprobe, or this process), never another local user's. That makes a leaked URL or
// secret useless to other users, whatever a command line shows.
//
// Other systems have no such table; there the secrets (kept out of command lines where
// FFmpeg allows it, see input-source.ts) are the only guard.

import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';

const TABLES = ['/proc/net/tcp', '/proc/net/tcp6'];

/** A socket line's local and remote port and owner, from /proc/net/tcp{,6}. */
interface SocketLine {
  localPort: number;
  remotePort: number;
  state: string;
  uid: number;
  /** 0 once the socket's owner has closed it (an orphan, listed with uid 0). */
  inode: number;
}

function parseTable(text: string): SocketLine[] {
  const lines: SocketLine[] = [];
  for (const line of text.split('\n').slice(1)) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const local = fields[1]!.split(':')[1];
    const remote = fields[2]!.split(':')[1];
    if (local === undefined || remote === undefined) continue;
    lines.push({
      localPort: parseInt(local, 16),
      remotePort: parseInt(remote, 16),
      state: fields[3]!,
      uid: Number(fields[7]),
      inode: Number(fields[9]),
    });
  }
  return lines;
}

function readTables(): SocketLine[] | undefined {
  const lines: SocketLine[] = [];
  let readAny = false;
  for (const table of TABLES) {
    try {
      lines.push(...parseTable(readFileSync(table, 'latin1')));
      readAny = true;
    } catch {
      // tcp6 is absent when IPv6 is off.
    }
  }
  return readAny ? lines : undefined;
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
  if (serverPort === undefined || clientPort === undefined) return 'foreign';
  const table = readTables();
  if (!table) return 'unknown';
  // The table must show our own listening socket, or it does not describe this network
  // namespace (some sandboxes give an empty or fake one): then it proves nothing.
  if (!table.some((s) => s.state === LISTEN && s.localPort === serverPort && s.uid === uid)) {
    return 'unknown';
  }
  const client = table.find(
    (s) => s.localPort === clientPort && s.remotePort === serverPort && s.state !== LISTEN,
  );
  // Not found: the client went away entirely (its end would be listed until ours closes).
  if (!client) return 'foreign';
  if (client.inode === 0) return 'closed';
  return client.uid === uid ? 'ours' : 'foreign';
}
