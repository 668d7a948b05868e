import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqlite, type Sqlite } from '../../../src/store/sqlite/db.js';
import { ActivityHistory } from '../../../src/observability/history.js';
import { SqliteReadModel } from '../../../src/store/sqlite/read-model.js';

// Real SQLite with the real migrations; rows written as the loader and processor write them.
describe('activity read models (real SQLite)', () => {
  let dir: string;
  let db: Sqlite;
  let rm: SqliteReadModel;
  const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'seamline-activity-'));
    db = openSqlite(path.join(dir, 'seamline.db'), { synchronous: 'NORMAL', busyTimeoutMs: 1000 });
    rm = new SqliteReadModel(db);
    const file = db.prepare(
      `INSERT INTO files (path, sha256, size, mtime_ms, format, state, records_read, records_landed, records_quarantined, seq_from, seq_to, landed_at_ms)
       VALUES (?, 'x', 1, 0, 'jsonl', ?, ?, ?, ?, ?, ?, ?)`,
    );
    file.run('a.jsonl', 'verified', 4, 4, 0, 1, 4, T0);
    file.run('b.jsonl', 'unverified', 3, 2, 1, 5, 6, T0 + 1000);
    const bronze = db.prepare(
      `INSERT INTO bronze (file_id, line, byte_offset, record_id, version, event_time, event_time_ms, op, text, metadata_json, landed_at_ms)
       VALUES (?, ?, 0, ?, 1, '2024-01-01T00:00:00Z', 0, 'upsert', 't', '{}', ?)`,
    );
    for (let i = 1; i <= 4; i++) bronze.run(1, i, `a${i}`, T0);
    for (let i = 1; i <= 2; i++) bronze.run(2, i, `b${i}`, T0 + 1000);
    db.prepare(
      `INSERT INTO quarantine (file_id, line, byte_offset, code, field, message, raw, at_ms) VALUES (2, 3, 99, 'MALFORMED_JSON', NULL, 'bad', ?, ?)`,
    ).run('x'.repeat(10_000), T0 + 1000);
    const batch = db.prepare(
      `INSERT INTO batches (batch_id, table_name, seq_from, seq_to, state, planned_at_ms, committed_at_ms, records_in, model_id, pipeline_version, lane)
       VALUES (?, 't1', ?, ?, ?, ?, ?, ?, 'm', 'p', ?)`,
    );
    batch.run('t1:1-4', 1, 4, 'committed', T0 + 100, T0 + 2100, 4, 'backlog');
    batch.run('t1:5-6', 5, 6, 'planned', T0 + 2000, null, 2, 'live');
    // What the lanes ledger records per file: segments of each batch and each file's progress.
    const seg = db.prepare(
      'INSERT INTO batch_segments (batch_id, file_id, seq_from, seq_to, records) VALUES (?, ?, ?, ?, ?)',
    );
    seg.run('t1:1-4', 1, 1, 4, 4);
    seg.run('t1:5-6', 2, 5, 6, 2);
    const progress = db.prepare(
      `INSERT INTO file_progress (table_name, file_id, lane, reason, seq_from, seq_to, records, complete_at_ms, landed_at_ms,
         queued_at_ms, planned_to, planned_records, committed_to, committed_records, searchable_at_ms)
       VALUES ('t1', ?, ?, 'test', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    progress.run(1, 'backlog', 1, 4, 4, T0, T0, T0, 4, 4, 4, 4, T0 + 2100);
    progress.run(2, 'live', 5, 6, 2, T0 + 1000, T0 + 1000, T0 + 1000, 6, 2, 4, 0, null);
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('files: newest first, published counts from committed batches, landing → searchable only when complete', async () => {
    const f = await rm.recentFiles({ table: 't1' });
    assert.deepEqual(
      f.map((x) => [x.path, x.published, x.landToSearchableMs, x.withheld, x.lane]),
      [
        ['b.jsonl', 0, null, 0, 'live'],
        ['a.jsonl', 4, 2100, 0, 'backlog'],
      ],
    );
    assert.equal((await rm.recentFiles({ limit: 1 })).length, 1);
  });

  it('batches: lane, duration (null until committed), filter by state', async () => {
    const b = await rm.recentBatches({});
    assert.deepEqual(
      b.map((x) => [x.batchId, x.lane, x.durationMs]),
      [
        ['t1:5-6', 'live', null],
        ['t1:1-4', 'backlog', 2000],
      ],
    );
    assert.deepEqual(
      (await rm.recentBatches({ state: 'committed' })).map((x) => x.batchId),
      ['t1:1-4'],
    );
  });

  it('quarantine: a 10,000-character raw line is bounded in the listing and reports its length', async () => {
    const q = await rm.listQuarantine({ file: 'b.json' });
    assert.equal(q.total, 1);
    assert.equal(q.entries[0]!.rawChars, 10_000);
    assert.equal(q.entries[0]!.excerpt.length, 160);
    assert.equal(q.entries[0]!.truncated, true);
    assert.equal((await rm.listQuarantine({ file: 'a.jsonl' })).total, 0);
    assert.equal((await rm.listQuarantine({ sinceMs: T0 + 1001 })).total, 0);
  });

  it('history: folds each committed batch once, per minute and per lane', async () => {
    const h = new ActivityHistory();
    await h.update(rm, 't1', T0 + 60_000);
    await h.update(rm, 't1', T0 + 60_000);
    const v = h.view(T0 + 60_000);
    const m = v.minutes.filter((x) => x.records > 0);
    assert.equal(m.length, 1);
    assert.equal(m[0]!.records, 4, 'counted once across two updates');
    assert.equal(m[0]!.maxFreshSeconds, 2.1);
    assert.deepEqual(m[0]!.byLane, { backlog: 4 });
  });
});
