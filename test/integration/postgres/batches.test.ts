import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SeamlineError } from '../../../src/errors/errors.js';
import type { BatchCounts, BatchRow, Segment } from '../../../src/ports/ledger.js';
import { PgBatches } from '../../../src/store/postgres/batches.js';
import type { PgDatabase } from '../../../src/store/postgres/connect.js';
import { migratePostgres } from '../../../src/store/postgres/migrations.js';
import { openPg, scratchDatabase, type ScratchDatabase } from '../../helpers/postgres.js';

const T = 'records_v1';
const counts = (n: number): BatchCounts => ({
  recordsIn: n,
  idsTouched: n,
  rowsInserted: n,
  rowsUpdated: 0,
  rowsDeleted: 0,
  textsEmbedded: n,
  textsReused: 0,
});

/** file f holds seqs [f*1000, f*1000 + records - 1] in the table's progress. */
async function seedFiles(db: PgDatabase, files: number, records: number): Promise<void> {
  await db.query(
    `INSERT INTO file_progress (table_name, file_id, lane, reason, seq_from, seq_to, records, complete_at_ms,
       landed_at_ms, queued_at_ms, planned_to, committed_to)
     SELECT $1, g, 'backlog', 'startup', g * 1000, g * 1000 + $3 - 1, $3, 0, 0, 0, g * 1000 - 1, g * 1000 - 1
       FROM generate_series(1, $2::int) g`,
    [T, files, records],
  );
}

const seg = (fileId: number, from: number, to: number): Segment => ({
  fileId,
  seqFrom: fileId * 1000 + from,
  seqTo: fileId * 1000 + to,
  records: to - from + 1,
});

const isConflict = (e: unknown) => e instanceof SeamlineError && e.code === 'LEDGER_CONFLICT';

describe('PgBatches: planning and committing batches with several workers (real PostgreSQL)', () => {
  let scratch: ScratchDatabase;
  let db: PgDatabase;
  let batches: PgBatches;
  before(async () => {
    scratch = await scratchDatabase();
    db = await openPg(scratch.url, { poolMax: 6 });
    await migratePostgres(db);
    batches = new PgBatches(db);
  });
  beforeEach(async () => {
    await db.query('TRUNCATE batches, batch_segments, file_progress, incidents');
  });
  after(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it('plan → commit marks the files, reports the ones that became searchable, and refuses a second commit', async () => {
    await seedFiles(db, 2, 10);
    const b = await batches.plan(T, 'backlog', [seg(1, 0, 9), seg(2, 0, 4)], 'm', '1', 100);
    assert.equal(b.batchId, `${T}:1000-2004`);
    assert.equal((await batches.progress(T, 2))?.plannedTo, 2004);
    assert.equal((await batches.pendingBatch(T))?.batchId, b.batchId);
    const done = await batches.commit(b.batchId, 7, counts(15), 200);
    assert.deepEqual(
      done.map((d) => [d.fileId, d.searchableAtMs, d.plannedAtMs]),
      [[1, 200, 100]],
    );
    const p2 = await batches.progress(T, 2);
    assert.deepEqual([p2?.committedTo, p2?.committedRecords, p2?.searchableAtMs], [2004, 5, null]);
    await assert.rejects(batches.commit(b.batchId, 8, counts(15), 300), isConflict);
    assert.equal(await batches.pendingBatch(T), null);
  });

  it('two workers planning the same file at once: one plans, the other gets LEDGER_CONFLICT and writes nothing', async () => {
    await seedFiles(db, 1, 10);
    const dbs = await Promise.all([openPg(scratch.url, { poolMax: 1 }), openPg(scratch.url, { poolMax: 1 })]);
    try {
      const [a, b] = dbs.map((d) => new PgBatches(d));
      const r = await Promise.allSettled([
        a!.plan(T, 'backlog', [seg(1, 0, 4)], 'm', '1', 1),
        b!.plan(T, 'backlog', [seg(1, 0, 6)], 'm', '1', 1),
      ]);
      assert.equal(r.filter((x) => x.status === 'fulfilled').length, 1);
      const lost = r.find((x) => x.status === 'rejected') as PromiseRejectedResult;
      assert.ok(isConflict(lost.reason), String(lost.reason));
      assert.equal(
        (lost.reason as SeamlineError).retryable,
        true,
        'the loser re-reads the open files and plans anew',
      );
      const rows = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM batches');
      assert.equal(rows.rows[0]!.n, 1, 'the loser left no batch row');
      const segs = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM batch_segments');
      assert.equal(segs.rows[0]!.n, 1, 'nor a segment');
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
    }
  });

  it('concurrent commits from three workers get distinct consecutive commit numbers', async () => {
    await seedFiles(db, 30, 5);
    const planned: BatchRow[] = [];
    for (let f = 1; f <= 30; f++) planned.push(await batches.plan(T, 'backlog', [seg(f, 0, 4)], 'm', '1', f));
    const dbs = await Promise.all([1, 2, 3].map(() => openPg(scratch.url, { poolMax: 2 })));
    try {
      const ws = dbs.map((d) => new PgBatches(d));
      await Promise.all(
        ws.map(async (w, wi) => {
          for (let i = wi; i < planned.length; i += ws.length)
            await w.commit(planned[i]!.batchId, i, counts(5), 1000 + i);
        }),
      );
      const nos = (
        await db.query<{ c: number }>('SELECT commit_no AS c FROM batches ORDER BY commit_no')
      ).rows.map((r) => r.c);
      assert.deepEqual(
        nos,
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
    }
  });

  it('batches of one file committed out of order never mark unpublished records as committed', async () => {
    await seedFiles(db, 1, 100);
    const first = await batches.plan(T, 'backlog', [seg(1, 0, 49)], 'm', '1', 1);
    const second = await batches.plan(T, 'backlog', [seg(1, 50, 99)], 'm', '1', 2);
    // The second half commits first (another worker was faster).
    assert.deepEqual(await batches.commit(second.batchId, 1, counts(50), 10), []);
    let p = await batches.progress(T, 1);
    assert.ok(p!.committedTo < 1000, `records 1000..1049 are not committed yet (mark ${p!.committedTo})`);
    assert.equal(p!.searchableAtMs, null);
    const done = await batches.commit(first.batchId, 2, counts(50), 20);
    assert.deepEqual(
      done.map((d) => d.fileId),
      [1],
    );
    p = await batches.progress(T, 1);
    assert.deepEqual([p!.committedTo, p!.committedRecords, p!.searchableAtMs], [1099, 100, 20]);
  });

  it('a failed batch holds its file mark below it until it is committed', async () => {
    await seedFiles(db, 1, 10);
    const a = await batches.plan(T, 'live', [seg(1, 0, 4)], 'm', '1', 1);
    const b = await batches.plan(T, 'live', [seg(1, 5, 9)], 'm', '1', 2);
    await batches.fail(a.batchId, 'embedder down');
    await batches.commit(b.batchId, 1, counts(5), 3);
    assert.equal((await batches.progress(T, 1))!.committedTo, 999);
    assert.equal((await batches.pendingBatch(T, 'live'))?.batchId, a.batchId);
    await batches.markAttempt(a.batchId);
    assert.equal((await batches.batch(a.batchId))?.attempts, 2);
    await batches.commit(a.batchId, 2, counts(5), 4);
    assert.equal((await batches.progress(T, 1))!.committedTo, 1009);
  });
});
