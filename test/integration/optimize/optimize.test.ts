import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../../src/config/load.js';
import { buildPipeline } from '../../../src/daemon/pipeline.js';
import { runOptimizePass, ROLLBACK_TAG_PREFIX } from '../../../src/optimize/optimizer.js';
import { optimizerDepsOf } from '../../../src/runtime/wiring.js';
import type { VectorRow, VectorTable } from '../../../src/ports/vector-store.js';
import { noFaults } from '../../../src/runtime/fault.js';
import { openRuntime, type Runtime } from '../../../src/runtime/runtime.js';
import { openSqliteStoresFor } from '../../../src/store/open.js';
import type { Sqlite } from '../../../src/store/sqlite/db.js';
import { jsonl, waitFor, workspace, type Workspace } from '../../helpers/cli.js';

const WORDS = (
  'river mountain city music garden ocean winter summer forest market school doctor engine rocket planet coffee bread ' +
  'window silver golden ancient modern quiet storm harbor island desert valley bridge tower castle library museum ' +
  'painter singer farmer soldier teacher student village train airport hospital kitchen wine cheese apple orange ' +
  'football tennis chess novel poem theory science history language computer network signal energy climate rain ' +
  'snow wind fire stone glass paper cloud bird horse dog cat fish lion tiger whale eagle garden flower tree leaf ' +
  'king queen prince army battle peace treaty election court law bank money trade price market factory steel'
).split(' ');

