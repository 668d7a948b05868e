import { SeamlineError } from '../../errors/errors.js';

/** SQLSTATE classes and codes (PostgreSQL appendix A) that say something about retrying. */
const CONFLICT = new Set(['40001', '40P01', '55P03']); // serialization_failure, deadlock_detected, lock_not_available
const TIMEOUT = new Set(['57014', '25P03']); // query_canceled (statement_timeout), idle_in_transaction_session_timeout
const SERVER_GONE = new Set(['57P01', '57P02', '57P03', '53300', '53200']); // shutdowns, cannot_connect_now, too_many_connections, out_of_memory
const REFUSED = new Set(['28000', '28P01', '3D000', '42501']); // auth, no such database, privilege: an operator must act
const CORRUPT = new Set(['XX001', 'XX002']);
const NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);
const NET_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable|Client was closed|Query read timeout/i;

/**
 * Maps an error raised by the `pg` driver to a registry code with the right retry verdict. `target` is
 * the redacted URL (never the password). Only storage-level failures are classified; SQL and constraint
 * errors (our bugs, or a unique violation an adapter expects) pass through unchanged.
 */
export function classifyPgError(e: unknown, target: string): unknown {
  if (e instanceof SeamlineError) return e;
  if (e === null || typeof e !== 'object') return e;
  const code = (e as { code?: unknown }).code;
  const msg = e instanceof Error ? e.message : JSON.stringify(e);
  const details = { pgCode: typeof code === 'string' ? code : null, target };
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    if (CONFLICT.has(code))
      return new SeamlineError('DB_CONFLICT', `PostgreSQL rolled the transaction back (${code}): ${msg}`, {
        cause: e,
        details,
      });
    if (TIMEOUT.has(code))
      return new SeamlineError('DB_TIMEOUT', `PostgreSQL cancelled a statement (${code}): ${msg}`, {
        cause: e,
        details,
      });
    if (code === '53100')
      return new SeamlineError('DISK_FULL', `the disk of the PostgreSQL server ${target} is full: ${msg}`, {
        cause: e,
        details,
      });
    if (code.startsWith('08') || SERVER_GONE.has(code))
      return new SeamlineError('DB_UNAVAILABLE', `PostgreSQL at ${target} is unavailable (${code}): ${msg}`, {
        cause: e,
        details,
      });
    if (REFUSED.has(code))
      return new SeamlineError(
        'DB_UNAVAILABLE',
        `PostgreSQL at ${target} refused seamline (${code}): ${msg}; check db.url (user, password, database) and the role's privileges`,
        { cause: e, retryable: false, details },
      );
    if (CORRUPT.has(code))
      return new SeamlineError(
        'BRONZE_FAILED',
        `PostgreSQL at ${target} reports corrupt data (${code}): ${msg}`,
        {
          cause: e,
          retryable: false,
          details,
        },
      );
    return e;
  }
  if ((typeof code === 'string' && NET_CODES.has(code)) || NET_MESSAGES.test(msg))
    return new SeamlineError('DB_UNAVAILABLE', `cannot reach PostgreSQL at ${target}: ${msg}`, {
      cause: e,
      details,
    });
  return e;
}

/** True for the failures after which a whole transaction may simply be run again. */
export function isConflict(e: unknown): boolean {
  return e instanceof SeamlineError && e.code === 'DB_CONFLICT';
}
