// The desktop's own settings, kept in the engine database beside the library they steer.
// Unknown keys are ignored and missing ones take their defaults, so an older or newer
// engine reading the same data folder never fails on them.

import { stmt, type Db } from '../jobs/db';

export interface DesktopSettings {
  /** Encrypt files into the vault as soon as a folder is added: "added" means "protected". */
  encryptOnAdd: boolean;
  /** Where automated delivery last saved, offered again (a full path the user chose). */
  deliveryFolder?: string;
}

export const DEFAULT_SETTINGS: DesktopSettings = { encryptOnAdd: true };

export function readSettings(db: Db): DesktopSettings {
  const rows = stmt(db, 'SELECT key, value FROM desktop_settings').all() as {
    key: string;
    value: string;
  }[];
  const stored = Object.fromEntries(rows.map((r) => [r.key, r.value]));
  return {
    encryptOnAdd:
      stored.encryptOnAdd === undefined
        ? DEFAULT_SETTINGS.encryptOnAdd
        : stored.encryptOnAdd === 'true',
    ...(stored.deliveryFolder ? { deliveryFolder: stored.deliveryFolder } : {}),
  };
}

export function writeSettings(db: Db, changes: Partial<DesktopSettings>): DesktopSettings {
  const upsert = stmt(
    db,
    `INSERT INTO desktop_settings (key, value) VALUES (?, ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  );
  db.transaction(() => {
    for (const [key, value] of Object.entries(changes)) {
      if (value !== undefined) upsert.run(key, String(value));
    }
  })();
  return readSettings(db);
}
