// One schema migration of the engine database (jobs/db.ts runs them).

export interface Migration {
  /** The schema version this migration brings a database to (`PRAGMA user_version`). */
  readonly version: number;
  /** A short name, the same as its file's (`007-library.ts` is 'library'). */
  readonly name: string;
  /** Run in one transaction, from version `version - 1`. */
  readonly sql: string;
}
