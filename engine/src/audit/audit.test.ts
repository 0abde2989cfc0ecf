import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../jobs/db';
import { freshDir } from '../testing/tmp';
import { AuditLog, GENESIS_HASH, redact, type AuditEvent } from './audit';

async function freshLog(
  now: () => number = () => 1000,
): Promise<{ path: string; db: Db; log: AuditLog }> {
  const path = join(await freshDir(), 'engine.db');
  const db = openDatabase(path);
  return { path, db, log: new AuditLog(db, now) };
}

const event = (n: number, extra: Partial<AuditEvent> = {}): AuditEvent => ({
  actor: `user${n % 3}`,
  action: n % 2 ? 'jobs.submit' : 'auth.login',
  target: `t${n}`,
  outcome: 'ok',
  ...extra,
});

/** What an attacker with the file (not the engine) can do: the triggers are just SQL. */
function dropTriggers(db: Db): void {
  db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;');
}

describe('AuditLog', () => {
  it('chains each entry to the one before, from a genesis of zeros', async () => {
    const { db, log } = await freshLog();
    log.append({ actor: 'ks_a', address: '10.0.0.1', action: 'auth.login', outcome: 'ok' });
    log.append({ action: 'jobs.submit', target: 'j1', outcome: 'denied', detail: 'no scope' });
    const [first, second] = log.query();
    // The format, for anyone verifying an exported log without Keepsake.
    const canonical = JSON.stringify({
      seq: 1,
      at: 1000,
      actor: 'ks_a',
      address: '10.0.0.1',
      action: 'auth.login',
      target: null,
      outcome: 'ok',
      detail: null,
    });
    const hash = createHash('sha256').update(`${GENESIS_HASH}\n${canonical}`).digest('hex');
    expect(first).toEqual({
      seq: 1,
      at: 1000,
      actor: 'ks_a',
      address: '10.0.0.1',
      action: 'auth.login',
      outcome: 'ok',
      prevHash: GENESIS_HASH,
      hash,
    });
    expect(second).toMatchObject({ seq: 2, prevHash: hash, detail: 'no scope' });
    expect(log.head()).toEqual({ seq: 2, hash: second?.hash });
    expect(log.verifyChain()).toEqual({ ok: true, entries: 2 });
    db.close();
  });

  it('verifies an empty log', async () => {
    const { db, log } = await freshLog();
    expect(log.verifyChain()).toEqual({ ok: true, entries: 0 });
    expect(log.head()).toBeUndefined();
    db.close();
  });

  it('refuses UPDATE and DELETE through SQL', async () => {
    const { db, log } = await freshLog();
    log.append(event(1));
    expect(() => db.prepare(`UPDATE audit SET outcome = 'denied'`).run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit WHERE seq = 1').run()).toThrow(/append-only/);
    expect(log.query()).toHaveLength(1);
    db.close();
  });

  it('detects an edited entry at its seq', async () => {
    const { db, log } = await freshLog();
    for (let n = 1; n <= 5; n++) log.append(event(n));
    dropTriggers(db);
    db.prepare(`UPDATE audit SET outcome = 'denied' WHERE seq = 3`).run();
    expect(log.verifyChain()).toEqual({
      ok: false,
      brokenAt: 3,
      reason: 'its contents do not match its hash',
    });
    // Recomputing the edited entry's own hash moves the break to the next entry.
    const row = db.prepare('SELECT * FROM audit WHERE seq = 3').get() as Record<string, unknown>;
    const canonical = JSON.stringify({
      seq: 3,
      at: row.at,
      actor: row.actor,
      address: row.address,
      action: row.action,
      target: row.target,
      outcome: 'denied',
      detail: row.detail,
    });
    const forged = createHash('sha256')
      .update(`${String(row.prev_hash)}\n${canonical}`)
      .digest('hex');
    db.prepare('UPDATE audit SET hash = ? WHERE seq = 3').run(forged);
    expect(log.verifyChain()).toMatchObject({ ok: false, brokenAt: 4 });
    db.close();
  });

  it('detects deleted entries, in the middle and at the end', async () => {
    const { db, log } = await freshLog();
    for (let n = 1; n <= 6; n++) log.append(event(n));
    dropTriggers(db);
    db.prepare('DELETE FROM audit WHERE seq = 3').run();
    expect(log.verifyChain()).toEqual({ ok: false, brokenAt: 3, reason: 'entry 3 is missing' });
    db.prepare('DELETE FROM audit WHERE seq = 4').run();
    expect(log.verifyChain()).toMatchObject({ brokenAt: 3, reason: 'entries 3 to 4 are missing' });

    const tail = await freshLog();
    for (let n = 1; n <= 4; n++) tail.log.append(event(n));
    dropTriggers(tail.db);
    tail.db.prepare('DELETE FROM audit WHERE seq >= 3').run();
    expect(tail.log.verifyChain()).toEqual({
      ok: false,
      brokenAt: 3,
      reason: 'the newest entries (3 to 4) are missing',
    });
    // New entries never reuse the cut-off numbers, so the gap stays visible.
    tail.log.append(event(5));
    expect(tail.log.head()?.seq).toBe(5);
    expect(tail.log.verifyChain()).toMatchObject({ ok: false, brokenAt: 3 });
    tail.db.close();
    db.close();
  });

  it('detects an entry moved out of order', async () => {
    const { db, log } = await freshLog();
    for (let n = 1; n <= 3; n++) log.append(event(n));
    dropTriggers(db);
    // Swap entries 1 and 2 wholesale, hashes included.
    db.exec(`UPDATE audit SET seq = 100 WHERE seq = 1;
             UPDATE audit SET seq = 1 WHERE seq = 2;
             UPDATE audit SET seq = 2 WHERE seq = 100;`);
    expect(log.verifyChain()).toMatchObject({ ok: false, brokenAt: 1 });
    db.close();
  });

  it('keeps one chain when two connections append in turn', async () => {
    const { path, db, log } = await freshLog();
    const otherDb = openDatabase(path);
    const other = new AuditLog(otherDb);
    for (let n = 1; n <= 20; n++) (n % 2 ? log : other).append(event(n));
    expect(log.verifyChain()).toEqual({ ok: true, entries: 20 });
    expect(other.query({ limit: 1000 }).map((e) => e.seq)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    otherDb.close();
    db.close();
  });

  it('filters by actor, action, outcome and time, newest last', async () => {
    let now = 0;
    const { db, log } = await freshLog(() => now);
    for (let n = 1; n <= 12; n++) {
      now = n * 100;
      log.append(event(n, { outcome: n % 4 === 0 ? 'denied' : 'ok' }));
    }
    const seqs = (f: Parameters<AuditLog['query']>[0]) => log.query(f).map((e) => e.seq);
    expect(seqs({ actor: 'user1' })).toEqual([1, 4, 7, 10]);
    expect(seqs({ action: 'auth.login' })).toEqual([2, 4, 6, 8, 10, 12]);
    expect(seqs({ outcome: 'denied' })).toEqual([4, 8, 12]);
    expect(seqs({ since: 300, until: 600 })).toEqual([3, 4, 5]);
    expect(seqs({ actor: 'user0', action: 'jobs.submit' })).toEqual([3, 9]);
    expect(seqs({ actor: 'nobody' })).toEqual([]);
    // Without afterSeq: the newest `limit`; with it: the next `limit` after it.
    expect(seqs({ limit: 3 })).toEqual([10, 11, 12]);
    expect(seqs({ limit: 3, afterSeq: 4 })).toEqual([5, 6, 7]);
    expect(seqs({ afterSeq: 12 })).toEqual([]);
    expect(() => log.query({ limit: 0 })).toThrow(/positive integer/);
    expect(() => log.query({ outcome: 'maybe' as 'ok' })).toThrow(/unknown audit outcome/);
    db.close();
  });

  it('returns 100 entries by default and never more than 1000', async () => {
    const { db, log } = await freshLog();
    for (let n = 1; n <= 1005; n++) log.append(event(n));
    expect(log.query()).toHaveLength(100);
    expect(log.query()[0]?.seq).toBe(906);
    expect(log.query({ limit: 5000 })).toHaveLength(1000);
    expect(log.verifyChain()).toEqual({ ok: true, entries: 1005 });
    db.close();
  });

  it('redacts secrets from object details and bounds field sizes', async () => {
    const { db, log } = await freshLog();
    log.append({
      action: 'credentials.add',
      outcome: 'ok',
      detail: { name: 'alice', role: 'client', key: 'c2VjcmV0', nested: [{ apiToken: 'x' }] },
    });
    log.append({ action: 'x'.repeat(1000), outcome: 'error', detail: 'y'.repeat(10_000) });
    const [first, second] = log.query();
    expect(JSON.parse(first?.detail ?? '')).toEqual({
      name: 'alice',
      role: 'client',
      key: '[redacted]',
      nested: [{ apiToken: '[redacted]' }],
    });
    expect(second?.action).toHaveLength(256);
    expect(second?.detail).toHaveLength(4096);
    expect(log.verifyChain()).toMatchObject({ ok: true });
    expect(() => log.append({ action: '', outcome: 'ok' })).toThrow(/needs an action/);
    expect(() => log.append({ action: 'a', outcome: 'fine' as 'ok' })).toThrow(/unknown audit/);
    db.close();
  });
});

describe('redact', () => {
  it('replaces values of secret-looking keys, at any depth, and copies the rest', () => {
    const input = {
      user: 'alice',
      password: 'hunter2',
      SIGNING_KEY: 'abc',
      kek: 'not matched: no such word',
      headers: { 'X-Keepsake-Signature': 'abc', accept: 'json' },
      list: [{ secret: 1 }, 'plain', null],
      accessToken: { deep: 'object' },
      count: 3,
    };
    const copy = JSON.parse(JSON.stringify(input)) as unknown;
    expect(redact(input)).toEqual({
      user: 'alice',
      password: '[redacted]',
      SIGNING_KEY: '[redacted]',
      kek: 'not matched: no such word',
      headers: { 'X-Keepsake-Signature': '[redacted]', accept: 'json' },
      list: [{ secret: '[redacted]' }, 'plain', null],
      accessToken: '[redacted]',
      count: 3,
    });
    expect(input).toEqual(copy);
  });

  it('survives cycles and binary values', () => {
    const a: Record<string, unknown> = { name: 'a', raw: Buffer.from('secret bytes') };
    a.self = a;
    expect(redact(a)).toEqual({ name: 'a', raw: '[bytes]', self: '[circular]' });
    expect(redact('plain')).toBe('plain');
    expect(redact(undefined)).toBeUndefined();
  });
});
