import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isSeamlineError } from '../../../src/errors/errors.js';
import type { Stores } from '../../../src/ports/stores.js';
import { openPgStores } from '../../../src/store/postgres/open.js';
import { openSqliteStores } from '../../../src/store/sqlite/open.js';
import { PG_TEST_OPTIONS, scratchDatabase, type ScratchDatabase } from '../../helpers/postgres.js';

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

type Kind = 'sqlite' | 'postgres';

/** A fresh store of each kind: a real SQLite file in a tmpdir, or a new database on the real test server. */
async function openFresh(kind: Kind): Promise<{ s: Stores; cleanup: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'seamline-ports-'));
    const s = openSqliteStores(path.join(dir, 'seamline.db'), { synchronous: 'NORMAL', busyTimeoutMs: 1000 });
    return {
      s,
      cleanup: () => {
        rmSync(dir, { recursive: true, force: true });
        return Promise.resolve();
      },
    };
  }
  const scratch: ScratchDatabase = await scratchDatabase();
  try {
    const s = (await openPgStores({ ...PG_TEST_OPTIONS, url: scratch.url }))!;
    return { s, cleanup: () => scratch.drop() };
  } catch (e) {
    await scratch.drop();
    throw e;
  }
}

// One adapter suite, run against both stores (issue 16): the same calls, the same expected answers. The
// atomic moves are one transaction each, and a refused one writes nothing.
for (const kind of ['sqlite', 'postgres'] as const)
  describe(`store adapters behind the ports: ${kind} (real ${kind === 'sqlite' ? 'SQLite file' : 'PostgreSQL'})`, () => {
    let s: Stores;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ s, cleanup } = await openFresh(kind));
    });
    afterEach(async () => {
      await s?.close();
      await s?.close(); // idempotent
      await cleanup?.();
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

    /** Lands one file of `ids` (and quarantined `bad` lines); `publish` false leaves it landing. */
    const land = async (
      name: string,
      ids: string[],
      opts: { bad?: string[]; publish?: boolean; at?: number } = {},
    ) => {
      const w = await s.bronze.beginFile(
        {
          path: name,
          sha256: `sha-${name}`,
          size: 10,
          mtimeMs: 0,
          format: 'jsonl',
          manifestJson: null,
          manifestSha256: null,
        },
        opts.at ?? 1,
      );
      for (const [i, id] of ids.entries()) await w.addRecord(rec(id), i + 1, i * 10);
      for (const [i, raw] of (opts.bad ?? []).entries())
        await w.addQuarantine({
          line: ids.length + i + 1,
          offset: 0,
          code: 'MISSING_FIELD',
          field: 'id',
          message: 'id is missing',
          raw,
        });
      if (opts.publish === false) {
        await w.flush();
        return null;
      }
      return w.finish('unverified', null, []);
    };
    const live = () => ({ lane: 'live' as const, reason: 'fresh' as const, completeAtMs: 1 });
    const segOf = (f: {
      fileId: number;
      seqFrom: number | null;
      seqTo: number | null;
      recordsLanded: number;
    }) => ({
      fileId: f.fileId,
      seqFrom: f.seqFrom!,
      seqTo: f.seqTo!,
      records: f.recordsLanded,
    });

    it('lanes: discover adds each published file once; a landing file holds the watermark; commit moves it', async () => {
      const a = (await land('a.jsonl', ['a1', 'a2']))!;
      await land('b.jsonl', ['b1'], { publish: false });
      const c = (await land('c.jsonl', ['c1', 'c2', 'c3']))!;
      const seen: number[] = [];
      const added = await s.ledger.lanes().discover('t', 5, (f, q) => {
        seen.push(q);
        return { lane: f.records > 2 ? 'backlog' : 'live', reason: 'fresh', completeAtMs: 4 };
      });
      assert.equal(added, 2);
      assert.deepEqual(seen, [0, 2], 'the classifier sees the live queue grow');
      assert.equal(await s.ledger.lanes().discover('t', 6, live), 0, 'discovered once');
      const L = s.ledger.lanes();
      assert.deepEqual(
        (await L.openFiles('t', 'live', 10)).map((p) => [p.fileId, p.plannedTo, p.seqTo]),
        [[a.fileId, a.seqFrom! - 1, a.seqTo]],
      );
      assert.equal(await L.unplannedRecords('t', 'backlog'), 3);
      assert.deepEqual(await L.backlog('t'), {
        live: { files: 1, records: 2, oldestQueuedAtMs: 5 },
        backlog: { files: 1, records: 3, oldestQueuedAtMs: 5 },
      });
      assert.deepEqual(await L.undiscovered('t'), { files: 0, records: 0 });
      assert.equal(await L.nthSeqAfter(c.fileId, c.seqFrom!, 2), c.seqFrom! + 2);
      assert.equal(await L.nthSeqAfter(c.fileId, c.seqFrom!, 3), null);
      assert.equal(await L.watermark('t'), 0, 'nothing committed');
      const b1 = await s.ledger.plan('t', 'live', [segOf(a)], 'm', '1', 7);
      assert.deepEqual(await s.ledger.pendingBatch('t', 'live'), b1);
      const done = await s.ledger.commit(b1.batchId, 3, counts, 8);
      assert.deepEqual(
        done.map((d) => [d.fileId, d.lane, d.records, d.plannedAtMs, d.searchableAtMs]),
        [[a.fileId, 'live', 2, 7, 8]],
      );
      assert.equal(
        await L.watermark('t'),
        a.seqTo,
        'the landing file b holds the watermark below its records',
      );
      assert.equal(await s.ledger.committedUpTo('t'), a.seqTo);
      assert.deepEqual(await L.markAndWatermark('t'), { mark: 1, watermark: a.seqTo });
      assert.equal(await L.commitMark('t'), 1);
      assert.deepEqual(await L.idsCommittedBetween('t', 0, 1), ['a1', 'a2']);
      assert.deepEqual(await L.idsCommittedBetween('t', 1, 1), []);
      assert.deepEqual(
        (await L.recentSearchable('t', 8)).map((r) => [r.fileId, r.plannedAtMs]),
        [[a.fileId, 7]],
      );
      assert.deepEqual(
        (await L.eventsForSegments([segOf(c), segOf(a)])).map((e) => e.id),
        ['a1', 'a2', 'c1', 'c2', 'c3'],
      );
      assert.deepEqual(
        (await L.publishedEventsInRange(0, 1000)).map((e) => e.id),
        ['a1', 'a2', 'c1', 'c2', 'c3'],
        'the landing file b is not published',
      );
      assert.deepEqual(await L.inputFiles(b1.batchId), { files: 1, read: 2, quarantined: 0 });
      const b2 = await s.ledger.plan('t', 'backlog', [segOf(c)], 'm', '1', 9);
      await s.ledger.commit(b2.batchId, 4, { ...counts, recordsIn: 3, rowsInserted: 3 }, 10);
      assert.equal(await L.watermark('t'), a.seqTo, 'still held by the landing file');
      assert.equal((await L.progress('t', c.fileId))!.committedTo, c.seqTo);
      assert.equal(await s.ledger.lastCommittedVersion('t'), 4);
    });

    it('ledger listings: batches, totals, recent outputs, committed above a version', async () => {
      const a = (await land('a.jsonl', ['x', 'y']))!;
      const c = (await land('c.jsonl', ['z']))!;
      await s.ledger.lanes().discover('t', 2, live);
      const b1 = await s.ledger.plan('t', 'live', [segOf(a)], 'm', '1', 3);
      const b2 = await s.ledger.plan('t', 'live', [segOf(c)], 'm', '1', 4);
      await s.ledger.commit(b1.batchId, 5, { ...counts, recordsIn: 2, rowsInserted: 2, textsEmbedded: 2 }, 6);
      await s.ledger.markAttempt(b2.batchId);
      await s.ledger.fail(b2.batchId, 'boom');
      assert.deepEqual(
        (await s.ledger.batches('t')).map((b) => [b.batchId, b.state, b.attempts, b.error]),
        [
          [b2.batchId, 'failed', 2, 'boom'],
          [b1.batchId, 'committed', 1, null],
        ],
      );
      assert.deepEqual(await s.ledger.batchTotals('t'), {
        committed: 1,
        failed: 1,
        rowsInserted: 2,
        rowsUpdated: 0,
        rowsDeleted: 0,
        textsEmbedded: 2,
        textsReused: 0,
      });
      assert.deepEqual(await s.ledger.recentOutputs('t', 5), [{ recordsIn: 2, rowsOut: 2 }]);
      assert.deepEqual(
        (await s.ledger.committedAbove('t', 4)).map((b) => b.batchId),
        [b1.batchId],
      );
      assert.deepEqual(await s.ledger.idsOfCommittedAbove('t', 4), ['x', 'y']);
      assert.deepEqual(await s.ledger.idsOfCommittedAbove('t', 5), []);
      assert.deepEqual(await s.ledger.batchInputFiles(b2.batchId), { files: 1, read: 1, quarantined: 0 });
      await s.ledger.fold([
        { ...(await s.bronze.eventsInRange(0, 100))[0]!, version: 3 },
        ...(await s.bronze.eventsInRange(0, 100)),
      ]);
      assert.deepEqual(await s.ledger.keyStateCounts(), { ids: 3, live: 3, deleted: 0 });
      assert.equal((await s.ledger.keyStates(['x'])).get('x')!.version, 3, 'the highest version wins');
      const pages: string[][] = [];
      for await (const p of s.ledger.allKeyIds(2)) pages.push(p);
      assert.deepEqual(pages, [['x', 'y'], ['z']]);
    });

    it('read model: files, batches, quarantine listings and ledger counters', async () => {
      const a = (await land('in/a.jsonl', ['a1', 'a2'], { bad: ['{"no id": "é\u0001"}', 'x'.repeat(500)] }))!;
      await s.ledger.lanes().discover('t', 2, live);
      const b = await s.ledger.plan('t', 'live', [segOf(a)], 'm', '1', 3);
      await s.ledger.commit(b.batchId, 1, { ...counts, recordsIn: 2, rowsInserted: 2 }, 13);
      const rm = s.readModel;
      const [f] = await rm.recentFiles({ table: 't' });
      assert.deepEqual(
        { ...f, landedAtMs: undefined },
        {
          fileId: a.fileId,
          path: 'in/a.jsonl',
          format: 'jsonl',
          state: 'unverified',
          detail: null,
          read: 4,
          landed: 2,
          quarantined: 2,
          withheld: 0,
          landedAtMs: undefined,
          published: 2,
          publishedAtMs: 13,
          landToSearchableMs: 12,
          lane: 'live',
        },
      );
      assert.equal((await rm.recentFiles({}))[0]!.lane, null, 'without a table, no progress');
      const [bt] = await rm.recentBatches({ table: 't', state: 'committed' });
      assert.equal(bt!.batchId, b.batchId);
      assert.equal(bt!.durationMs, 10);
      assert.deepEqual(await rm.recentBatches({ state: 'failed' }), []);
      const q = await rm.listQuarantine({ file: 'a.json' });
      assert.equal(q.total, 2);
      assert.deepEqual(
        q.entries.map((e) => [e.code, e.rawChars, e.truncated, e.excerpt.length <= 170]),
        [
          ['MISSING_FIELD', 500, true, true],
          ['MISSING_FIELD', 15, false, true],
        ],
      );
      assert.equal(q.entries[1]!.excerpt, '{"no id": "é\\u{1}"}', 'escaped, multi-byte characters whole');
      assert.equal((await rm.listQuarantine({ code: 'OTHER' })).total, 0);
      const one = await rm.quarantineRecord(q.entries[0]!.qId);
      assert.equal(one!.excerpt, 'x'.repeat(500));
      assert.equal(await rm.quarantineRecord(999_999), null);
      assert.deepEqual(
        (await rm.quarantineByCode()).map((c) => [c.code, c.count]),
        [['MISSING_FIELD', 2]],
      );
      const c = await rm.ledgerCounters('t');
      assert.deepEqual(
        [
          c.batchesCommitted,
          c.batchesPending,
          c.recordsPublished,
          c.rowsInserted,
          c.backlogRecords,
          c.optimizeRuns,
        ],
        [1, 0, 2, 2, 0, 0],
      );
      assert.equal(c.newestPublishedEventTimeMs, Date.UTC(2026, 0, 1));
      const act = await rm.committedActivity('t', 0, new Set());
      assert.deepEqual(
        act.map((x) => [x.batchId, x.landed]),
        [[b.batchId, [{ landedAtMs: 1, records: 2 }]]],
      );
      assert.deepEqual((await rm.committedActivity('t', 0, new Set([b.batchId])))[0]!.landed, []);
      assert.deepEqual(await rm.committedBatchRanges('t'), [
        { batchId: b.batchId, seqFrom: a.seqFrom, seqTo: a.seqTo },
      ]);
      assert.deepEqual([...(await rm.committedAmong('t', [a.seqFrom!, a.seqTo! + 5]))], [a.seqFrom]);
      assert.deepEqual([...(await rm.idsInBronze(['a1', 'nope']))], ['a1']);
    });

    it('reindex store: create, progress, marks, and a swap only when still caught up (coverage copied)', async () => {
      const a = (await land('a.jsonl', ['a1', 'a2']))!;
      await s.tables.registerServing('docs_v1', 'm', 4, '1', 1);
      await s.ledger.lanes().discover('docs_v1', 2, live);
      const b = await s.ledger.plan('docs_v1', 'live', [segOf(a)], 'm', '1', 3);
      await s.ledger.commit(b.batchId, 2, counts, 4);
      await s.ledger.fold(await s.bronze.eventsInRange(0, 100));
      const R = s.reindexJobs;
      assert.deepEqual(await R.serving(), { tableName: 'docs_v1', modelId: 'm', dim: 4 });
      const job = await R.create(
        {
          tableBaseName: 'docs',
          onDisk: new Set(['docs_v2']),
          sourceTable: 'docs_v1',
          modelId: 'm2',
          dim: 8,
          pipelineVersion: '1',
          settingsKey: 'k',
        },
        5,
      );
      assert.deepEqual(
        [job.tableName, job.state, job.baseSeq, job.recordsTotal, job.attempts],
        ['docs_v3', 'building', 1, 2, 1],
      );
      assert.equal(await R.tableState('docs_v3'), 'building');
      assert.equal((await R.active())!.jobId, job.jobId);
      await R.progress(job.jobId, { cursorId: 'a2', recordsDone: 2, rateRps: 1.5 }, 6);
      await R.setGates(job.jobId, { ok: true }, 6);
      const got = (await R.get(job.jobId))!;
      assert.deepEqual([got.cursorId, got.recordsDone, got.rateRps, got.gates], ['a2', 2, 1.5, { ok: true }]);
      assert.equal((await R.resume(job.jobId, 7)).attempts, 2);
      assert.deepEqual(
        (await R.keyPage('', 10)).map((k) => k.id),
        ['a1', 'a2'],
      );
      assert.deepEqual(await R.sourceMarks('docs_v1'), { commitMark: 1, watermark: a.seqTo });
      const req = {
        jobId: job.jobId,
        tableName: 'docs_v3',
        sourceTable: 'docs_v1',
        caughtUpSeq: 0,
        tableVersion: 9,
        modelId: 'm2',
        pipelineVersion: '1',
        counters: { rowsWritten: 2, textsEmbedded: 2, textsReused: 0 },
      };
      assert.deepEqual(await R.swapIfUnchanged(req, 8), { kind: 'behind' });
      assert.deepEqual(await R.swapIfUnchanged({ ...req, caughtUpSeq: 1 }, 8), { kind: 'swapped' });
      assert.equal((await s.tables.serving())!.tableName, 'docs_v3');
      assert.equal((await R.latest())!.state, 'swapped');
      assert.equal(await s.ledger.lanes().watermark('docs_v3'), a.seqTo, 'coverage copied');
      assert.equal(await s.ledger.lastCommittedVersion('docs_v3'), 9);
      assert.deepEqual(await R.swapIfUnchanged({ ...req, caughtUpSeq: 1 }, 9), {
        kind: 'serving-moved',
        servingNow: 'docs_v3',
      });
      const other = await R.create(
        {
          ...{
            tableBaseName: 'docs',
            onDisk: new Set<string>(),
            sourceTable: 'docs_v3',
            modelId: 'm',
            dim: 4,
            pipelineVersion: '1',
            settingsKey: 'k',
          },
        },
        10,
      );
      await R.fail(other.jobId, 'gate', 11);
      assert.equal(await R.tableState(other.tableName), 'failed');
      assert.equal((await R.get(other.jobId))!.state, 'failed');
      assert.equal(await R.active(), null);
    });

    it('optimize runs: a stale run fails when the next begins; fields round-trip; registry and drops', async () => {
      const O = s.optimizeRuns;
      await O.begin('r1', 100, 0);
      await O.begin('r2', 200, 150);
      assert.equal((await O.get('r1'))!.status, 'failed');
      await O.update('r2', {
        status: 'ok',
        actions: ['compact'],
        reasons: [{ why: 'fragments' }],
        writerQuiet: true,
        conflicts: 2,
        rowsAfter: 10,
        tablesDropped: ['docs_v0'],
      });
      const r2 = (await O.get('r2'))!;
      assert.deepEqual(
        [
          r2.status,
          r2.actions,
          r2.reasons,
          r2.writerQuiet,
          r2.conflicts,
          r2.rowsAfter,
          r2.tablesDropped,
          r2.indexes,
        ],
        ['ok', ['compact'], [{ why: 'fragments' }], true, 2, 10, ['docs_v0'], []],
      );
      assert.equal(await O.get('nope'), null);
      await s.tables.register('docs_v1', 'm', 4, '1', 'retired', 1);
      await O.markDropped('docs_v1', 300);
      assert.deepEqual(await O.registry(), [
        { name: 'docs_v1', state: 'retired', retiredAtMs: null, droppedAtMs: 300 },
      ]);
      assert.equal((await s.readModel.ledgerCounters('t')).optimizeRuns, 2);
    });

    it('leases: one holder at a time, renew never steals, release only by the holder; lock wait settable', async () => {
      const L = s.leases;
      s.setLockWait(50);
      assert.equal(await L.tryAcquire('w', 'a', 1000, 0), true);
      assert.equal(await L.tryAcquire('w', 'b', 1000, 10), false);
      assert.equal(await L.renew('w', 'b', 1000, 10), false);
      assert.equal(await L.renew('w', 'a', 1000, 10), true);
      await L.release('w', 'b');
      assert.deepEqual(await L.holder('w', 20), { holder: 'a', expiresAtMs: 1010 });
      assert.equal(await L.tryAcquire('w', 'b', 1000, 1011), true, 'expired: free');
      await L.release('w', 'b');
      assert.equal(await L.liveHolder('w', 1012), null);
    });

    it('claims: a pending batch goes to one live worker at a time; a dead or expired claim is taken over', async () => {
      const a = (await land('a.jsonl', ['a1']))!;
      const c = (await land('c.jsonl', ['c1']))!;
      await s.ledger.lanes().discover('t', 2, live);
      const w1 = { owner: 'host-x:1', ttlMs: 1000 };
      const w2 = { owner: 'host-x:2', ttlMs: 1000 };
      await s.leases.tryAcquire('worker:host-x:1', 'host-x:1', 10_000, 0);
      await s.leases.tryAcquire('worker:host-x:2', 'host-x:2', 10_000, 0);
      const b1 = await s.ledger.plan('t', 'live', [segOf(a)], 'm', '1', 3, w1);
      const b2 = await s.ledger.plan('t', 'live', [segOf(c)], 'm', '1', 4);
      assert.equal((await s.ledger.claimPending('t', 'live', w1, 5))!.batchId, b1.batchId, 'its own claim');
      assert.equal(
        (await s.ledger.claimPending('t', 'live', w2, 5))!.batchId,
        b2.batchId,
        'a batch claimed by a live worker is skipped',
      );
      assert.equal(await s.ledger.claimPending('t', 'live', w1, 6).then((b) => b?.batchId), b1.batchId);
      assert.equal(await s.ledger.claimPending('t', 'backlog', w1, 6), null);
      // w1's claim expires (ttl 1000 from 6): w2 takes it over; so it does when w1's worker lease lapses.
      assert.equal((await s.ledger.claimPending('t', 'live', w2, 1007))!.batchId, b1.batchId);
      await s.ledger.commit(b1.batchId, 1, counts, 1008);
      await s.leases.release('worker:host-x:2', 'host-x:2');
      assert.equal((await s.ledger.claimPending('t', 'live', w1, 1009))!.batchId, b2.batchId, 'owner gone');
    });
  });
