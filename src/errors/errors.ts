/**
 * The one error registry. Every failure seamline reports carries a stable code (documented in
 * docs/errors.md and used as the CLI exit reason), an actionable message and whether retrying can help.
 */
export const ERROR_CODES = {
  CONFIG_INVALID: {
    exit: 2,
    retryable: false,
    summary: 'the configuration file or an env override is invalid',
  },
  CONFIG_NOT_FOUND: { exit: 2, retryable: false, summary: 'the configuration file does not exist' },
  USAGE: { exit: 2, retryable: false, summary: 'the command line is invalid' },
  MODEL_NOT_FOUND: { exit: 3, retryable: false, summary: 'the embedding model cannot be loaded' },
  EMBED_FAILED: { exit: 3, retryable: true, summary: 'the embedding worker failed' },
  STORE_FAILED: { exit: 4, retryable: true, summary: 'the LanceDB table operation failed' },
  MERGE_MISMATCH: {
    exit: 4,
    retryable: false,
    summary: 'a merge changed a different number of rows than planned',
  },
  BRONZE_FAILED: { exit: 5, retryable: true, summary: 'the bronze SQLite database failed' },
  LEDGER_CONFLICT: {
    exit: 5,
    retryable: false,
    summary: 'the ledger is in a state the processor cannot continue from',
  },
  LOCKED: { exit: 6, retryable: false, summary: 'another seamline process holds the data folder' },
  GATE_FAILED: { exit: 7, retryable: false, summary: 'a quality gate refused to publish a batch' },
  LANDING_REFUSED: { exit: 8, retryable: false, summary: 'a landing file was refused' },
  VERIFY_INCONSISTENT: {
    exit: 9,
    retryable: false,
    summary: 'verify found the index inconsistent with bronze',
  },
  LEASE_TIMEOUT: {
    exit: 10,
    retryable: true,
    summary: 'the maintenance lease could not be obtained in time',
  },
  DB_BUSY: {
    exit: 11,
    retryable: true,
    summary:
      'another connection (a sqlite3 shell, a backup tool) holds the SQLite write lock; the daemon waits it out with backoff',
  },
  DISK_FULL: {
    exit: 12,
    retryable: true,
    summary:
      'a disk is full (SQLite or LanceDB); work stalls, /readyz says so, and resumes once space is freed',
  },
  DB_UNAVAILABLE: {
    exit: 13,
    retryable: true,
    summary:
      'the PostgreSQL store cannot be reached or refused the connection (down, restarting, wrong URL, credentials, too many connections)',
  },
  DB_CONFLICT: {
    exit: 14,
    retryable: true,
    summary:
      'a PostgreSQL transaction lost to a concurrent one (serialization failure, deadlock, lock not available) and was rolled back; it can be re-run',
  },
  DB_TIMEOUT: {
    exit: 15,
    retryable: true,
    summary: 'a PostgreSQL statement ran longer than db.statementTimeoutMs and was cancelled',
  },
  ABORTED: { exit: 130, retryable: true, summary: 'the operation was cancelled' },
  INTERNAL: { exit: 70, retryable: false, summary: 'an unexpected internal error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface SeamlineErrorOptions {
  readonly cause?: unknown;
  readonly retryable?: boolean;
  readonly details?: Readonly<Record<string, unknown>>;
}

export class SeamlineError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>>;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options: SeamlineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SeamlineError';
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.details = options.details ?? {};
    this.exitCode = ERROR_CODES[code].exit;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, retryable: this.retryable, details: this.details };
  }
}

export function isSeamlineError(e: unknown): e is SeamlineError {
  return e instanceof SeamlineError;
}

/** Wraps anything thrown into a SeamlineError, keeping the original as `cause`. */
export function toSeamlineError(e: unknown, code: ErrorCode = 'INTERNAL', context?: string): SeamlineError {
  if (e instanceof SeamlineError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new SeamlineError(code, context ? `${context}: ${msg}` : msg, { cause: e });
}
