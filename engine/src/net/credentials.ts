// The server's credentials: one random HMAC key per client, with a role, optional
// address ranges, and revocation. Keys are sealed twice over (envelope encryption): each
// key under a data key (DEK) that lives in the database, and the DEK under the
// key-encryption key (KEK) that does not (see kek.ts). Rotating the KEK re-seals only the
// DEK, one row, in one transaction.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KeepsakeError } from '../core/errors';
import { newClientId } from '../core/ids';
import { dataVersion, stmt, type Db } from '../jobs/db';
import { KEK_BYTES, kekId } from './kek';
import { parseCidrs } from './cidr';
import { isRole, ROLES, type Role } from './roles';
import { aeadSealer, type Sealer } from './sealer';

export interface Credential {
  clientId: string;
  name: string;
  role: Role;
  /** Address ranges the client may connect from, canonical; empty means anywhere. */
  cidrs: string[];
  createdAt: number;
  revokedAt?: number;
  lastUsedAt?: number;
}

export interface IssuedCredential {
  clientId: string;
  /** base64 of 32 random bytes: shown once, never stored in the clear. */
  key: string;
}

interface Row {
  client_id: string;
  name: string;
  role: Role;
  key_sealed: Buffer;
  cidrs: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

const KEY_BYTES = 32;
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const CLIENT_ID = /^ks_[a-z2-7]{20}$/;
// Writing last_used_at on every request would turn each read into a write; a minute's
// precision is enough to tell a live credential from a forgotten one.
const TOUCH_EVERY_MS = 60_000;

/** Names are for people and logs: short, and safe in a shell, a path or a header. */
export function checkName(name: string): string {
  if (!NAME.test(name)) {
    throw new KeepsakeError(
      'USAGE',
      `credential name ${JSON.stringify(name)} must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'`,
    );
  }
  // 'ks_' names client ids: revoke(nameOrId) must never confuse the two.
  if (name.startsWith('ks_')) {
    throw new KeepsakeError('USAGE', `credential names may not start with "ks_" (${name})`);
  }
  return name;
}

function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(aad));
  return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** undefined when the key is wrong or the sealed bytes (or their AAD) were altered. */
function unseal(key: Buffer, sealed: Buffer, aad: string): Buffer | undefined {
  if (sealed.length !== 12 + 32 + 16) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12), {
    authTagLength: 16,
  });
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(12, -16)), decipher.final()]);
  } catch {
    return undefined;
  }
}

const dekAad = (id: string) => `keepsake keystore v1|dek|${id}`;
// The row's role and ranges are bound too: editing a viewer into an admin in the database
// file makes its key unusable instead of more powerful.
const keyAad = (row: Pick<Row, 'client_id' | 'role' | 'cidrs'>) =>
  `keepsake credential v1|${row.client_id}|${row.role}|${row.cidrs}`;

function toCredential(row: Row): Credential {
  return {
    clientId: row.client_id,
    name: row.name,
    role: row.role,
    cidrs: JSON.parse(row.cidrs) as string[],
    createdAt: row.created_at,
    revokedAt: row.revoked_at ?? undefined,
    lastUsedAt: row.last_used_at ?? undefined,
  };
}

function checkKek(kek: Buffer): Buffer {
  if (kek.length !== KEK_BYTES) {
    throw new KeepsakeError(
      'INVALID_KEY',
      `the key-encryption key is ${kek.length} bytes; it must be ${KEK_BYTES}`,
    );
  }
  return kek;
}

function wrongKek(given: string, stored: string): KeepsakeError {
  return new KeepsakeError(
    'KEK_MISMATCH',
    `the key-encryption key (id ${given}) is not the one this credential store is sealed ` +
      `with (id ${stored}); use that key file, or, if it is lost, re-create every credential`,
  );
}

const corrupt = (what: string) =>
  new KeepsakeError(
    'CREDENTIALS_CORRUPT',
    `the credential store is damaged or was altered: ${what}`,
  );

export class CredentialStore {
  private kek: Buffer;
  private readonly dek: Buffer;
  private readonly touched = new Map<string, number>();
  private readonly memo = new Map<
    string,
    { row: Row | undefined; key?: Buffer; credential?: Credential }
  >();
  private seenVersion = -1;

