import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ContractRecord } from '../../../src/contract/types.js';
import type { FileRow, FileState, QuarantineEntry } from '../../../src/ports/bronze.js';
import type { Lane } from '../../../src/ports/ledger.js';
import { BronzeSql } from '../../../src/store/sqlite/bronze.js';
import { openSqlite, type Sqlite } from '../../../src/store/sqlite/db.js';
import { LedgerSql } from '../../../src/store/sqlite/ledger.js';

/** A landing file over the synchronous SQLite core: each record its own slice (the tests interleave files). */
class LandingWriter {
  private seqFrom: number | null = null;
  private seqTo: number | null = null;
  private landed = 0;
  private quarantined = 0;
  constructor(
    private readonly bronze: BronzeSql,
    readonly fileId: number,
  ) {}
  addRecord(r: ContractRecord, line: number, offset: number): void {
    const x = this.bronze.landSlice(this.fileId, [{ rec: r, line, offset }], [], 0);
    this.seqFrom ??= x.seqFrom;
    this.seqTo = x.seqTo;
    this.landed += 1;
  }
  addQuarantine(q: QuarantineEntry): void {
    this.bronze.landSlice(this.fileId, [], [q], 0);
    this.quarantined += 1;
  }
  flush(): void {}
  finish(state: Exclude<FileState, 'landing'>, detail: string | null, newFields: readonly string[]): FileRow {
    const c = { read: this.landed + this.quarantined, landed: this.landed, quarantined: this.quarantined };
    return this.bronze.finishFile(this.fileId, state, detail, c, this.seqFrom, this.seqTo, newFields);
  }
}

const rec = (id: string, version = 1): ContractRecord => ({
  id,
  version,
  eventTime: '2026-01-01T00:00:00.000Z',
  eventTimeMs: Date.UTC(2026, 0, 1),
  op: 'upsert',
  text: `text ${id}`,
  metadata: {},
});
const counts = {
  recordsIn: 0,
  idsTouched: 0,
  rowsInserted: 0,
  rowsUpdated: 0,
  rowsDeleted: 0,
  textsEmbedded: 0,
  textsReused: 0,
};

