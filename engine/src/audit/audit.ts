// The server's audit log: every action, append-only and hash-chained in the engine's
// SQLite database. Triggers refuse UPDATE and DELETE through SQLite (migration 4); the
// chain catches what the triggers cannot, an attacker editing the file itself: each
// entry's hash covers its fields and the previous entry's hash, so an edit, a deletion
// or a reordering breaks verification at that entry. (Someone who rewrites every later
// hash too is caught only by comparing the head with a copy kept elsewhere: see head().)

import { createHash } from 'node:crypto';
import { KeepsakeError } from '../core/errors';
import { stmt, type Db } from '../jobs/db';

export type AuditOutcome = 'ok' | 'denied' | 'error';

export interface AuditEvent {
  /** Who: a client id, a credential name, or 'cli' / 'system'. */
  actor?: string;
  /** The client's address, as the server decided to believe it. */
  address?: string;
  /** What, dotted: 'auth.login', 'jobs.submit', 'credentials.revoke'. */
  action: string;
  /** On what: a job id, a credential name. */
  target?: string;
  outcome: AuditOutcome;
  /** A string is stored as given; an object is stored as JSON with secrets redacted. */
  detail?: string | Record<string, unknown>;
}

export interface AuditEntry {
  seq: number;
  at: number;
  actor?: string;
  address?: string;
  action: string;
  target?: string;
  outcome: AuditOutcome;
  detail?: string;
  prevHash: string;
  hash: string;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  outcome?: AuditOutcome;
  /** Entries at or after this time (ms). */
  since?: number;
  /** Entries before this time (ms). */
  until?: number;
  /** Default 100, at most 1000. */
  limit?: number;
  /** Page forward: the first `limit` entries after this seq. Without it, the last `limit`. */
  afterSeq?: number;
}

export type ChainCheck =
  { ok: true; entries: number } | { ok: false; brokenAt: number; reason: string };

interface Row {
  seq: number;
  at: number;
  actor: string | null;
  address: string | null;
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);
const OUTCOMES: readonly string[] = ['ok', 'denied', 'error'];
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
// A request cannot grow the log without bound by sending a huge header or body.
const MAX_FIELD = 256;
const MAX_DETAIL = 4096;

const SECRET_KEY = /key|secret|password|token|signature/i;

/** A copy of `value` with every property whose name looks secret replaced by '[redacted]'. */
export function redact(value: unknown): unknown {
  const seen = new WeakSet<object>();
  const walk = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) return '[circular]';
    seen.add(v);
    if (Buffer.isBuffer(v)) return '[bytes]';
    if (Array.isArray(v)) return v.map(walk);
    const out: Record<string, unknown> = {};
    for (const [k, inner] of Object.entries(v)) {
      out[k] = SECRET_KEY.test(k) ? '[redacted]' : walk(inner);
    }
    return out;
  };
  return walk(value);
}

const clip = (text: string | undefined, max: number): string | null =>
  text === undefined ? null : text.length > max ? `${text.slice(0, max - 1)}…` : text;

/** The bytes each hash covers: the previous hash, then the fields in a fixed order. */
function entryHash(prevHash: string, row: Omit<Row, 'prev_hash' | 'hash'>): string {
  const canonical = JSON.stringify({
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    address: row.address,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    detail: row.detail,
  });
  return createHash('sha256').update(`${prevHash}\n${canonical}`).digest('hex');
}