  constructor(
    private readonly db: Db,
    kek: Buffer,
    /** The clock, replaceable so tests can move time. */
    private readonly now: () => number = Date.now,
  ) {
    this.kek = Buffer.from(checkKek(kek));
    this.dek = this.openKeystore();
  }

  /** Unseals the DEK, creating it on first use (under the write lock: two processes may race). */
  private openKeystore(): Buffer {
    const open = this.db.transaction((): Buffer => {
      const id = kekId(this.kek);
      const row = stmt(this.db, 'SELECT kek_id, dek_wrapped FROM keystore WHERE id = 1').get() as
        { kek_id: string; dek_wrapped: Buffer } | undefined;
      if (!row) {
        const dek = randomBytes(KEY_BYTES);
        stmt(this.db, 'INSERT INTO keystore (id, kek_id, dek_wrapped) VALUES (1, ?, ?)').run(
          id,
          seal(this.kek, dek, dekAad(id)),
        );
        return dek;
      }
      if (row.kek_id !== id) throw wrongKek(id, row.kek_id);
      const dek = unseal(this.kek, row.dek_wrapped, dekAad(row.kek_id));
      if (!dek) throw corrupt('the sealed data key does not open under its key-encryption key');
      return dek;
    });
    return open.immediate();
  }

  /**
   * Seals other secrets of this server (its TLS private keys) under a key derived from the
   * data key: they need the KEK to open, and a KEK rotation carries them along.
   */
  sealer(purpose: string): Sealer {
    return aeadSealer(this.dek, purpose);
  }

  private row(clientId: string): Row | undefined {
    return stmt(this.db, 'SELECT * FROM credentials WHERE client_id = ?').get(clientId) as
      Row | undefined;
  }

  /**
   * The hot path of every signed request, from memory. SQLite's data_version changes
   * whenever another connection commits (a `keepsake user revoke` in another process;
   * read once per event-loop turn, see dataVersion), and this store's own writes clear
   * the cache, so a revocation bites from the first request read after it.
   */
  private cached(clientId: string): {
    row: Row | undefined;
    key?: Buffer;
    credential?: Credential;
  } {
    const version = dataVersion(this.db);
    if (version !== this.seenVersion) {
      this.forget();
      this.seenVersion = version;
    }
    let entry = this.memo.get(clientId);
    if (!entry) {
      entry = { row: this.row(clientId) };
      // Unknown ids are not remembered: a flood of made-up ids must not grow the map.
      if (entry.row) this.memo.set(clientId, entry);
    }
    return entry;
  }

  private forget(): void {
    for (const entry of this.memo.values()) entry.key?.fill(0);
    this.memo.clear();
  }

  add(name: string, role: Role, cidrs: readonly string[] = []): IssuedCredential {
    this.forget(); // synchronous: no lookup can run between this and the write
    checkName(name);
    if (!isRole(role)) {
      throw new KeepsakeError(
        'USAGE',
        `unknown role "${String(role)}" (known: ${ROLES.join(', ')})`,
      );
    }
    const ranges = JSON.stringify([...new Set(parseCidrs(cidrs).entries)]);
    const clientId = newClientId();
    const key = randomBytes(KEY_BYTES);
    const sealed = seal(this.dek, key, keyAad({ client_id: clientId, role, cidrs: ranges }));
    this.db
      .transaction(() => {
        if (stmt(this.db, 'SELECT 1 FROM credentials WHERE name = ?').get(name)) {
          throw new KeepsakeError(
            'CREDENTIAL_EXISTS',
            `a credential named "${name}" already exists`,
          );
        }
        stmt(
          this.db,
          `INSERT INTO credentials (client_id, name, role, key_sealed, cidrs, created_at)
             VALUES (?, ?, ?, ?, ?, ?)`,
        ).run(clientId, name, role, sealed, ranges, this.now());
      })
      .immediate();
    return { clientId, key: key.toString('base64') };
  }

