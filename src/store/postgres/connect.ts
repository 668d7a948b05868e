import pg from 'pg';
import { SeamlineError } from '../../errors/errors.js';
import { classifyPgError, isConflict } from './classify.js';
import { redactPgUrl } from './url.js';

export interface PostgresOptions {
  /** postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (db.url). */
  readonly url: string;
  /** Connections in the pool (db.poolMax). */
  readonly poolMax: number;
  /** Server-side statement_timeout (db.statementTimeoutMs); a client-side read timeout sits a little above it. */
  readonly statementTimeoutMs: number;
  /** How long opening a connection may take (db.connectTimeoutMs). */
  readonly connectTimeoutMs: number;
  /** Server-side idle_in_transaction_session_timeout (db.idleInTransactionTimeoutMs). */
  readonly idleInTransactionTimeoutMs: number;
  /** Shown in pg_stat_activity: which seamline process holds a connection. */
  readonly applicationName?: string;
  /** Called (never throws) with errors of idle pooled connections (server restart, killed backend). */
  readonly onIdleError?: (err: unknown) => void;
  /** Waits between re-runs of a transaction that lost a conflict; default setTimeout (tests inject one). */
  readonly sleep?: (ms: number) => Promise<void>;
}

export type Isolation = 'read committed' | 'repeatable read' | 'serializable';

/** Runs SQL inside one transaction (or on the pool). Rows come back with int8/numeric as JS numbers. */
export interface PgQueryable {
  query<R extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<PgResult<R>>;
}

export interface PgResult<R> {
  readonly rows: R[];
  readonly rowCount: number;
}

export interface TxOptions {
  /** Default read committed: each statement sees what was committed before it started. */
  readonly isolation?: Isolation;
  readonly readOnly?: boolean;
  /** Runs of the whole transaction when it loses a conflict (DB_CONFLICT); default 5. */
  readonly maxAttempts?: number;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** bigint columns hold seqs, ids and epoch ms: all far below 2^53. A value above it is refused, never rounded. */
function parseInt8(v: string): number {
  const b = BigInt(v);
  if (b > MAX_SAFE || b < -MAX_SAFE)
    throw new SeamlineError('INTERNAL', `PostgreSQL returned ${v}, beyond JavaScript's safe integers`);
  return Number(b);
}

function typeOverrides(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, parseInt8);
  // SUM(bigint) and AVG are numeric: counters and rates, well inside a double.
  types.setTypeParser(pg.types.builtins.NUMERIC, (v: string) => Number(v));
  return types;
}

/** The shortest lock wait setLockWait sets (PostgreSQL waits asynchronously; see setLockWait). */
export const MIN_LOCK_WAIT_MS = 5_000;

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The PostgreSQL connection of one seamline process: a pool, every error classified at this edge
 * (DB_UNAVAILABLE naming the URL without its password, DB_CONFLICT, DB_TIMEOUT, DISK_FULL), and
 * transactions that are re-run when they lose a serialization conflict or a deadlock.
 */
export class PgDatabase {
  /** The URL with its password redacted: for messages and logs. */
  readonly target: string;
  private closed: Promise<void> | null = null;
  private lockWaitMs: number | null = null;

  private constructor(
    private readonly pool: pg.Pool,
    target: string,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    this.target = target;
  }