function toEntry(row: Row): AuditEntry {
  return {
    seq: row.seq,
    at: row.at,
    actor: row.actor ?? undefined,
    address: row.address ?? undefined,
    action: row.action,
    target: row.target ?? undefined,
    outcome: row.outcome,
    detail: row.detail ?? undefined,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export class AuditLog {
  constructor(
    private readonly db: Db,
    /** The clock, replaceable so tests can move time. */
    private readonly now: () => number = Date.now,
  ) {}

  append(event: AuditEvent): void {
    if (!event.action) throw new KeepsakeError('USAGE', 'an audit entry needs an action');
    if (!OUTCOMES.includes(event.outcome)) {
      throw new KeepsakeError('USAGE', `unknown audit outcome "${String(event.outcome)}"`);
    }
    const detail =
      event.detail === undefined || typeof event.detail === 'string'
        ? event.detail
        : JSON.stringify(redact(event.detail));
    const fields = {
      at: this.now(),
      actor: clip(event.actor, MAX_FIELD),
      address: clip(event.address, MAX_FIELD),
      action: clip(event.action, MAX_FIELD) ?? '',
      target: clip(event.target, MAX_FIELD),
      outcome: event.outcome,
      detail: clip(detail, MAX_DETAIL),
    };
    // IMMEDIATE: the write lock is taken before the last hash is read, so two processes
    // appending at once cannot both chain onto the same entry.
    this.db
      .transaction(() => {
        // sqlite_sequence remembers the highest seq ever used, even if the newest rows
        // were cut off the file: the next entry never reuses a number.
        const used = stmt(this.db, `SELECT seq FROM sqlite_sequence WHERE name = 'audit'`).get() as
          { seq: number } | undefined;
        const last = stmt(this.db, 'SELECT hash FROM audit ORDER BY seq DESC LIMIT 1').get() as
          { hash: string } | undefined;
        const seq = (used?.seq ?? 0) + 1;
        const prevHash = last?.hash ?? GENESIS_HASH;
        const hash = entryHash(prevHash, { seq, ...fields });
        stmt(
          this.db,
          `INSERT INTO audit (seq, at, actor, address, action, target, outcome, detail,
                                prev_hash, hash)
             VALUES (@seq, @at, @actor, @address, @action, @target, @outcome, @detail,
                     @prevHash, @hash)`,
        ).run({ seq, ...fields, prevHash, hash });
      })
      .immediate();
  }

  /** Matching entries in seq order: the last `limit`, or the first `limit` after `afterSeq`. */
  query(filter: AuditFilter = {}): AuditEntry[] {
    const limit = filter.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new KeepsakeError('USAGE', `the audit query limit must be a positive integer`);
    }
    if (filter.outcome !== undefined && !OUTCOMES.includes(filter.outcome)) {
      throw new KeepsakeError('USAGE', `unknown audit outcome "${String(filter.outcome)}"`);
    }
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (sql: string, value: string | number | undefined) => {
      if (value === undefined) return;
      where.push(sql);
      args.push(value);
    };
    add('actor = ?', filter.actor);
    add('action = ?', filter.action);
    add('outcome = ?', filter.outcome);
    add('at >= ?', filter.since);
    add('at < ?', filter.until);
    add('seq > ?', filter.afterSeq);
    const order = filter.afterSeq === undefined ? 'DESC' : 'ASC';
    const rows = stmt(
      this.db,
      `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY seq ${order} LIMIT ?`,
    ).all(...args, Math.min(limit, MAX_LIMIT)) as Row[];
    if (order === 'DESC') rows.reverse();
    return rows.map(toEntry);
  }

  /** The newest entry's seq and hash: keep a copy elsewhere to catch a rewritten chain. */
  head(): { seq: number; hash: string } | undefined {
    return stmt(this.db, 'SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as
      { seq: number; hash: string } | undefined;
  }

  /** Walks the whole chain from the first entry; reports the first seq that does not hold. */
  verifyChain(): ChainCheck {
    // One read transaction: entries appended meanwhile by another process are not seen
    // half-way, and the high-water mark matches the rows walked.
    return this.db.transaction((): ChainCheck => {
      const used = stmt(this.db, `SELECT seq FROM sqlite_sequence WHERE name = 'audit'`).get() as
        { seq: number } | undefined;
      let expected = 1;
      let prevHash = GENESIS_HASH;
      for (const row of stmt(
        this.db,
        'SELECT * FROM audit ORDER BY seq',
      ).iterate() as IterableIterator<Row>) {
        if (row.seq !== expected) {
          const reason =
            row.seq - 1 === expected
              ? `entry ${expected} is missing`
              : `entries ${expected} to ${row.seq - 1} are missing`;
          return { ok: false, brokenAt: expected, reason };
        }
        if (row.prev_hash !== prevHash) {
          return {
            ok: false,
            brokenAt: row.seq,
            reason:
              row.seq === 1
                ? 'it does not start from the genesis hash'
                : `its previous hash does not match entry ${row.seq - 1}`,
          };
        }
        if (entryHash(row.prev_hash, row) !== row.hash) {
          return { ok: false, brokenAt: row.seq, reason: 'its contents do not match its hash' };
        }
        prevHash = row.hash;
        expected += 1;
      }
      const last = expected - 1;
      if ((used?.seq ?? 0) > last) {
        return {
          ok: false,
          brokenAt: last + 1,
          reason: `the newest entries (${last + 1} to ${used?.seq ?? 0}) are missing`,
        };
      }
      return { ok: true, entries: last };
    })();
  }
}