  /** The raw HMAC key, or undefined for an unknown or revoked client. */
  lookupKey(clientId: string): Buffer | undefined {
    if (!CLIENT_ID.test(clientId)) return undefined;
    const entry = this.cached(clientId);
    const row = entry.row;
    if (!row || row.revoked_at !== null) return undefined;
    if (!entry.key) {
      const key = unseal(this.dek, row.key_sealed, keyAad(row));
      if (!key) throw corrupt(`credential ${clientId} (${row.name}) does not match its sealed key`);
      entry.key = key;
    }
    return Buffer.from(entry.key);
  }

  /** The key and the credential in one step: what authenticating a request needs. */
  lookup(clientId: string): { key: Buffer; credential: Credential } | undefined {
    const key = this.lookupKey(clientId);
    const entry = key && this.memo.get(clientId);
    if (!key || !entry?.row) return undefined;
    entry.credential ??= toCredential(entry.row);
    return { key, credential: entry.credential };
  }

  get(clientId: string): Credential | undefined {
    if (!CLIENT_ID.test(clientId)) return undefined;
    const row = this.cached(clientId).row;
    return row && toCredential(row);
  }

  list(): Credential[] {
    const rows = stmt(
      this.db,
      'SELECT * FROM credentials ORDER BY created_at, name',
    ).all() as Row[];
    return rows.map(toCredential);
  }

  /** Revokes by client id or name; revoking twice keeps the first time. */
  revoke(nameOrId: string): Credential {
    this.forget(); // synchronous: no lookup can run between this and the write
    const revoked = this.db.transaction((): Row | undefined => {
      const row = stmt(
        this.db,
        'SELECT client_id FROM credentials WHERE client_id = ? OR name = ?',
      ).get(nameOrId, nameOrId) as { client_id: string } | undefined;
      if (!row) return undefined;
      stmt(
        this.db,
        'UPDATE credentials SET revoked_at = COALESCE(revoked_at, ?) WHERE client_id = ?',
      ).run(this.now(), row.client_id);
      return this.row(row.client_id);
    })();
    if (!revoked) throw new KeepsakeError('CREDENTIAL_NOT_FOUND', `no credential "${nameOrId}"`);
    return toCredential(revoked);
  }

  /**
   * Re-seals the DEK under `newKek`. Credential rows are untouched, and from then on only
   * the new KEK opens the store. Refused if another process rotated first.
   */
  rotateKek(newKek: Buffer): void {
    this.forget(); // synchronous: no lookup can run between this and the write
    checkKek(newKek);
    const oldId = kekId(this.kek);
    const newId = kekId(newKek);
    if (newId === oldId) {
      throw new KeepsakeError('USAGE', 'the new key-encryption key is the current one');
    }
    this.db
      .transaction(() => {
        const row = stmt(this.db, 'SELECT kek_id, dek_wrapped FROM keystore WHERE id = 1').get() as
          { kek_id: string; dek_wrapped: Buffer } | undefined;
        if (!row) throw corrupt('the keystore row is missing');
        if (row.kek_id !== oldId) throw wrongKek(oldId, row.kek_id);
        const dek = unseal(this.kek, row.dek_wrapped, dekAad(oldId));
        if (!dek?.equals(this.dek)) throw corrupt('the sealed data key changed underneath');
        stmt(this.db, 'UPDATE keystore SET kek_id = ?, dek_wrapped = ? WHERE id = 1').run(
          newId,
          seal(newKek, dek, dekAad(newId)),
        );
      })
      .immediate();
    this.kek = Buffer.from(newKek);
  }

  /** Records that the credential was just used (at most one write a minute per client). */
  touch(clientId: string): void {
    const now = this.now();
    // Throttled here, not only in SQL: an UPDATE that matches nothing still takes the
    // write lock, and this runs on every authenticated request.
    if (now - (this.touched.get(clientId) ?? -Infinity) < TOUCH_EVERY_MS) return;
    this.touched.set(clientId, now);
    stmt(
      this.db,
      `UPDATE credentials SET last_used_at = ?
       WHERE client_id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
    ).run(now, clientId, now - TOUCH_EVERY_MS);
    const cached = this.memo.get(clientId);
    if (cached?.row) {
      cached.row.last_used_at = now;
      cached.credential = undefined;
    }
  }
}
