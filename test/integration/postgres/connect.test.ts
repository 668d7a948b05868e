import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SeamlineError } from '../../../src/errors/errors.js';
import { PgDatabase } from '../../../src/store/postgres/connect.js';
import {
  openPg,
  PG_TEST_OPTIONS,
  pgTestUrl,
  scratchDatabase,
  type ScratchDatabase,
} from '../../helpers/postgres.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function withUrl(url: string, change: (u: URL) => void): string {
  const u = new URL(url);
  change(u);
  return u.toString();
}

async function seamlineError(p: Promise<unknown>): Promise<SeamlineError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SeamlineError, `expected a SeamlineError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

describe('PostgreSQL connection and error classification (real server)', () => {
  let scratch: ScratchDatabase;
  before(async () => {
    scratch = await scratchDatabase();
  });
  after(async () => {
    await scratch?.drop();
  });

  it('a URL that is not postgres:// is CONFIG_INVALID naming db.url, without the password', async () => {
    const e = await seamlineError(
      PgDatabase.open({ ...PG_TEST_OPTIONS, url: 'mysql://u:s3cret@localhost/db' }),
    );
    assert.equal(e.code, 'CONFIG_INVALID');
    assert.match(e.message, /db\.url/);
    assert.doesNotMatch(e.message, /s3cret/);
  });

  it('connection refused is DB_UNAVAILABLE (retryable), naming host and port but never the password', async () => {
    const port = await freePort();
    const url = `postgres://seamline:hunter2secret@127.0.0.1:${port}/seamline_test`;
    const e = await seamlineError(PgDatabase.open({ ...PG_TEST_OPTIONS, url }));
    assert.equal(e.code, 'DB_UNAVAILABLE');
    assert.equal(e.retryable, true);
    assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(e.message, /hunter2secret/);
    assert.doesNotMatch(JSON.stringify(e.toJSON()), /hunter2secret/);
  });

  it('a wrong password or a missing database is DB_UNAVAILABLE and not retryable (an operator must act)', async () => {
    const badPw = withUrl(pgTestUrl(), (u) => (u.password = 'wrong-password-xyz'));
    const e1 = await seamlineError(openPg(badPw));
    assert.equal(e1.code, 'DB_UNAVAILABLE');
    assert.equal(e1.retryable, false);
    assert.equal(e1.details.pgCode, '28P01');
    assert.doesNotMatch(e1.message, /wrong-password-xyz/);
    const noDb = withUrl(pgTestUrl(), (u) => (u.pathname = '/no_such_database_here'));
    const e2 = await seamlineError(openPg(noDb));
    assert.equal(e2.code, 'DB_UNAVAILABLE');
    assert.equal(e2.retryable, false);
    assert.equal(e2.details.pgCode, '3D000');
  });

  it('a connection killed inside a transaction fails that call with DB_UNAVAILABLE; the pool recovers', async () => {
    const db = await openPg(scratch.url, { poolMax: 2 });
    const killer = await openPg(scratch.url, { poolMax: 1 });
    try {
      const e = await seamlineError(
        db.tx(async (q) => {
          const pid = (await q.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
          await killer.query('SELECT pg_terminate_backend($1)', [pid]);
          // give the server's FATAL time to arrive between two statements (the 'error' event path)
          await new Promise((r) => setTimeout(r, 200));
          await q.query('SELECT 1');
        }),
      );
      assert.equal(e.code, 'DB_UNAVAILABLE');
      assert.equal(e.retryable, true);
      const r = await db.query<{ one: number }>('SELECT 1 AS one');
      assert.equal(r.rows[0]!.one, 1);
    } finally {
      await killer.close();
      await db.close();
    }
  });

  it('an idle pooled connection killed by the server is reported, does not crash, and is replaced', async () => {
    const seen: unknown[] = [];
    const db = await openPg(scratch.url, { poolMax: 1, onIdleError: (e) => seen.push(e) });
    const killer = await openPg(scratch.url, { poolMax: 1 });
    try {
      const pid = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await killer.query('SELECT pg_terminate_backend($1)', [pid]);
      for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(seen.length, 1);
      assert.ok(seen[0] instanceof SeamlineError && seen[0].code === 'DB_UNAVAILABLE', String(seen[0]));
      const after = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      assert.notEqual(after, pid);
    } finally {
      await killer.close();
      await db.close();
    }
  });

  it('statement_timeout cancels a long statement as DB_TIMEOUT', async () => {
    const db = await openPg(scratch.url, { poolMax: 1, statementTimeoutMs: 150 });
    try {
      const e = await seamlineError(db.query('SELECT pg_sleep(5)'));
      assert.equal(e.code, 'DB_TIMEOUT');
      assert.equal(e.details.pgCode, '57014');
    } finally {
      await db.close();
    }
  });

  it('a serialization failure is DB_CONFLICT; tx() re-runs the loser so both increments land', async () => {
    const db = await openPg(scratch.url, { poolMax: 4 });
    try {
      await db.query('CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)');
      await db.query('INSERT INTO counter VALUES (1, 0)');
      // Two serializable read-modify-write transactions overlapping on one row: one must lose.
      const round = () => {
        let gate!: () => void;
        const bothRead = new Promise<void>((r) => (gate = r));
        let reads = 0;
        let runs = 0;
        const incr = (maxAttempts: number) =>
          db.tx(
            async (q) => {
              runs += 1;
              const n = (await q.query<{ n: number }>('SELECT n FROM counter WHERE id = 1')).rows[0]!.n;
              if (++reads === 2) gate();
              await Promise.race([bothRead, new Promise((r) => setTimeout(r, 500))]);
              await q.query('UPDATE counter SET n = $1 WHERE id = 1', [n + 1]);
            },
            { isolation: 'serializable', maxAttempts },
          );
        return { incr, runs: () => runs };
      };
      const r1 = round();
      const once = await Promise.allSettled([r1.incr(1), r1.incr(1)]);
      const lost = once.filter((r) => r.status === 'rejected');
      assert.equal(lost.length, 1);
      const err = (lost[0] as PromiseRejectedResult).reason as SeamlineError;
      assert.equal(err.code, 'DB_CONFLICT');
      assert.equal(err.details.pgCode, '40001');
      assert.equal(err.retryable, true);

      const r2 = round();
      await Promise.all([r2.incr(5), r2.incr(5)]);
      assert.equal(r2.runs(), 3, 'the loser ran again');
      const n = (await db.query<{ n: number }>('SELECT n FROM counter WHERE id = 1')).rows[0]!.n;
      assert.equal(n, 3, 'one from the first round, two from the retried round');
    } finally {
      await db.close();
    }
  });

  it('a deadlock is DB_CONFLICT (40P01)', async () => {
    const db = await openPg(scratch.url, { poolMax: 4 });
    try {
      await db.query('CREATE TABLE dl (id int PRIMARY KEY, v int)');
      await db.query('INSERT INTO dl VALUES (1, 0), (2, 0)');
      let firstLocks = 0;
      let release!: () => void;
      const bothLocked = new Promise<void>((r) => (release = r));
      const cross = (a: number, b: number) =>
        db.tx(
          async (q) => {
            await q.query('UPDATE dl SET v = v + 1 WHERE id = $1', [a]);
            if (++firstLocks === 2) release();
            await bothLocked;
            await q.query('UPDATE dl SET v = v + 1 WHERE id = $1', [b]);
          },
          { maxAttempts: 1 },
        );
      const r = await Promise.allSettled([cross(1, 2), cross(2, 1)]);
      const lost = r.filter((x) => x.status === 'rejected');
      assert.equal(lost.length, 1);
      const err = (lost[0] as PromiseRejectedResult).reason as SeamlineError;
      assert.equal(err.code, 'DB_CONFLICT');
      assert.equal(err.details.pgCode, '40P01');
    } finally {
      await db.close();
    }
  });

  it('bigint columns come back as JS numbers; numeric sums too', async () => {
    const db = await openPg(scratch.url, { poolMax: 1 });
    try {
      const r = await db.query<{ a: number; s: number }>(
        'SELECT 9007199254740991::bigint AS a, SUM(x)::numeric AS s FROM (VALUES (1::bigint), (2::bigint)) v(x)',
      );
      assert.deepEqual(r.rows[0], { a: Number.MAX_SAFE_INTEGER, s: 3 });
      await assert.rejects(db.query('SELECT 9007199254740993::bigint AS a'), /safe integers/);
    } finally {
      await db.close();
    }
  });
});
