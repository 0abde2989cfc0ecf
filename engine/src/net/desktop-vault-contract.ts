// The desktop API for the vault's keys (desktop-vault-routes.ts): change the password,
// make a new recovery key, confirm the recovery key was stored, and what the key screens
// need to know. TypeBox schemas, imported by the renderer as types only.

import { Type, type Static } from 'typebox';

export const VaultKeysSchema = Type.Object({
  /** No keyring, but a vault's files are here: restore, do not create. */
  needsRestore: Type.Boolean(),
  /** How the open vault was unlocked; absent while locked. */
  unlockedWith: Type.Optional(Type.Union([Type.Literal('password'), Type.Literal('recovery')])),
  /** A recovery key was shown but the user has not yet proved they stored it. */
  recoveryUnconfirmed: Type.Boolean(),
});
export type VaultKeys = Static<typeof VaultKeysSchema>;

const Password = Type.String({ minLength: 1, maxLength: 1024 });

export const SetPasswordSchema = Type.Object(
  {
    /** Not needed right after an unlock with the recovery key. */
    current: Type.Optional(Password),
    password: Password,
  },
  { additionalProperties: false },
);
export type SetPasswordBody = Static<typeof SetPasswordSchema>;

export const NewRecoveryKeySchema = Type.Object(
  { current: Type.Optional(Password) },
  { additionalProperties: false },
);
export type NewRecoveryKeyBody = Static<typeof NewRecoveryKeySchema>;
