import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PgDatabase } from '../../../src/store/postgres/connect.js';
import { migratePostgres } from '../../../src/store/postgres/migrations.js';
import { openPg, scratchDatabase, type ScratchDatabase } from '../../helpers/postgres.js';

/**
 * Spike for several workers (issue 16, docs/scale-out.md): the processor's "plan a batch" as one
 * transaction that claims open file_progress rows with FOR UPDATE SKIP LOCKED and advances planned_to.
 * Two workers planning at once must get disjoint files and never wait on each other.
 */
const CLAIM = `
  SELECT file_id, seq_from, seq_to, planned_to FROM file_progress
   WHERE table_name = $1 AND lane = $2 AND planned_to < seq_to
   ORDER BY file_id LIMIT $3
   FOR UPDATE SKIP LOCKED`;

async function seed(db: PgDatabase, files: number): Promise<void> {
  await db.query(
    `INSERT INTO file_progress (table_name, file_id, lane, reason, seq_from, seq_to, records, complete_at_ms,
       landed_at_ms, queued_at_ms, planned_to, committed_to)
     SELECT 't_v1', g, 'backlog', 'startup', g * 100, g * 100 + 99, 100, 0, 0, 0, g * 100 - 1, g * 100 - 1
       FROM generate_series(1, $1::int) g`,
    [files],
  );
}

describe('work claiming with FOR UPDATE SKIP LOCKED (real server)', () => {
  let scratch: ScratchDatabase;
  let db: PgDatabase;
  before(async () => {
    scratch = await scratchDatabase();
    db = await openPg(scratch.url, { poolMax: 8 });
    await migratePostgres(db);
  });
  after(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it('two connections holding their claims get disjoint rows, and neither waits for the other', async () => {
    await db.query('TRUNCATE file_progress');
    await seed(db, 10);
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    let firstClaimed!: (ids: number[]) => void;
    const first = new Promise<number[]>((r) => (firstClaimed = r));
    const worker1 = db.tx(async (q) => {
      const ids = (await q.query<{ file_id: number }>(CLAIM, ['t_v1', 'backlog', 4])).rows.map(
        (r) => r.file_id,
      );
      firstClaimed(ids);
      await hold; // the claim stays locked while worker 2 plans
      return ids;
    });
    const ids1 = await first;
    const t0 = Date.now();
    const ids2 = await db.tx(async (q) =>
      (await q.query<{ file_id: number }>(CLAIM, ['t_v1', 'backlog', 4])).rows.map((r) => r.file_id),
    );
    const waited = Date.now() - t0;
    release();
    await worker1;
    assert.deepEqual(ids1, [1, 2, 3, 4]);
    assert.deepEqual(ids2, [5, 6, 7, 8], 'worker 2 skipped the locked rows instead of blocking');
    assert.ok(waited < 5_000, `worker 2 did not block on worker 1 (${waited} ms)`);
  });

  it('N workers planning in a loop plan every file range exactly once', async () => {
    await db.query('TRUNCATE file_progress');
    await seed(db, 200);
    const planned = new Map<number, number>();
    const worker = async (): Promise<number> => {
      let batches = 0;
      for (;;) {
        const got = await db.tx(async (q) => {
          const rows = (await q.query<{ file_id: number; seq_to: number }>(CLAIM, ['t_v1', 'backlog', 3]))
            .rows;
          for (const r of rows)
            await q.query(
              `UPDATE file_progress SET planned_to = seq_to, planned_records = records WHERE table_name = $1 AND file_id = $2`,
              ['t_v1', r.file_id],
            );
          return rows.map((r) => r.file_id);
        });
        if (got.length === 0) return batches;
        batches += 1;
        for (const id of got) planned.set(id, (planned.get(id) ?? 0) + 1);
      }
    };
    const perWorker = await Promise.all(Array.from({ length: 4 }, () => worker()));
    assert.equal(planned.size, 200);
    assert.deepEqual(
      [...planned.values()].filter((n) => n !== 1),
      [],
      'no file planned twice',
    );
    assert.ok(perWorker.filter((b) => b > 0).length >= 2, `work was shared: ${perWorker.join(', ')}`);
    const open = await db.query('SELECT 1 FROM file_progress WHERE planned_to < seq_to');
    assert.equal(open.rowCount, 0);
  });

  it('without SKIP LOCKED the second planner blocks on the first (why the claim needs it)', async () => {
    await db.query('TRUNCATE file_progress');
    await seed(db, 4);
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const w1 = db.tx(async (q) => {
      await q.query(CLAIM.replace('SKIP LOCKED', ''), ['t_v1', 'backlog', 2]);
      locked();
      await hold;
    });
    await isLocked;
    const w2 = db.tx(
      async (q) => {
        await q.query('SET LOCAL lock_timeout = 300');
        await q.query(CLAIM.replace('SKIP LOCKED', ''), ['t_v1', 'backlog', 2]);
      },
      { maxAttempts: 1 },
    );
    await assert.rejects(w2, (e: { code?: string }) => e.code === 'DB_CONFLICT');
    release();
    await w1;
  });
});
