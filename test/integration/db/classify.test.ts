import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqlite, setBusyTimeout } from '../../../src/store/sqlite/db.js';
import { isSeamlineError, type SeamlineError } from '../../../src/errors/errors.js';
import { SqliteLeases } from '../../../src/store/sqlite/leases.js';
import { classifyLanceError } from '../../../src/store/lance-errors.js';
import { LanceStore } from '../../../src/store/lance.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(path.join(tmpdir(), 'seamline-classify-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const caught = (f: () => unknown): SeamlineError => {
  try {
    f();
  } catch (e) {
    assert.ok(isSeamlineError(e), `expected a SeamlineError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a throw');
};

describe('SQLite errors are classified in the adapter (real database files)', () => {
  it('a write lock held by a second connection is DB_BUSY, retryable, and the busy wait is short', () => {
    const file = path.join(tmp(), 'seamline.db');
    const db = openSqlite(file, { synchronous: 'FULL', busyTimeoutMs: 5000 });
    setBusyTimeout(db, 20);
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    try {
      const t0 = performance.now();
      const e = caught(() => new SqliteLeases(db).tryAcquireSync('writer', 'me', 1000, Date.now()));
      const ms = performance.now() - t0;
      assert.equal(e.code, 'DB_BUSY');
      assert.equal(e.retryable, true);
      assert.equal((e.cause as { code?: string }).code, 'SQLITE_BUSY');
      assert.ok(ms < 1000, `the busy wait blocked ${ms} ms`);
      // Statements, exec and pragma-level writes are classified too.
      assert.equal(caught(() => db.prepare('DELETE FROM leases').run()).code, 'DB_BUSY');
      assert.equal(caught(() => db.exec('DELETE FROM leases')).code, 'DB_BUSY');
    } finally {
      other.exec('COMMIT');
      other.close();
    }
    assert.equal(
      new SqliteLeases(db).tryAcquireSync('writer', 'me', 1000, Date.now()),
      true,
      'works once released',
    );
    db.close();
  });

  it('SQLITE_FULL is DISK_FULL (retryable), not INTERNAL', () => {
    const db = openSqlite(path.join(tmp(), 'seamline.db'), { synchronous: 'FULL', busyTimeoutMs: 100 });
    // A real "database or disk is full" from the engine: cap the file at its current size.
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const big = 'x'.repeat(64 * 1024);
    const e = caught(() => {
      for (let i = 0; i < 100; i++) db.prepare('INSERT INTO leases VALUES (?, ?, 0)').run(`k${i}`, big);
    });
    assert.equal(e.code, 'DISK_FULL');
    assert.equal(e.retryable, true);
    assert.equal((e.cause as { code?: string }).code, 'SQLITE_FULL');
    db.close();
  });

  it('SQL bugs are not disguised: a constraint error passes through unchanged', () => {
    const db = openSqlite(path.join(tmp(), 'seamline.db'), { synchronous: 'FULL', busyTimeoutMs: 100 });
    db.prepare('INSERT INTO leases VALUES (?, ?, 0)').run('a', 'x');
    assert.throws(
      () => db.prepare('INSERT INTO leases VALUES (?, ?, 0)').run('a', 'x'),
      (e: unknown) => !isSeamlineError(e) && (e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY',
    );
    db.close();
  });
});

describe('LanceDB errors are classified in the adapter', () => {
  it('maps ENOSPC to DISK_FULL, commit races and I/O to retryable STORE_FAILED, corruption to non-retryable', () => {
    const full = classifyLanceError(
      new Error('LanceError(IO): Generic LocalFileSystem error: No space left on device (os error 28)'),
      'merge',
    );
    assert.equal(full.code, 'DISK_FULL');
    assert.equal(full.retryable, true);
    const race = classifyLanceError(
      new Error('Commit conflict for version 7: preempted by concurrent Rewrite'),
      'merge',
    );
    assert.equal(race.code, 'STORE_FAILED');
    assert.equal(race.retryable, true);
    assert.equal(
      classifyLanceError(new Error('LanceError(IO): Input/output error (os error 5)'), 'x').retryable,
      true,
    );
    assert.equal(classifyLanceError(new Error('file is corrupt: bad footer'), 'x').retryable, false);
  });

  it('every table method is wrapped: a real failing call rejects with a SeamlineError, not a raw vendor error', async () => {
    const store = await LanceStore.open(path.join(tmp(), 'lance'));
    const t = await store.createTable('t_v1', 4);
    rmSync(path.join(dirs[dirs.length - 1]!, 'lance'), { recursive: true, force: true });
    await assert.rejects(
      async () => {
        await t.countRows();
        await t.rowsForIds(['a']);
        await t.version();
        await t.merge([], ['a']);
        for await (const _ of t.scanAll('all')) void _;
        throw new Error('no error after the table folder was removed');
      },
      (e: unknown) => isSeamlineError(e) && (e.code === 'STORE_FAILED' || e.code === 'DISK_FULL'),
    );
    store.close();
  });
});
