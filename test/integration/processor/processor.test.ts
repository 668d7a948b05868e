import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { buildPipeline } from '../../../src/daemon/pipeline.js';
import { createLogger } from '../../../src/observability/logger.js';
import { Processor } from '../../../src/processor/processor.js';
import { contentHash, normalizeText, rowKeyOf } from '../../../src/processor/materialize-plan.js';
import type { VectorRow, VectorTable } from '../../../src/ports/vector-store.js';
import { noFaults } from '../../../src/runtime/fault.js';
import { openRuntime, type Runtime } from '../../../src/runtime/runtime.js';
import { openSqliteStoresFor } from '../../../src/store/open.js';
import type { Sqlite } from '../../../src/store/sqlite/db.js';
import { workspace, type Workspace } from '../../helpers/cli.js';

const MODEL = 'local/glove-sif-100d';
const WORDS =
  'river granite lantern orchard violin harbor comet meadow falcon copper glacier pepper castle desert engine forest'.split(
    ' ',
  );
const words = (n: number, shift = 0): string =>
  Array.from({ length: n }, (_, i) => WORDS[(i + shift) % WORDS.length]).join(' ');
const tagOf = (r: VectorRow): unknown => (JSON.parse(r.metadataJson) as { tag?: unknown }).tag;
const at = (s: number): string => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();

async function allRows(t: VectorTable): Promise<VectorRow[]> {
  const out: VectorRow[] = [];
  for await (const b of t.scanAll('all')) out.push(...b);
  return out.sort((a, b) => a.rowKey.localeCompare(b.rowKey));
}