  /** Opens the pool and checks the server answers (fails fast with DB_UNAVAILABLE otherwise). */
  static async open(opts: PostgresOptions): Promise<PgDatabase> {
    const target = redactPgUrl(opts.url);
    try {
      const u = new URL(opts.url);
      if (!/^postgres(ql)?:$/.test(u.protocol)) throw new Error(`unsupported scheme ${u.protocol}`);
    } catch (e) {
      throw new SeamlineError(
        'CONFIG_INVALID',
        `db.url is not a postgres:// URL (${target}): ${(e as Error).message}`,
        {
          cause: e,
          details: { key: 'db.url' },
        },
      );
    }
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolMax,
      connectionTimeoutMillis: opts.connectTimeoutMs,
      statement_timeout: opts.statementTimeoutMs,
      // A partitioned network never answers: give up on the client side shortly after the server would have.
      query_timeout: opts.statementTimeoutMs + 5_000,
      idle_in_transaction_session_timeout: opts.idleInTransactionTimeoutMs,
      application_name: opts.applicationName ?? 'seamline',
      keepAlive: true,
      types: typeOverrides(),
    });
    // Without a listener an idle connection's error (server restart, pg_terminate_backend) would crash the
    // process; the pool drops that connection and the next query opens a new one.
    pool.on('error', (err) => {
      try {
        opts.onIdleError?.(classifyPgError(err, target));
      } catch {
        // a logging failure must not crash the process either
      }
    });
    const db = new PgDatabase(pool, target, opts.sleep ?? defaultSleep);
    // setLockWait applies to connections opened later (transactions also set it themselves, SET LOCAL).
    pool.on('connect', (client) => {
      if (db.lockWaitMs !== null) client.query(`SET lock_timeout = ${db.lockWaitMs}`).catch(() => undefined);
    });
    try {
      await db.query('SELECT 1');
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
    return db;
  }

  /** One statement on any pooled connection, in its own implicit transaction. */
  async query<R extends object = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<PgResult<R>> {
    try {
      const r = await this.pool.query<R>(sql, params as unknown[]);
      return { rows: r.rows, rowCount: r.rowCount ?? 0 };
    } catch (e) {
      throw classifyPgError(e, this.target);
    }
  }

  /**
   * Runs `fn` in one transaction at the given isolation and commits; rolls back if it throws. A run that
   * loses a conflict (serialization failure, deadlock) is re-run from the start, so `fn` must have no
   * effects outside the transaction. Everything `fn` throws comes out classified.
   */
  async tx<T>(fn: (q: PgQueryable) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    const attempts = Math.max(1, opts.maxAttempts ?? 5);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.txOnce(fn, opts);
      } catch (e) {
        if (!isConflict(e) || attempt >= attempts) throw e;
        // Jittered backoff: the winner of the conflict finishes first.
        await this.sleep(Math.round((5 + Math.random() * 20) * attempt));
      }
    }
  }

  /** A dedicated connection for session-level work (advisory locks held across statements, LISTEN). */
  async withClient<T>(fn: (q: PgQueryable) => Promise<T>): Promise<T> {
    const client = await this.connect();
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    try {
      return await fn(this.wrap(client));
    } catch (e) {
      broken ??= isConnectionLoss(e) ? (e as Error) : undefined;
      throw e;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  /**
   * From here on, how long a statement waits for a lock (row lock, advisory lock) before failing with
   * DB_CONFLICT (55P03, retryable; a transaction re-runs). The wait is asynchronous (the event loop stays
   * free), so unlike SQLite's busy_timeout it need not be short: never below `MIN_LOCK_WAIT_MS`, because
   * workers queue on the short advisory locks (bronze append, per-table commit) as a matter of course.
   */
  setLockWait(ms: number): void {
    this.lockWaitMs = Math.max(MIN_LOCK_WAIT_MS, Math.trunc(ms));
  }

  /** Ends the pool (idempotent); waits for checked-out connections to be released. */
  close(): Promise<void> {
    this.closed ??= this.pool.end().catch(() => undefined);
    return this.closed;
  }

  private async txOnce<T>(fn: (q: PgQueryable) => Promise<T>, opts: TxOptions): Promise<T> {
    const client = await this.connect();
    // A connection that dies between two statements of the transaction emits 'error' on the client: it is
    // recorded here (no crash) and the connection is destroyed on release instead of going back to the pool.
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    const q = this.wrap(client);
    try {
      const mode = `ISOLATION LEVEL ${(opts.isolation ?? 'read committed').toUpperCase()}${opts.readOnly ? ' READ ONLY' : ''}`;
      // One round trip: the lock wait rides on BEGIN.
      await q.query(
        this.lockWaitMs === null
          ? `BEGIN ${mode}`
          : `BEGIN ${mode}; SET LOCAL lock_timeout = ${this.lockWaitMs}`,
      );
      let out: T;
      try {
        out = await fn(q);
        await q.query('COMMIT');
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch (rb) {
          broken ??= rb as Error;
        }
        throw e;
      }
      return out;
    } catch (e) {
      if (isConnectionLoss(e)) broken ??= e as Error;
      throw broken && !(e instanceof SeamlineError) ? classifyPgError(broken, this.target) : e;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (e) {
      throw classifyPgError(e, this.target);
    }
  }

  private wrap(client: pg.PoolClient): PgQueryable {
    const target = this.target;
    return {
      async query<R extends object>(sql: string, params: readonly unknown[] = []): Promise<PgResult<R>> {
        try {
          const r = await client.query<R>(sql, params as unknown[]);
          return { rows: r.rows, rowCount: r.rowCount ?? 0 };
        } catch (e) {
          throw classifyPgError(e, target);
        }
      },
    };
  }
}

function isConnectionLoss(e: unknown): boolean {
  return e instanceof SeamlineError && (e.code === 'DB_UNAVAILABLE' || e.code === 'DB_TIMEOUT');
}
