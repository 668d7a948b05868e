import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BronzeEvent } from '../../../src/ports/bronze.js';
import { openSqlite, type Sqlite } from '../../../src/store/sqlite/db.js';
import { batchIdFor } from '../../../src/ports/ledger.js';
import { LedgerSql as Ledger } from '../../../src/store/sqlite/ledger.js';

const ev = (
  id: string,
  version: number,
  t: number,
  seq: number,
  op: 'upsert' | 'delete' = 'upsert',
): BronzeEvent => ({
  seq,
  fileId: 1,
  file: 'f',
  line: seq,
  offset: 0,
  id,
  version,
  eventTime: '',
  eventTimeMs: t,
  op,
  text: 'x',
  metadataJson: '{}',
  landedAtMs: 0,
});

describe('ledger (real SQLite)', () => {
  let dir: string;
  let db: Sqlite;
  let ledger: Ledger;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'seamline-ledger-'));
    db = openSqlite(path.join(dir, 'seamline.db'), { synchronous: 'FULL', busyTimeoutMs: 1000 });
    ledger = new Ledger(db);
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fold keeps the max (version, event time, seq) per id, is idempotent and order-independent; deletes stick against lower versions; a higher version resurrects', () => {
    const events = [
      ev('a', 2, 10, 1),
      ev('a', 1, 99, 2),
      ev('b', 1, 5, 3),
      ev('b', 1, 6, 4),
      ev('c', 3, 1, 5, 'delete'),
      ev('c', 2, 9, 6),
    ];
    ledger.fold(events);
    const once = ledger.keyStates(['a', 'b', 'c']);
    ledger.fold([...events].reverse());
    ledger.fold(events);
    assert.deepEqual(ledger.keyStates(['a', 'b', 'c']), once);
    assert.equal(once.get('a')!.version, 2);
    assert.equal(once.get('b')!.seq, 4);
    assert.equal(once.get('c')!.deleted, true);
    ledger.fold([ev('c', 4, 0, 7)]);
    assert.equal(ledger.keyStates(['c']).get('c')!.deleted, false);
    assert.deepEqual(ledger.keyStateCounts(), { ids: 3, live: 3, deleted: 0 });
  });

  it('the unsafe last-wins fold (test-only) lets a lower version overwrite', () => {
    ledger.fold([ev('u', 5, 1, 10), ev('u', 1, 1, 11)], true);
    assert.equal(ledger.keyStates(['u']).get('u')!.version, 1);
  });

  it('batches: deterministic id, planned → committed once, a pending batch is re-run with the same range, versions rebase after a reconcile', () => {
    // A published file of records 1..5 that the table has seen (normally: discover()).
    db.prepare(
      `INSERT INTO file_progress (table_name, file_id, lane, reason, seq_from, seq_to, records, complete_at_ms, landed_at_ms, queued_at_ms, planned_to, committed_to) VALUES ('t_v1', 1, 'live', 'fresh', 1, 5, 5, 0, 0, 0, 0, 0)`,
    ).run();
    const seg = [{ fileId: 1, seqFrom: 1, seqTo: 5, records: 5 }];
    const b = ledger.plan('t_v1', 'live', seg, 'm', '1', 1000);
    assert.equal(b.batchId, batchIdFor('t_v1', 1, 5));
    assert.equal(b.batchId, 't_v1:1-5');
    assert.equal(b.lane, 'live');
    assert.throws(() => ledger.plan('t_v1', 'live', seg, 'm', '1', 1001), /UNIQUE|already planned/);
    ledger.fail(b.batchId, 'GATE_FAILED: x');
    assert.equal(ledger.pendingBatch('t_v1')!.seqTo, 5);
    ledger.markAttempt(b.batchId);
    assert.equal(ledger.batch(b.batchId)!.attempts, 2);
    ledger.commit(
      b.batchId,
      7,
      {
        recordsIn: 5,
        idsTouched: 3,
        rowsInserted: 3,
        rowsUpdated: 0,
        rowsDeleted: 0,
        textsEmbedded: 3,
        textsReused: 0,
      },
      1002,
    );
    assert.throws(
      () =>
        ledger.commit(
          b.batchId,
          8,
          {
            recordsIn: 5,
            idsTouched: 3,
            rowsInserted: 0,
            rowsUpdated: 0,
            rowsDeleted: 0,
            textsEmbedded: 0,
            textsReused: 0,
          },
          1003,
        ),
      /not in a committable state/,
    );
    assert.equal(ledger.pendingBatch('t_v1'), null);
    assert.equal(ledger.lanes().progress('t_v1', 1)!.committedTo, 5);
    assert.equal(ledger.lastCommittedVersion('t_v1'), 7);
    assert.deepEqual(
      ledger.committedAbove('t_v1', 6).map((x) => x.batchId),
      ['t_v1:1-5'],
    );
    assert.equal(ledger.rebaseVersions('t_v1', 6, 4), 1);
    assert.equal(ledger.lastCommittedVersion('t_v1'), 4);
    assert.deepEqual(ledger.recentOutputs('t_v1', 5), [{ recordsIn: 5, rowsOut: 3 }]);
  });

  it('incidents: one open incident per (batch, failure mode), closed when the batch commits', () => {
    const inc = ledger.incidents();
    const a = inc.record({
      atMs: 1,
      pipeline: 'p',
      runId: 'r1',
      batchId: 'B',
      failureMode: 'quarantine_ratio',
      affectedRows: 9,
      guard: 'g',
      message: 'm',
    });
    const b = inc.record({
      atMs: 2,
      pipeline: 'p',
      runId: 'r2',
      batchId: 'B',
      failureMode: 'quarantine_ratio',
      affectedRows: 10,
      guard: 'g',
      message: 'm',
    });
    assert.equal(a.incidentId, b.incidentId);
    assert.equal(b.runId, 'r2');
    assert.equal((b.detail as { attempts: number }).attempts, 2);
    assert.equal(inc.openCount(), 1);
    assert.equal(inc.close('B', 'waived', 3), 1);
    assert.equal(inc.list()[0]!.status, 'waived');
    assert.equal(inc.openCount(), 0);
  });

  it('replays: planned → committed, ids deterministic per table and kind', () => {
    const r = ledger.replays();
    const p = r.plan('t_v1', 'reconcile', { fromVersion: 3, ledgerVersion: 5 }, 1);
    assert.equal(p.replayId, 't_v1:reconcile:1');
    assert.equal(r.pending('t_v1', 'reconcile')!.fromVersion, 3);
    r.commit(
      p.replayId,
      6,
      { idsTouched: 1, rowsInserted: 1, rowsUpdated: 0, rowsDeleted: 0, textsEmbedded: 1, textsReused: 0 },
      2,
    );
    assert.equal(r.pending('t_v1', 'reconcile'), null);
    assert.equal(r.plan('t_v1', 'reconcile', {}, 3).replayId, 't_v1:reconcile:2');
  });
});