describe('processor on real SQLite + LanceDB + model (in process)', () => {
  let ws: Workspace;
  let rt: Runtime;
  let db: Sqlite;
  let table: VectorTable;
  let processor: Processor;
  let fileNo = 0;

  /** Lands records straight into bronze (the landing stage has its own tests). */
  const land = async (records: Record<string, unknown>[], quarantined = 0): Promise<void> => {
    fileNo += 1;
    const w = await rt.bronze.beginFile(
      {
        path: `f${fileNo}.jsonl`,
        sha256: `sha-${fileNo}`,
        size: 1,
        mtimeMs: 0,
        format: 'jsonl',
        manifestJson: null,
        manifestSha256: null,
      },
      Date.now(),
    );
    for (const [i, r] of records.entries()) {
      const v = rt.contract.validate(r);
      assert.ok(v.ok, JSON.stringify(v));
      await w.addRecord(v.record, i + 1, i * 100);
    }
    for (let i = 0; i < quarantined; i++)
      await w.addQuarantine({
        line: records.length + i + 1,
        offset: 0,
        code: 'ZONELESS_TIMESTAMP',
        field: 'event_time',
        message: 'zone-less',
        raw: '{}',
      });
    await w.finish('unverified', null, []);
  };

  before(async () => {
    ws = workspace({
      chunking: { maxTokens: 12, overlapTokens: 3 },
      contract: { metadata: { tag: 'string' } },
      model: { id: MODEL },
      gates: { quarantineMinRecords: 4, maxQuarantineRatio: 0.5 },
    });
    const config = loadConfig({ file: ws.configFile, env: {} });
    const stores = openSqliteStoresFor(config);
    db = stores.db;
    rt = await openRuntime(config, createLogger('silent', 'itest', 'test'), { stores });
    table = (await rt.servingTable(true))!;
    processor = (await buildPipeline(rt, { fault: noFaults, unsafe: new Set() })).processor;
  });
  after(async () => {
    await rt?.close();
    ws?.cleanup();
  });

  it('every row carries complete, correct provenance (I7)', async () => {
    await land([
      { id: 'p1', version: 3, event_time: '2026-01-01T10:00:00+02:00', text: words(30), tag: 'x' },
      { id: 'p2', version: 1, event_time: at(1), text: 'short text', tag: 'y' },
    ]);
    const before = Date.now();
    const [b] = await processor.drain(table);
    assert.ok(b);
    const rows = await allRows(table);
    const p1 = rows.filter((r) => r.id === 'p1');
    assert.ok(p1.length >= 3, 'a 30-word text with 12-token chunks makes several chunks');
    const events = await rt.bronze.eventsInRange(b.batch.seqFrom, b.batch.seqTo);
    for (const r of rows) {
      const e = events.find((x) => x.id === r.id)!;
      assert.equal(r.rowKey, rowKeyOf(r.id, r.chunk));
      assert.equal(r.chunkCount, r.id === 'p1' ? p1.length : 1);
      assert.equal(r.sourceVersion, e.version);
      assert.equal(r.eventTime, e.eventTime);
      assert.equal(r.eventTimeMs, e.eventTimeMs);
      assert.equal(r.eventTime, r.id === 'p1' ? '2026-01-01T08:00:00.000Z' : at(1));
      assert.equal(r.bronzeSeq, e.seq);
      assert.equal(r.file, 'f1.jsonl');
      assert.equal(r.line, r.id === 'p1' ? 1 : 2);
      assert.equal(r.batchId, b.batch.batchId);
      assert.equal(r.contentHash, contentHash(MODEL, r.text));
      assert.equal(r.modelId, MODEL);
      assert.equal(r.dim, 100);
      assert.equal(r.vector.length, 100);
      assert.equal(r.pipelineVersion, '1');
      assert.ok(Date.parse(r.embeddedAt) >= before - 1000 && Date.parse(r.embeddedAt) <= Date.now());
      assert.equal(tagOf(r), r.id === 'p1' ? 'x' : 'y');
    }
    // Chunks cover the text in order, each within the window.
    assert.ok(normalizeText(words(30)).startsWith(p1[0]!.text));
    assert.ok(normalizeText(words(30)).endsWith(p1[p1.length - 1]!.text));
  });

  it('a metadata-only update is not re-embedded (texts_embedded = 0, vectors reused)', async () => {
    const beforeRows = (await allRows(table)).filter((r) => r.id === 'p1');
    await land([{ id: 'p1', version: 4, event_time: at(2), text: words(30), tag: 'new-tag' }]);
    const [b] = await processor.drain(table);
    const ledgerRow = db
      .prepare('SELECT texts_embedded, texts_reused, rows_updated FROM batches WHERE batch_id = ?')
      .get(b!.batch.batchId) as { texts_embedded: number; texts_reused: number; rows_updated: number };
    assert.equal(ledgerRow.texts_embedded, 0);
    assert.equal(ledgerRow.texts_reused, beforeRows.length);
    assert.equal(ledgerRow.rows_updated, beforeRows.length);
    const after = (await allRows(table)).filter((r) => r.id === 'p1');
    assert.deepEqual(
      after.map((r) => [r.sourceVersion, tagOf(r)]),
      after.map(() => [4, 'new-tag']),
    );
    after.forEach((r, i) => assert.deepEqual(r.vector, beforeRows[i]!.vector));
  });

  it('a newer version with fewer chunks removes the extra rows in the same batch (one table version)', async () => {
    const n = (await allRows(table)).filter((r) => r.id === 'p1').length;
    const v0 = await table.version();
    await land([{ id: 'p1', version: 5, event_time: at(3), text: words(4, 3), tag: 'short' }]);
    const [b] = await processor.drain(table);
    assert.equal(b!.result.deleted, n - 1);
    assert.equal(b!.result.updated, 1);
    assert.equal(await table.version(), v0 + 1, 'update and cleanup in one merge');
    const p1 = (await allRows(table)).filter((r) => r.id === 'p1');
    assert.deepEqual(
      p1.map((r) => [r.chunk, r.chunkCount, r.text]),
      [[0, 1, words(4, 3)]],
    );
  });

  it('late lower versions are no-ops, deletes stick against them, a higher version brings the id back', async () => {
    await land([
      { id: 'p2', version: 0, event_time: at(9), text: 'late old text', tag: 'late' },
      { id: 'p3', version: 2, event_time: at(4), text: 'to be deleted', tag: 'z' },
      { id: 'p3', version: 3, event_time: at(5), op: 'delete', text: '' },
    ]);
    await processor.drain(table);
    await land([{ id: 'p3', version: 2, event_time: at(10), text: 'late resurrection attempt', tag: 'z' }]);
    await processor.drain(table);
    let rows = await allRows(table);
    assert.equal(rows.find((r) => r.id === 'p2')!.text, 'short text');
    assert.equal(rows.filter((r) => r.id === 'p3').length, 0);
    await land([{ id: 'p3', version: 4, event_time: at(11), text: 'back again', tag: 'z' }]);
    await processor.drain(table);
    rows = await allRows(table);
    assert.equal(rows.find((r) => r.id === 'p3')!.text, 'back again');
  });

  it('replaying the whole bronze changes 0 rows and embeds 0 texts; into a fresh table the first replay builds it and the second changes 0 and embeds 0', async () => {
    const snapshot = await allRows(table);
    const v0 = await table.version();
    const again = await processor.replay(table);
    assert.deepEqual(
      [again.rowsInserted, again.rowsUpdated, again.rowsDeleted, again.textsEmbedded],
      [0, 0, 0, 0],
    );
    assert.equal(await table.version(), v0, 'no new table version');
    assert.deepEqual(await allRows(table), snapshot);

    const fresh = await rt.store.createTable('replay_probe_v1', 100);
    const first = await processor.replay(fresh);
    assert.equal(first.rowsInserted, snapshot.length);
    assert.ok(first.textsEmbedded > 0);
    const second = await processor.replay(fresh);
    assert.deepEqual(
      [second.rowsInserted, second.rowsUpdated, second.rowsDeleted, second.textsEmbedded],
      [0, 0, 0, 0],
    );
    const strip = (rs: VectorRow[]) =>
      rs.map((r) => [r.rowKey, r.sourceVersion, r.bronzeSeq, r.text, r.contentHash, r.metadataJson]);
    assert.deepEqual(strip(await allRows(fresh)), strip(snapshot));
    await rt.store.dropTable('replay_probe_v1');
  });

  it('startup reconcile: LanceDB versions lost behind the pipeline (manifests gone) are re-materialized from bronze', async () => {
    await land([{ id: 'r1', version: 1, event_time: at(20), text: 'reconcile me one', tag: 'r' }]);
    await processor.drain(table);
    await land([
      { id: 'r2', version: 1, event_time: at(21), text: 'reconcile me two', tag: 'r' },
      { id: 'p2', version: 7, event_time: at(22), text: 'p2 changed', tag: 'r' },
    ]);
    await processor.drain(table);
    const want = await allRows(table);
    const ledgerV = (await rt.ledger.lastCommittedVersion(table.name))!;
    // Power loss: the two newest LanceDB commits never reached the disk.
    const dir = path.join(ws.data, 'lance', `${table.name}.lance`, '_versions');
    const manifests = readdirSync(dir)
      .filter((n) => n.endsWith('.manifest'))
      .sort();
    for (const m of manifests.slice(0, 2)) rmSync(path.join(dir, m));
    rmSync(path.join(dir, 'latest_version_hint.json'), { force: true });
    const reopened = (await rt.store.openTable(table.name))!;
    assert.equal(await reopened.version(), ledgerV - 2);
    assert.ok(!(await allRows(reopened)).some((r) => r.id === 'r2'), 'the table really lost r2');
    // A fresh processor (a restart) reconciles before its first batch.
    const restarted = (await buildPipeline(rt, { fault: noFaults, unsafe: new Set() })).processor;
    const r = await restarted.reconcile(reopened);
    assert.ok(r, 'reconcile ran');
    assert.equal(r.batches, 2);
    assert.equal(r.fromVersion, ledgerV - 2);
    const strip = (rs: VectorRow[]) => rs.map((x) => [x.rowKey, x.sourceVersion, x.text, x.contentHash]);
    assert.deepEqual(strip(await allRows(reopened)), strip(want));
    assert.equal(
      await rt.ledger.lastCommittedVersion(table.name),
      await reopened.version(),
      'ledger re-pointed at the version that holds the batches',
    );
    assert.equal(await restarted.reconcile(reopened), null, 'idempotent: nothing behind any more');
    table = reopened;
  });

  it('output anomaly gate: a batch that changes far more rows per record than recent ones stays unpublished with an incident', async () => {
    const g = {
      ...loadConfig({ file: ws.configFile, env: {} }).gates,
      outputMinRows: 5,
      outputMinHistory: 3,
      outputFactor: 3,
    };
    const strict = new Processor(
      (processor as unknown as { deps: ConstructorParameters<typeof Processor>[0] }).deps,
      {
        maxRecords: 2000,
        maxFiles: 50,
        modelId: MODEL,
        pipelineVersion: '1',
        unsafe: new Set(),
        gates: g,
      },
    );
    await land([{ id: 'big', version: 1, event_time: at(30), text: words(80), tag: 'big' }]);
    await assert.rejects(strict.runOnce(table), (e: Error & { code?: string }) => e.code === 'GATE_FAILED');
    const pending = (await rt.ledger.pendingBatch(table.name))!;
    assert.equal(pending.state, 'failed');
    assert.ok(!(await allRows(table)).some((r) => r.id === 'big'), 'nothing published');
    assert.equal((await rt.ledger.keyStates(['big'])).size, 0, 'the key state did not move either');
    const inc = (await rt.ledger.incidents().list(5))[0]!;
    assert.deepEqual(
      [inc.batchId, inc.failureMode, inc.status, inc.pipeline],
      [pending.batchId, 'output_anomaly', 'open', `processor:${table.name}`],
    );
    assert.ok(inc.affectedRows >= 5);
    assert.equal(await strict.runOnce(table), null, 'blocked in this process: not retried in a loop');
    // The operator waives it: the same batch (same range) commits and the incident is closed as waived.
    const waiving = new Processor(
      (processor as unknown as { deps: ConstructorParameters<typeof Processor>[0] }).deps,
      {
        maxRecords: 2000,
        maxFiles: 50,
        modelId: MODEL,
        pipelineVersion: '1',
        unsafe: new Set(),
        gates: { ...g, waive: [pending.batchId] },
      },
    );
    const done = await waiving.runOnce(table);
    assert.equal(done!.batch.batchId, pending.batchId);
    assert.equal((await rt.ledger.incidents().get(inc.incidentId))!.status, 'waived');
    assert.ok((await allRows(table)).some((r) => r.id === 'big'));
  });
});
