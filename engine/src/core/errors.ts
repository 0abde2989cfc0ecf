// The one registry of error codes. Every error the engine raises on purpose is a
// KeepsakeError with a code from this table; clients see `{code, message}` and the CLI
// maps the code to an exit status. Codes are stable: never rename one, add a new one.
//
// One file over 400 lines, on purpose: most of it is the table, which reads best whole,
// and http/error-registry.test.ts checks it against the docs, OpenAPI, the types and the
// codes raised elsewhere by reading this file's text. The class and the mappers from
// file-system and SQLite errors stay beside it: in a module of their own they would either
// be re-exported from here (an import cycle) or change the imports of 28 files.

export const ERROR_CODES = {
  USAGE: { status: 400, exit: 2, summary: 'The command or request was malformed.' },
  PASSWORD_REQUIRED: {
    status: 401,
    exit: 2,
    summary:
      'A password is needed and none was given (prompt, KEEPSAKE_PASSWORD or --password-file).',
  },
  WRONG_PASSWORD: {
    status: 401,
    exit: 3,
    summary: 'The password or recovery key does not open this vault.',
  },
  VAULT_NOT_FOUND: { status: 404, exit: 3, summary: 'No vault keyring exists at that location.' },
  VAULT_EXISTS: { status: 409, exit: 3, summary: 'A vault already exists at that location.' },
  VAULT_DATA_EXISTS: {
    status: 409,
    exit: 3,
    summary:
      'Encrypted files of a vault are here but its keyring is missing; restore it (recovery key + backup) instead of creating a new vault.',
  },
  WEAK_PASSWORD: {
    status: 422,
    exit: 2,
    summary: 'The new password is too short or too easy to guess.',
  },
  VAULT_CORRUPT: { status: 422, exit: 3, summary: 'The vault keyring is damaged or unreadable.' },
  KDF_PARAMS_OUT_OF_BOUNDS: {
    status: 422,
    exit: 3,
    summary: 'The keyring asks for key-derivation parameters outside the allowed bounds.',
  },
  WRONG_VAULT: { status: 422, exit: 4, summary: 'The file belongs to a different vault.' },
  NOT_A_VAULT_FILE: { status: 422, exit: 4, summary: 'The file is not a Keepsake vault file.' },
  UNSUPPORTED_VERSION: {
    status: 422,
    exit: 4,
    summary: 'The file was written by a newer, unsupported format version.',
  },
  HEADER_CORRUPT: {
    status: 422,
    exit: 4,
    summary: 'The file header is damaged, edited, or belongs to another file.',
  },
  PAYLOAD_CORRUPT: {
    status: 422,
    exit: 4,
    summary: 'An encrypted chunk failed authentication: the file was altered or damaged.',
  },
  TRUNCATED: { status: 422, exit: 4, summary: 'The encrypted data ends early.' },
  INVALID_KEY: { status: 400, exit: 2, summary: 'A key has the wrong size or encoding.' },
  RANGE_NOT_SATISFIABLE: {
    status: 416,
    exit: 2,
    summary: 'The requested byte range lies outside the file.',
  },
  SOURCE_UNREADABLE: { status: 422, exit: 5, summary: 'A source file or folder cannot be read.' },
  SYMLINK_LOOP: {
    status: 422,
    exit: 5,
    summary: 'A symbolic link points back into its own folder.',
  },
  NOT_FOUND: { status: 404, exit: 5, summary: 'The named file or folder does not exist.' },
  OUTPUT_EXISTS: {
    status: 409,
    exit: 5,
    summary: 'The output already exists; nothing was overwritten.',
  },
  OUTPUT_UNWRITABLE: { status: 500, exit: 5, summary: 'The output cannot be written.' },
  NAME_TOO_LONG: {
    status: 422,
    exit: 5,
    summary: 'A file name or path is too long for the file system.',
  },
  INVALID_FILE_NAME: {
    status: 400,
    exit: 2,
    summary: 'A file name holds control characters or line breaks, or is too long.',
  },
  DISK_FULL: { status: 507, exit: 6, summary: 'The disk is full; partial output was removed.' },
  MANIFEST_MISSING: { status: 404, exit: 4, summary: 'The batch has no readable manifest.' },
  VERIFY_FAILED: {
    status: 422,
    exit: 4,
    summary: 'Verification found missing, extra or altered files.',
  },
  BATCH_BUSY: {
    status: 409,
    exit: 5,
    summary: 'Another process is working on the same batch folder.',
  },
  BATCH_INCOMPLETE: {
    status: 422,
    exit: 1,
    summary: 'Some files of a batch failed; the rest were kept.',
  },
  FFMPEG_NOT_FOUND: { status: 503, exit: 7, summary: 'No usable FFmpeg binary was found.' },
  INVALID_PARAMETER: {
    status: 400,
    exit: 2,
    summary: 'A preset parameter is unknown or its value is not allowed.',
  },
  UNKNOWN_PRESET: { status: 404, exit: 2, summary: 'No preset has that name.' },
  CUT_LIST_CHANGED: {
    status: 409,
    exit: 2,
    summary: "A tape's cut list was saved elsewhere since it was opened; nothing was overwritten.",
  },
  CUT_LIST_INVALID: {
    status: 422,
    exit: 2,
    summary:
      "A tape's cut list has a clip outside the tape, out of order, overlapping or too short, or a bad title or date.",
  },
  FEATURE_UNAVAILABLE: {
    status: 422,
    exit: 7,
    summary: 'The FFmpeg build lacks an encoder or format this job needs.',
  },
  UNSUPPORTED_INPUT: {
    status: 415,
    exit: 7,
    summary:
      'The input is not a media container Keepsake accepts (playlists, lists and text are refused).',
  },
  INPUT_TOO_LARGE: {
    status: 413,
    exit: 7,
    summary:
      'The picture is larger than Keepsake will decode (over 200 megapixels), or decoding it would need more memory than FFmpeg is allowed. Make a smaller copy of it first.',
  },
  FFMPEG_FAILED: { status: 500, exit: 7, summary: 'FFmpeg or FFprobe failed on this job.' },
  SCRATCH_UNSAFE: {
    status: 500,
    exit: 7,
    summary:
      'The scratch folder is not private to this user (a link, or open to others), so FFmpeg may not work in it.',
  },
  OUTPUT_CHECK_FAILED: {
    status: 422,
    exit: 7,
    summary: 'The encoded output failed verification (missing streams or wrong durations).',
  },
  JOB_NOT_FOUND: { status: 404, exit: 2, summary: 'No job has that id.' },
  JOB_FINISHED: { status: 409, exit: 2, summary: 'The job has already finished.' },
  JOBS_RUNNING: {
    status: 409,
    exit: 2,
    summary: 'Jobs are running; say whether to wait for them or stop them before locking.',
  },
  PRESET_KIND_MISMATCH: {
    status: 422,
    exit: 2,
    summary: 'The preset cannot take this kind of file (a video preset on a photo, say).',
  },
  NOT_ENCRYPTED: {
    status: 409,
    exit: 2,
    summary: 'The library file is not encrypted into the vault yet (or changed since).',
  },
  JOB_CANCELLED: { status: 409, exit: 8, summary: 'The job was cancelled.' },
  SCAN_CANCELLED: {
    status: 409,
    exit: 8,
    summary: 'The folder scan was cancelled before it finished.',
  },
  JOB_TIMEOUT: {
    status: 504,
    exit: 7,
    summary: 'The job ran past its wall-clock limit or made no progress for too long.',
  },
  JOB_INTERRUPTED: {
    status: 500,
    exit: 7,
    summary: 'The engine stopped while the job was running.',
  },
  UNAUTHORIZED: { status: 401, exit: 2, summary: 'The request lacks a valid token.' },
  CLOCK_SKEW: {
    status: 401,
    exit: 2,
    summary: "This computer's clock and the server's disagree too much for a signed request.",
  },
  FORBIDDEN_ORIGIN: {
    status: 403,
    exit: 2,
    summary: 'The request came from a web origin or host name this server does not serve.',
  },
  ROUTE_NOT_FOUND: { status: 404, exit: 2, summary: 'No such page or API route.' },
  FORBIDDEN: {
    status: 403,
    exit: 2,
    summary: 'The credential lacks the role or scope for this, or the address is not allowed.',
  },
  RATE_LIMITED: { status: 429, exit: 2, summary: 'Too many requests; retry after a pause.' },
  VAULT_OPENING: {
    status: 503,
    exit: 6,
    summary: 'The vault has just been unlocked and is still opening; try again in a moment.',
  },
  SERVER_BUSY: {
    status: 503,
    exit: 6,
    summary: 'Too many requests at once right now; retry shortly.',
  },
  TOO_LARGE: { status: 413, exit: 2, summary: 'The request or upload exceeds the size limit.' },
  UPLOAD_OFFSET_MISMATCH: {
    status: 409,
    exit: 2,
    summary: 'The upload is at another offset; ask for it and resume from there.',
  },
  UPLOAD_INCOMPLETE: {
    status: 409,
    exit: 2,
    summary: 'The upload has not received all its bytes yet.',
  },
  BODY_TIMEOUT: {
    status: 408,
    exit: 2,
    summary:
      'The request body stopped or arrived too slowly; check the connection and send it again.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    exit: 2,
    summary: 'The request body has a content type this route does not take.',
  },
  KEK_NOT_FOUND: {
    status: 500,
    exit: 2,
    summary:
      'No key-encryption key was found (KEK file, KEEPSAKE_KEK_FILE, KEEPSAKE_KEK, systemd credential or Docker secret).',
  },
  KEK_MISMATCH: {
    status: 500,
    exit: 3,
    summary: "The key-encryption key does not open this server's credential store.",
  },
  CREDENTIALS_CORRUPT: {
    status: 500,
    exit: 3,
    summary: 'The credential store is damaged or was altered.',
  },
  CREDENTIAL_EXISTS: {
    status: 409,
    exit: 2,
    summary: 'A credential with that name already exists.',
  },
  CREDENTIAL_NOT_FOUND: { status: 404, exit: 2, summary: 'No credential has that name or id.' },
  SERVER_UNREACHABLE: {
    status: 503,
    exit: 6,
    summary: 'The paired server cannot be reached right now; its jobs wait and retry.',
  },
  SERVER_NOT_TRUSTED: {
    status: 502,
    exit: 2,
    summary: "The server's certificate does not chain to the CA pinned at pairing.",
  },
  PLAYLIST_REFUSED: {
    status: 502,
    exit: 4,
    summary:
      'The upstream playlist names a URI the proxy will not serve (a non-http scheme, an insecure segment, or an address outside the route).',
  },
  PLAYLIST_TOO_LARGE: {
    status: 502,
    exit: 4,
    summary: 'The upstream playlist is larger than the proxy rewrites.',
  },
  DASH_UNSUPPORTED: {
    status: 502,
    exit: 4,
    summary:
      'The upstream DASH manifest cannot be served as HLS: it is live (dynamic), malformed, too big to expand, or uses a feature the proxy does not convert.',
  },
  DESTINATION_FORBIDDEN: {
    status: 403,
    exit: 2,
    summary:
      'The proxy will not fetch that URL: it is not on the allowlist or resolves to a refused address.',
  },
  UPSTREAM_FAILED: {
    status: 502,
    exit: 6,
    summary:
      'The upstream server could not be reached, timed out, or sent an invalid answer, even after retries.',
  },
  DATABASE_BUSY: {
    status: 503,
    exit: 6,
    summary:
      'Another Keepsake program is holding the engine database (engine.db) right now; try again in a moment.',
  },
  DATABASE_CORRUPT: {
    status: 500,
    exit: 4,
    summary:
      'The engine database (engine.db) is damaged or empty. `keepsake db repair` moves it aside and rebuilds it; vault files and job outputs are safe on disk.',
  },
  DATABASE_UNAVAILABLE: {
    status: 500,
    exit: 5,
    summary:
      'The engine database (engine.db) cannot be opened or written (its permissions, or a disk error).',
  },
  QUEUE_UNAVAILABLE: {
    status: 503,
    exit: 5,
    summary:
      "The server's job queue (Redis, named in the configuration's queue setting) does not answer; jobs wait until it does.",
  },
  INTERNAL: { status: 500, exit: 1, summary: 'An unexpected internal error.' },
} as const satisfies Record<string, { status: number; exit: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class KeepsakeError extends Error {
  readonly code: ErrorCode;
  /** The file the error is about, when there is one: messages name it. */
  readonly file: string | undefined;

  constructor(code: ErrorCode, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(options.file ? `${options.file}: ${message}` : message, { cause: options.cause });
    this.name = 'KeepsakeError';
    this.code = code;
    this.file = options.file;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isKeepsakeError(err: unknown, code?: ErrorCode): err is KeepsakeError {
  return err instanceof KeepsakeError && (code === undefined || err.code === code);
}

/**
 * Turns a Node file-system error into a KeepsakeError that names the file, so that
 * callers never show a raw `ENOSPC` or stack to a user.
 */
export function fromFsError(err: unknown, file: string, doing: 'read' | 'write'): KeepsakeError {
  if (err instanceof KeepsakeError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new KeepsakeError('NOT_FOUND', 'no such file or folder', { file, cause: err });
    case 'ENOSPC':
    case 'EDQUOT':
      return new KeepsakeError('DISK_FULL', 'no space left on the device', { file, cause: err });
    case 'ENAMETOOLONG':
      return new KeepsakeError('NAME_TOO_LONG', 'the name or path is too long', {
        file,
        cause: err,
      });
    case 'ELOOP':
      return new KeepsakeError('SYMLINK_LOOP', 'too many levels of symbolic links', {
        file,
        cause: err,
      });
    case 'EEXIST':
      return new KeepsakeError('OUTPUT_EXISTS', 'already exists', { file, cause: err });
    default: {
      const detail = err instanceof Error ? err.message : String(err);
      return doing === 'read'
        ? new KeepsakeError('SOURCE_UNREADABLE', `cannot read (${detail})`, { file, cause: err })
        : new KeepsakeError('OUTPUT_UNWRITABLE', `cannot write (${detail})`, { file, cause: err });
    }
  }
}

/** The same error, naming `file` if it did not already name one. */
export function namingFile(err: unknown, file: string | undefined): unknown {
  if (file && err instanceof KeepsakeError && !err.file) {
    return new KeepsakeError(err.code, err.message, { file, cause: err });
  }
  return err;
}

/** What to do about a damaged engine database, for messages (CLI and desktop alike). */
export const DATABASE_REPAIR_HINT =
  'close Keepsake and run `keepsake db repair`: it moves the damaged file aside, keeps what it can read, and starts a fresh one (your vault files and job outputs are safe on disk; add library folders again to rescan them)';

/**
 * Turns an error from SQLite (better-sqlite3's SqliteError, told by its `SQLITE_*` code)
 * into a registry error; anything else gives undefined. Busy and full are passing
 * conditions a caller may retry; corrupt is not.
 */
export function fromSqliteError(err: unknown, file?: string): KeepsakeError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (!(err instanceof Error) || typeof code !== 'string' || !code.startsWith('SQLITE_')) {
    return undefined;
  }
  const options = { file, cause: err };
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) {
    return new KeepsakeError(
      'DATABASE_BUSY',
      'another Keepsake program is holding the database; try again in a moment',
      options,
    );
  }
  if (code.startsWith('SQLITE_FULL')) {
    return new KeepsakeError(
      'DISK_FULL',
      'the disk is full, so the database cannot record this; free some space and try again',
      options,
    );
  }
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) {
    return new KeepsakeError(
      'DATABASE_CORRUPT',
      `the engine database is damaged (${err.message}); ${DATABASE_REPAIR_HINT}`,
      options,
    );
  }
  // Anything else (a constraint, a bad statement) is a bug, not the file: INTERNAL.
  if (!/^SQLITE_(CANTOPEN|READONLY|PERM|IOERR|AUTH|NOLFS|PROTOCOL)/.test(code)) return undefined;
  return new KeepsakeError(
    'DATABASE_UNAVAILABLE',
    `the engine database cannot be used (${err.message}); check that the data folder is yours and the disk is healthy`,
    options,
  );
}
