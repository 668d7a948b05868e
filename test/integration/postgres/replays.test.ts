import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PgDatabase } from '../../../src/store/postgres/connect.js';
import { migratePostgres } from '../../../src/store/postgres/migrations.js';
import { PgReplays } from '../../../src/store/postgres/replays.js';
import { openPg, scratchDatabase, type ScratchDatabase } from '../../helpers/postgres.js';

const c = {
  idsTouched: 3,
  rowsInserted: 1,
  rowsUpdated: 2,
  rowsDeleted: 0,
  textsEmbedded: 1,
  textsReused: 2,
};

describe('PgReplays (real PostgreSQL)', () => {
  let scratch: ScratchDatabase;
  let db: PgDatabase;
  before(async () => {
    scratch = await scratchDatabase();
    db = await openPg(scratch.url, { poolMax: 4 });
    await migratePostgres(db);
  });
  after(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it('workers planning runs at once get distinct consecutive ids', async () => {
    const dbs = await Promise.all([1, 2, 3].map(() => openPg(scratch.url, { poolMax: 1 })));
    try {
      const rows = await Promise.all(
        dbs.map((d, i) => new PgReplays(d).plan('t', 'replay', { upToSeq: i }, 1)),
      );
      assert.deepEqual(rows.map((r) => r.replayId).sort(), ['t:replay:1', 't:replay:2', 't:replay:3']);
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
    }
  });

  it('a reconcile re-points the batches above its version and commits, in one transaction', async () => {
    const replays = new PgReplays(db);
    await db.query(
      `INSERT INTO batches (batch_id, table_name, seq_from, seq_to, state, planned_at_ms, table_version, model_id, pipeline_version)
       VALUES ('u:1-1', 'u', 1, 1, 'committed', 0, 4, 'm', '1'), ('u:2-2', 'u', 2, 2, 'committed', 0, 6, 'm', '1'),
              ('u:3-3', 'u', 3, 3, 'committed', 0, 7, 'm', '1')`,
    );
    const r = await replays.plan('u', 'reconcile', { fromVersion: 5, ledgerVersion: 7 }, 10);
    assert.equal((await replays.pending('u', 'reconcile'))?.replayId, r.replayId);
    await replays.commitReconcile(r.replayId, 'u', 5, 9, c, 20);
    const v = await db.query<{ id: string; v: number }>(
      `SELECT batch_id AS id, table_version AS v FROM batches WHERE table_name = 'u' ORDER BY batch_id`,
    );
    assert.deepEqual(
      v.rows.map((x) => [x.id, x.v]),
      [
        ['u:1-1', 4],
        ['u:2-2', 9],
        ['u:3-3', 9],
      ],
    );
    const done = await replays.get(r.replayId);
    assert.deepEqual([done?.state, done?.tableVersion, done?.rowsUpdated], ['committed', 9, 2]);
    assert.equal(await replays.pending('u', 'reconcile'), null);
    assert.equal((await replays.list('u'))[0]?.replayId, r.replayId);
  });
});