describe('lane ledger: per-file progress over interleaved bronze (real SQLite)', () => {
  let dir: string;
  let db: Sqlite;
  let bronze: BronzeSql;
  let ledger: LedgerSql;
  let n = 0;
  const begin = (name: string, mtimeMs = 0): LandingWriter =>
    new LandingWriter(
      bronze,
      bronze.beginFile(
        {
          path: name,
          sha256: `sha-${++n}`,
          size: 1,
          mtimeMs,
          format: 'jsonl',
          manifestJson: null,
          manifestSha256: null,
        },
        1000 + n,
      ),
    );
  /** Adds a record and writes it at once, so two files landing concurrently interleave their seqs. */
  const add = (w: LandingWriter, id: string): void => {
    w.addRecord(rec(id), 1, 0);
    w.flush();
  };
  const classify = (lane: Lane) => () => ({ lane, reason: 'fresh' as const, completeAtMs: 0 });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'seamline-lanes-'));
    db = openSqlite(path.join(dir, 'seamline.db'), { synchronous: 'FULL', busyTimeoutMs: 1000 });
    bronze = new BronzeSql(db);
    ledger = new LedgerSql(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a file still landing holds the cursor, not the files published after it; segments read only their file', () => {
    const big = begin('big.jsonl');
    const small = begin('small.jsonl');
    add(big, 'b1'); // seq 1
    add(small, 's1'); // seq 2
    add(big, 'b2'); // seq 3
    add(small, 's2'); // seq 4
    small.finish('unverified', null, []);
    const lanes = ledger.lanes();
    assert.equal(
      lanes.discover('t', 5000, classify('live')),
      1,
      'the published small file, not the landing one',
    );
    const [p] = lanes.openFiles('t', 'live', 10);
    assert.deepEqual([p!.fileId, p!.seqFrom, p!.seqTo, p!.records], [small.fileId, 2, 4, 2]);
    assert.equal(lanes.watermark('t'), 0, 'seq 1 (a landing file) is not published, seq 2 not committed');
    const b = ledger.plan(
      't',
      'live',
      [{ fileId: small.fileId, seqFrom: 2, seqTo: 4, records: 2 }],
      'm',
      '1',
      6000,
    );
    assert.deepEqual(
      lanes.eventsForSegments(lanes.segments(b.batchId)).map((e) => e.id),
      ['s1', 's2'],
      'the segment 2..4 of the small file skips seq 3 of the big one',
    );
    const done = ledger.inTransaction(() => ledger.commit(b.batchId, 1, counts, 7000));
    assert.deepEqual(
      done.map((d) => [d.fileId, d.lane, d.plannedAtMs, d.searchableAtMs]),
      [[small.fileId, 'live', 6000, 7000]],
    );
    const committed = lanes.committedPredicate('t');
    assert.equal(committed(2), true);
    assert.equal(committed(3), false, 'seq 3 is the big file, still landing');
    assert.equal(committed(4), true);
    // The big file publishes later: discovered then, in the backlog lane, and sliced.
    add(big, 'b3'); // seq 5
    big.finish('unverified', null, []);
    assert.equal(lanes.discover('t', 8000, classify('backlog')), 1);
    const [q] = lanes.openFiles('t', 'backlog', 10);
    assert.deepEqual([q!.seqFrom, q!.seqTo, q!.records], [1, 5, 3]);
    assert.equal(lanes.nthSeqAfter(big.fileId, 0, 2), 3);
    const s1 = ledger.plan(
      't',
      'backlog',
      [{ fileId: big.fileId, seqFrom: 1, seqTo: 3, records: 2 }],
      'm',
      '1',
      9000,
    );
    assert.throws(
      () =>
        ledger.plan(
          't',
          'backlog',
          [{ fileId: big.fileId, seqFrom: 3, seqTo: 5, records: 2 }],
          'm',
          '1',
          9001,
        ),
      /already planned past seq 3/,
      'a file is planned in its own seq order, never twice',
    );
    assert.deepEqual(lanes.backlog('t').backlog, { files: 1, records: 3, oldestQueuedAtMs: 8000 });
    assert.deepEqual(
      ledger.inTransaction(() => ledger.commit(s1.batchId, 2, counts, 9500)),
      [],
      'not whole yet',
    );
    // A lower bound: the big file's committed mark (3); seq 4 (small, committed) is above it, seq 5 is not committed.
    assert.equal(lanes.watermark('t'), 3);
    assert.equal(lanes.committedPredicate('t')(4), true);
    assert.equal(lanes.committedPredicate('t')(5), false);
    const s2 = ledger.plan(
      't',
      'backlog',
      [{ fileId: big.fileId, seqFrom: 5, seqTo: 5, records: 1 }],
      'm',
      '1',
      9600,
    );
    assert.equal(ledger.inTransaction(() => ledger.commit(s2.batchId, 3, counts, 9700)).length, 1);
    assert.equal(lanes.watermark('t'), 5);
    assert.deepEqual(lanes.backlog('t').backlog, { files: 0, records: 0, oldestQueuedAtMs: null });
    assert.equal(lanes.commitMark('t'), 3);
    assert.deepEqual(lanes.idsCommittedBetween('t', 1, 3), ['b1', 'b2', 'b3']);
    assert.deepEqual(ledger.idsOfCommittedAbove('t', 1), ['b1', 'b2', 'b3']);
    assert.deepEqual(
      lanes.recentSearchable('t', 0).map((f) => [f.fileId, f.searchableAtMs, f.plannedAtMs]),
      [
        [small.fileId, 7000, 6000],
        [big.fileId, 9700, 9600],
      ],
    );
  });

  it('a reindex gets the serving table’s committed prefix per file, and continues with the rest', () => {
    const a = begin('a.jsonl');
    for (const id of ['a1', 'a2', 'a3']) add(a, id);
    a.finish('unverified', null, []);
    const lanes = ledger.lanes();
    lanes.discover('old', 1, classify('backlog'));
    const b = ledger.plan(
      'old',
      'backlog',
      [{ fileId: a.fileId, seqFrom: 1, seqTo: 2, records: 2 }],
      'm',
      '1',
      2,
    );
    ledger.inTransaction(() => ledger.commit(b.batchId, 5, counts, 3));
    ledger.inTransaction(() => lanes.copyCoverage('old', 'new', 'new:reindex:1', 4));
    const p = lanes.progress('new', a.fileId)!;
    assert.deepEqual([p.plannedTo, p.committedTo, p.plannedRecords], [2, 2, 2]);
    assert.deepEqual(lanes.segments('new:reindex:1'), [
      { fileId: a.fileId, seqFrom: 1, seqTo: 2, records: 2 },
    ]);
    assert.deepEqual(
      lanes.openFiles('new', 'backlog', 5).map((f) => f.fileId),
      [a.fileId],
    );
  });

  it('a file of only quarantined lines passes through one empty segment (the quarantine gate counts it)', () => {
    const q = begin('bad.jsonl');
    q.addQuarantine({
      line: 1,
      offset: 0,
      code: 'ZONELESS_TIMESTAMP',
      field: 'event_time',
      message: 'x',
      raw: '{}',
    });
    q.finish('unverified', null, []);
    const lanes = ledger.lanes();
    lanes.discover('t', 1, classify('live'));
    const [f] = lanes.openFiles('t', 'live', 5);
    assert.deepEqual([f!.records, f!.seqFrom, f!.seqTo], [0, 0, 0]);
    const b = ledger.plan(
      't',
      'live',
      [{ fileId: f!.fileId, seqFrom: 0, seqTo: 0, records: 0 }],
      'm',
      '1',
      2,
    );
    assert.equal(b.batchId, `t:f${f!.fileId}`);
    assert.deepEqual(ledger.batchInputFiles(b.batchId), { files: 1, read: 1, quarantined: 1 });
    ledger.inTransaction(() => ledger.commit(b.batchId, 1, counts, 3));
    assert.equal(lanes.openFiles('t', 'live', 5).length, 0);
  });
});
