import { SeamlineError } from '../../errors/errors.js';

/**
 * Maps a better-sqlite3 error to a registry code with the right retry verdict. Only storage-level
 * failures are classified; SQL and constraint errors (our bugs) pass through unchanged.
 */
export function classifySqliteError(e: unknown): unknown {
  if (e instanceof SeamlineError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return e;
  const msg = (e as Error).message;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return new SeamlineError(
      'DB_BUSY',
      `the SQLite database is locked by another connection (${code}): ${msg}`,
      {
        cause: e,
        details: { sqliteCode: code },
      },
    );
  if (code === 'SQLITE_FULL' || /ENOSPC|No space left/i.test(msg))
    return new SeamlineError('DISK_FULL', `the disk holding the SQLite database is full (${code}): ${msg}`, {
      cause: e,
      details: { sqliteCode: code },
    });
  if (code.startsWith('SQLITE_IOERR'))
    return new SeamlineError('BRONZE_FAILED', `SQLite I/O error (${code}): ${msg}`, {
      cause: e,
      retryable: true,
      details: { sqliteCode: code },
    });
  if (
    code.startsWith('SQLITE_CORRUPT') ||
    code.startsWith('SQLITE_NOTADB') ||
    code.startsWith('SQLITE_READONLY') ||
    code.startsWith('SQLITE_CANTOPEN')
  )
    return new SeamlineError('BRONZE_FAILED', `the SQLite database cannot be written (${code}): ${msg}`, {
      cause: e,
      retryable: false,
      details: { sqliteCode: code },
    });
  return e;
}

type AnyFn = (...args: never[]) => unknown;

function guarded<F extends AnyFn>(f: F, self: unknown): F {
  return function (this: unknown, ...args: Parameters<F>) {
    try {
      return f.apply(self, args);
    } catch (e) {
      throw classifySqliteError(e);
    }
  } as F;
}

interface PatchableDb {
  prepare: AnyFn;
  exec: AnyFn;
  pragma: AnyFn;
  transaction: AnyFn;
}

/**
 * Classifies every storage error this connection raises (statements, transactions, exec, pragma) at
 * the adapter, so callers see DB_BUSY / DISK_FULL / BRONZE_FAILED and never a raw SqliteError.
 * Instance methods are wrapped; the prototype is untouched.
 */
export function guardSqlite<T extends object>(db: T): T {
  const d = db as unknown as PatchableDb;
  const prepare = d.prepare.bind(db);
  d.prepare = guarded((...args: never[]) => {
    const st = prepare(...args) as Record<string, AnyFn>;
    for (const m of ['run', 'get', 'all', 'iterate'] as const) st[m] = guarded(st[m]!, st);
    return st;
  }, db);
  d.exec = guarded(d.exec, db);
  d.pragma = guarded(d.pragma, db);
  const transaction = d.transaction.bind(db);
  d.transaction = (...args: never[]) => {
    const t = transaction(...args) as AnyFn & Record<string, AnyFn>;
    const w = guarded<AnyFn & Record<string, AnyFn>>(t, null);
    for (const k of ['default', 'deferred', 'immediate', 'exclusive']) if (t[k]) w[k] = guarded(t[k], null);
    return w;
  };
  return db;
}
