import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NewIncident } from '../../../src/ports/ledger.js';
import { PgBatches } from '../../../src/store/postgres/batches.js';
import type { PgDatabase } from '../../../src/store/postgres/connect.js';
import { PgIncidents } from '../../../src/store/postgres/incidents.js';
import { migratePostgres } from '../../../src/store/postgres/migrations.js';
import { openPg, scratchDatabase, type ScratchDatabase } from '../../helpers/postgres.js';

const inc = (batchId: string, runId: string): NewIncident => ({
  atMs: 10,
  pipeline: 'processor',
  runId,
  batchId,
  failureMode: 'quarantine-ratio',
  affectedRows: 5,
  guard: 'gates.maxQuarantineRatio',
  message: 'too many bad records',
});

describe('PgIncidents (real PostgreSQL)', () => {
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

  it('workers failing the same batch the same way at once leave one open incident counting every attempt', async () => {
    const dbs = await Promise.all([1, 2, 3, 4].map(() => openPg(scratch.url, { poolMax: 1 })));
    try {
      await Promise.all(dbs.map((d, i) => new PgIncidents(d).record(inc('t:1-9', `run${i}`))));
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
    }
    const incidents = new PgIncidents(db);
    const open = await incidents.list(50, 'open');
    assert.equal(open.length, 1);
    assert.equal(open[0]!.detail?.attempts, 4);
    assert.equal(await incidents.openCount(), 1);
  });

  it('a batch commit closes its open incidents in the same transaction, stamping closedAtMs', async () => {
    await db.query(
      `INSERT INTO file_progress (table_name, file_id, lane, reason, seq_from, seq_to, records, complete_at_ms, landed_at_ms, queued_at_ms, planned_to, committed_to)
       VALUES ('t', 7, 'live', 'fresh', 70, 79, 10, 0, 0, 0, 69, 69)`,
    );
    const batches = new PgBatches(db);
    const b = await batches.plan(
      't',
      'live',
      [{ fileId: 7, seqFrom: 70, seqTo: 79, records: 10 }],
      'm',
      '1',
      1,
    );
    const incidents = new PgIncidents(db);
    const i = await incidents.record(inc(b.batchId, 'r1'));
    const c = {
      recordsIn: 10,
      idsTouched: 10,
      rowsInserted: 10,
      rowsUpdated: 0,
      rowsDeleted: 0,
      textsEmbedded: 10,
      textsReused: 0,
    };
    await batches.commit(b.batchId, 3, c, 50, 'waived');
    const after = await incidents.get(i.incidentId);
    assert.equal(after?.status, 'waived');
    assert.equal(after?.detail?.closedAtMs, 50);
    assert.equal(await incidents.close(b.batchId, 'resolved', 60), 0, 'nothing left open');
  });
});
