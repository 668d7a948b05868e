import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isSeamlineError } from '../../../src/errors/errors.js';
import type { Stores } from '../../../src/ports/stores.js';
import { openSqliteStores } from '../../../src/store/sqlite/open.js';

const counts = {
  recordsIn: 1,
  idsTouched: 1,
  rowsInserted: 1,
  rowsUpdated: 0,
  rowsDeleted: 0,
  textsEmbedded: 1,
  textsReused: 0,
};
const rec = (id: string) => ({
  id,
  version: 1,
  eventTime: '2026-01-01T00:00:00.000Z',
  eventTimeMs: Date.UTC(2026, 0, 1),
  op: 'upsert' as const,
  text: `text ${id}`,
  metadata: {},
});
const isConflict = (e: unknown): boolean => isSeamlineError(e) && e.code === 'LEDGER_CONFLICT';

// The atomic moves the ports added over the SQLite adapter (real SQLite file): each is one transaction,
// and a refused one writes nothing.
describe('SQLite adapters behind the ports: atomic methods (real SQLite)', () => {
  let dir: string;
  let s: Stores;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'seamline-ports-'));
    s = openSqliteStores(path.join(dir, 'seamline.db'), { synchronous: 'NORMAL', busyTimeoutMs: 1000 });
  });
  afterEach(async () => {
    await s.close();
    await s.close(); // idempotent
    rmSync(dir, { recursive: true, force: true });
  });

  /** Lands one published file of `ids` through the bronze port and lets the table discover it. */
  const landAndPlan = async (ids: string[]) => {
    const w = await s.bronze.beginFile(
      {
        path: 'a.jsonl',
        sha256: 'x',
        size: 1,
        mtimeMs: 0,
        format: 'jsonl',
        manifestJson: null,
        manifestSha256: null,
      },
      1,
    );
    for (const [i, id] of ids.entries()) await w.addRecord(rec(id), i + 1, i);
    const f = await w.finish('unverified', null, []);
    await s.ledger.lanes().discover('t', 2, () => ({ lane: 'live', reason: 'fresh', completeAtMs: 1 }));
    const seg = { fileId: f.fileId, seqFrom: f.seqFrom!, seqTo: f.seqTo!, records: ids.length };
    return s.ledger.plan('t', 'live', [seg], 'm', '1', 3);
  };

  it('bronze: records stay invisible until finish publishes the file; totals agree', async () => {
    const w = await s.bronze.beginFile(
      {
        path: 'b.jsonl',
        sha256: 'y',
        size: 1,
        mtimeMs: 0,
        format: 'jsonl',
        manifestJson: null,
        manifestSha256: null,
      },
      1,
    );
    await w.addRecord(rec('a'), 1, 0);
    await w.flush();
    assert.equal(await s.bronze.publishedUpTo(), 0, 'a landing file holds the published mark');
    const f = await w.finish('unverified', null, []);
    assert.equal(await s.bronze.publishedUpTo(), f.seqTo);
    assert.deepEqual(
      { ...(await s.bronze.totals()), files: undefined },
      { files: undefined, read: 1, landed: 1, quarantined: 0, withheld: 0, bronzeRecords: 1 },
    );
  });

  it('commit closes the batch incidents in the same transaction; a second commit is refused and writes nothing', async () => {
    const b = await landAndPlan(['a']);
    await s.ledger.incidents().record({
      atMs: 4,
      pipeline: 'p',
      runId: 'r',
      batchId: b.batchId,
      failureMode: 'output_anomaly',
      affectedRows: 1,
      guard: 'g',
      message: 'm',
    });
    const done = await s.ledger.commit(b.batchId, 7, counts, 5, 'waived');
    assert.equal(done.length, 1, 'the file became searchable');
    assert.deepEqual(
      (await s.ledger.incidents().list(5)).map((i) => i.status),
      ['waived'],
    );
    await s.ledger.incidents().record({
      atMs: 6,
      pipeline: 'p',
      runId: 'r',
      batchId: b.batchId,
      failureMode: 'merge_mismatch',
      affectedRows: 0,
      guard: 'g',
      message: 'm',
    });
    await assert.rejects(s.ledger.commit(b.batchId, 8, counts, 9), isConflict);
    assert.equal(await s.ledger.incidents().openCount(), 1, 'the refused commit closed nothing');
    assert.equal((await s.ledger.batch(b.batchId))!.tableVersion, 7);
  });

  it('a lost plan race is a retryable LEDGER_CONFLICT and writes nothing', async () => {
    const b = await landAndPlan(['a', 'b']);
    const seg = (await s.ledger.lanes().segments(b.batchId))[0]!;
    await assert.rejects(
      s.ledger.plan('t', 'backlog', [{ ...seg, seqFrom: seg.seqFrom + 1 }], 'm', '1', 4),
      (e: unknown) => isConflict(e) && isSeamlineError(e) && e.retryable,
    );
    assert.equal((await s.ledger.batches('t')).length, 1);
  });

  it('reconcile commit re-points the lost batches and commits the run together', async () => {
    const b = await landAndPlan(['a']);
    await s.ledger.commit(b.batchId, 9, counts, 5);
    const run = await s.ledger.replays().plan('t', 'reconcile', { fromVersion: 4, ledgerVersion: 9 }, 6);
    await s.ledger.replays().commitReconcile(run.replayId, 't', 4, 5, { ...counts }, 7);
    assert.equal(await s.ledger.lastCommittedVersion('t'), 5);
    assert.equal((await s.ledger.replays().get(run.replayId))!.state, 'committed');
  });

  it('registerServing serves the first table once; a second one is refused without registering', async () => {
    await s.tables.registerServing('t_v1', 'm', 4, '1', 1);
    assert.equal((await s.tables.serving())!.tableName, 't_v1');
    await assert.rejects(s.tables.registerServing('t_v2', 'm', 4, '1', 2), isConflict);
    assert.equal(await s.tables.get('t_v2'), null);
    assert.equal(await s.tables.nextName('t'), 't_v2');
  });

  it('a failing statement is a rejected promise, never a synchronous throw', async () => {
    const p = s.tables.register('t_v1', 'm', 4, '1', 'building', 1);
    await p;
    const again = s.tables.register('t_v1', 'm', 4, '1', 'building', 1);
    assert.ok(again instanceof Promise);
    await assert.rejects(again);
  });
});