/** Deterministic pseudo-random sentences (mulberry32). */
function sentences(seed: number) {
  let a = seed;
  const rnd = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (n: number) => Array.from({ length: n }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');
}

const silent = pino({ level: 'silent' });
const rec = (id: string, version: number, text: string, op?: 'delete') => ({
  id,
  version,
  event_time: '2024-05-01T10:00:00Z',
  text,
  ...(op ? { op } : {}),
});

async function land(
  rt: Runtime,
  ws: Workspace,
  name: string,
  records: unknown[],
): Promise<Awaited<ReturnType<typeof buildPipeline>>> {
  const p = await buildPipeline(rt, { fault: noFaults, unsafe: new Set() });
  const before = await rt.bronze.maxSeq();
  ws.drop(name, jsonl(records));
  await waitFor(
    async () => (await p.landing.tick(), (await rt.bronze.maxSeq()) >= before + records.length),
    20_000,
    `landing ${name}`,
  );
  return p;
}

async function snapshotRows(
  t: VectorTable,
): Promise<Map<string, { id: string; version: number; vector: number[] }>> {
  const m = new Map<string, { id: string; version: number; vector: number[] }>();
  for await (const b of t.scanAll('all'))
    for (const r of b) m.set(r.rowKey, { id: r.id, version: r.sourceVersion, vector: Array.from(r.vector) });
  return m;
}

const workspaces: Workspace[] = [];
after(() => workspaces.forEach((w) => w.cleanup()));

describe('optimize job against real LanceDB tables', () => {
  it('500 one-record batches (> 100 fragments) → one pass: ≤ 2 fragments, identical data, old versions pruned except tagged; merges still work after', async () => {
    const ws = workspace({
      processor: { maxRecords: 1 },
      landing: { afterLanding: 'keep' },
      optimize: { versionRetentionMs: 0, annMinRows: 100_000, compactMinSmallFragments: 16 },
    });
    workspaces.push(ws);
    const config = loadConfig({ file: ws.configFile, env: {} });
    const stores = openSqliteStoresFor(config);
    const db: Sqlite = stores.db;
    const rt = await openRuntime(config, silent, { stores });
    try {
      const table = (await rt.servingTable(true))!;
      // 500 tiny merges through the same port call the processor uses (one LanceDB version and at
      // least one fragment each): 450 new ids, then 50 newer versions of earlier ids (updates leave
      // deletion files behind). Synthetic vectors: this test is about the table, not the model.
      const say = sentences(1);
      let seed = 11;
      const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5;
      const row = (id: string, version: number, batch: number): VectorRow => ({
        rowKey: `${id}\u001f0`,
        id,
        chunk: 0,
        chunkCount: 1,
        text: say(8),
        vector: Float32Array.from({ length: table.dim }, rnd),
        sourceVersion: version,
        eventTime: '2024-05-01T10:00:00Z',
        eventTimeMs: Date.parse('2024-05-01T10:00:00Z'),
        bronzeSeq: batch,
        file: 'synthetic.jsonl',
        line: batch,
        batchId: `b${batch}`,
        contentHash: `h${batch}`,
        modelId: 'local/glove-sif-100d',
        dim: table.dim,
        pipelineVersion: '1',
        embeddedAt: new Date().toISOString(),
        metadataJson: '{}',
      });
      const t0 = Date.now();
      let batches = 0;
      let tagVersion = 0;
      let rowsAtTag = 0;
      for (let i = 0; i < 500; i++) {
        const r = await table.merge(
          [i < 450 ? row(`r${i}`, 1, i + 1) : row(`r${(i - 450) * 3}`, 2, i + 1)],
          [],
        );
        assert.equal(r.inserted + r.updated, 1);
        batches += 1;
        if (batches === 250) {
          tagVersion = r.version;
          rowsAtTag = await table.countRows();
        }
      }
      console.log(`# ingested ${batches} batches in ${Date.now() - t0} ms`);
      assert.equal(batches, 500);
      const maint = (await rt.store.openMaintenance(table.name))!;
      try {
        // A rollback point someone else tagged (e.g. an operator before an experiment).
        await maint.createTag('release-250', tagVersion);
        const before = await table.stats();
        assert.ok(before.fragments > 100, `fragments before: ${before.fragments}`);
        const rowsBefore = await snapshotRows(table);
        const versionsBefore = await maint.versions();

        const r1 = await runOptimizePass({ ...optimizerDepsOf(rt), logger: silent }, config.optimize);
        console.log(
          `# pass 1: ${r1.status} ${r1.actions.join(',')} fragments ${r1.fragmentsBefore}→${r1.fragmentsAfter} versions ${r1.versionsBefore}→${r1.versionsAfter} disk ${r1.diskBytesBefore}→${r1.diskBytesAfter} reclaimed ${r1.bytesReclaimed} conflicts ${r1.conflicts} ${r1.durationMs} ms`,
        );
        assert.equal(r1.status, 'ok', r1.error ?? '');
        assert.ok(
          r1.actions.includes('optimize') &&
            r1.actions.includes('create-fts-index') &&
            r1.actions.includes('tag-rollback-point'),
          r1.actions.join(','),
        );
        assert.equal(r1.fragmentsBefore, before.fragments);
        assert.ok(
          (await table.stats()).fragments <= 2,
          `fragments after: ${(await table.stats()).fragments}`,
        );
        assert.ok(r1.fragmentsAfter! <= 2);

        // Same ids, versions and vectors (row order may change; content may not).
        const rowsAfter = await snapshotRows(table);
        assert.equal(rowsAfter.size, rowsBefore.size);
        for (const [k, v] of rowsBefore) assert.deepEqual(rowsAfter.get(k), v, `row ${k}`);

        // Versions older than the tagged one are gone (LanceDB refuses to prune past a tag, so the
        // cutoff stops a safety margin before it); the tagged version still reads as it was.
        const tagTs = versionsBefore.find((v) => v.version === tagVersion)!.timestampMs;
        const left = await maint.versions();
        assert.ok(
          left.some((v) => v.version === tagVersion),
          'tagged version kept',
        );
        const olderLeft = left.filter((v) => v.version < tagVersion);
        assert.ok(
          olderLeft.every((v) => v.timestampMs >= tagTs - 100),
          `versions older than the tag left: ${olderLeft.map((v) => v.version).join(',')}`,
        );
        assert.ok(
          left.length < versionsBefore.length - 200,
          `versions ${versionsBefore.length} → ${left.length}`,
        );
        assert.equal(await maint.countRowsAt('release-250'), rowsAtTag);
        const tags1 = await maint.tagList();
        const own1 = tags1.filter((x) => x.name.startsWith(ROLLBACK_TAG_PREFIX));
        assert.equal(own1.length, 1);
        assert.equal(own1[0]!.version, await table.version());

        // The owner releases its tag: the next pass prunes everything but the current version and rolls our tag.
        await maint.deleteTag('release-250');
        const r2 = await runOptimizePass({ ...optimizerDepsOf(rt), logger: silent }, config.optimize);
        console.log(
          `# pass 2: ${r2.status} ${r2.actions.join(',')} versions ${r2.versionsBefore}→${r2.versionsAfter} reclaimed ${r2.bytesReclaimed}`,
        );
        assert.equal(r2.status, 'ok', r2.error ?? '');
        assert.ok(
          (await maint.versions()).length <= 2,
          `versions left: ${(await maint.versions()).map((v) => v.version).join(',')}`,
        );
        assert.ok(r2.bytesReclaimed! > 0);
        const own2 = (await maint.tagList()).filter((x) => x.name.startsWith(ROLLBACK_TAG_PREFIX));
        assert.equal(own2.length, 1);
        assert.equal(own2[0]!.version, await table.version());
        assert.equal(await maint.countRowsAt(own2[0]!.name), rowsAfter.size);
        assert.deepEqual(await snapshotRows(table), rowsAfter);

        // Merges after optimize (no scalar index on the merge key; guard, delete scope, counts all intact).
        const p2 = await land(rt, ws, 'b.jsonl', [
          rec('r1', 3, 'updated after optimize'),
          rec('r2', 3, '', 'delete'),
          rec('r900', 1, 'brand new row'),
        ]);
        const more = await p2.processor.drain(table);
        assert.equal(
          more.reduce((a, b) => a + b.result.inserted, 0),
          1,
        );
        assert.equal(
          more.reduce((a, b) => a + b.result.updated, 0),
          1,
        );
        assert.equal(
          more.reduce((a, b) => a + b.result.deleted, 0),
          1,
        );
        const rows3 = await snapshotRows(table);
        assert.equal(rows3.get('r1\u001f0')?.version, 3);
        assert.equal(rows3.has('r2\u001f0'), false);
        assert.equal(rows3.get('r900\u001f0')?.version, 1);
        assert.equal(rows3.size, rowsAfter.size);

        // The FTS index now misses the new rows: the next pass folds them in.
        const unindexed = (await table.indexes()).find((i) => i.columns.includes('text'))!.unindexedRows;
        assert.ok(unindexed > 0);
        const r3 = await runOptimizePass({ ...optimizerDepsOf(rt), logger: silent }, config.optimize);
        assert.equal(r3.status, 'ok', r3.error ?? '');
        assert.ok(
          r3.reasons.some(
            (x) =>
              (x as { action: string; decision: string }).action === 'fold-indexes' &&
              (x as { decision: string }).decision === 'do',
          ),
        );
        assert.equal(r3.unindexedRows, 0);
        // With a 0 ms retention the versions pass 3 made are prunable once the clock has moved past them
        // (a version stamped in the very millisecond pass 4 reads "now" is not older than the cutoff: the
        // fourth pass was a no-op about once in twenty runs on a fast machine); after that nothing is
        // left: a no-op pass takes no lease and changes nothing.
        const newest = Math.max(...(await maint.versions()).map((x) => x.timestampMs));
        while (Date.now() <= newest + 5) await new Promise((r) => setTimeout(r, 5));
        const r4 = await runOptimizePass({ ...optimizerDepsOf(rt), logger: silent }, config.optimize);
        assert.deepEqual(
          r4.actions,
          ['delete-tags', 'optimize', 'tag-rollback-point'],
          JSON.stringify({
            r3: r3.reasons,
            r4: r4.reasons,
            versions: await maint.versions(),
            tags: await maint.tagList(),
          }),
        );
        const v = await table.version();
        const r5 = await runOptimizePass({ ...optimizerDepsOf(rt), logger: silent }, config.optimize);
        assert.equal(r5.status, 'noop', JSON.stringify(r5.reasons));
        assert.equal(await table.version(), v);
        const runs = db.prepare('SELECT status FROM optimize_runs ORDER BY started_at_ms').all() as {
          status: string;
        }[];
        assert.deepEqual(
          runs.map((x) => x.status),
          ['ok', 'ok', 'ok', 'ok', 'noop'],
        );
      } finally {
        maint.close();
      }
    } finally {
      await rt.close();
    }
  });

  it('past the row threshold the ANN index is built and indexed search agrees with exact search on top-10 (≥ 95%)', async () => {
    const ws = workspace({
      processor: { maxRecords: 2000 },
      landing: { afterLanding: 'keep' },
      optimize: { annMinRows: 4000, ftsIndex: false },
    });
    workspaces.push(ws);
    const config = loadConfig({ file: ws.configFile, env: {} });
    const rt = await openRuntime(config, silent);
    try {
      const table = (await rt.servingTable(true))!;
      const say = sentences(7);
      const { processor } = await land(
        rt,
        ws,
        'big.jsonl',
        Array.from({ length: 5000 }, (_, i) => rec(`d${i}`, 1, say(6 + (i % 10)))),
      );
      await processor.drain(table);
      assert.equal(await table.countRows(), 5000);
      const deps = { ...optimizerDepsOf(rt), logger: silent };
      const below = await runOptimizePass(deps, { ...config.optimize, annMinRows: 6000 });
      assert.ok(!below.actions.includes('create-vector-index'));
      const r = await runOptimizePass(deps, config.optimize);
      assert.equal(r.status, 'ok', r.error ?? '');
      assert.ok(r.actions.includes('create-vector-index'));
      const vec = (await table.indexes()).find((i) => i.columns.includes('vector'));
      assert.ok(vec, 'vector index exists');
      assert.equal(vec.indexedRows, 5000);
      const maint = (await rt.store.openMaintenance(table.name))!;
      try {
        const emb = await rt.embedder();
        const qs = sentences(99);
        const queries = await emb.embed(
          Array.from({ length: 60 }, () => {
            const text = qs(5);
            return { text, tokens: 5 };
          }),
        );
        let agree = 0;
        let total = 0;
        let exactMs = 0;
        let annMs = 0;
        for (const q of queries) {
          let t0 = performance.now();
          const exact = await maint.vectorSearchMode(q, 10, true);
          exactMs += performance.now() - t0;
          t0 = performance.now();
          const ann = await maint.vectorSearchMode(q, 10, false);
          annMs += performance.now() - t0;
          const e = new Set(exact.map((h) => h.row.rowKey));
          agree += ann.filter((h) => e.has(h.row.rowKey)).length;
          total += exact.length;
        }
        const recall = agree / total;
        console.log(
          `# ANN ${vec.type}: recall@10 vs exact = ${(recall * 100).toFixed(1)}% over ${queries.length} queries; mean query exact ${(exactMs / queries.length).toFixed(1)} ms, indexed ${(annMs / queries.length).toFixed(1)} ms`,
        );
        assert.ok(recall >= 0.95, `recall ${recall}`);
      } finally {
        maint.close();
      }
    } finally {
      await rt.close();
    }
  });
});
