import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqlite } from '../../src/store/sqlite/db.js';
import { RegistrySql as TableRegistry } from '../../src/store/sqlite/registry.js';
import type { VectorRow } from '../../src/ports/vector-store.js';
import { LanceStore } from '../../src/store/lance.js';
import { jsonl, runCli, runJson, workspace, type Workspace } from '../helpers/cli.js';

const WORDS =
  'river granite lantern orchard violin harbor comet meadow falcon copper glacier pepper castle desert engine forest garden island jungle kettle ladder market needle ocean palace'.split(
    ' ',
  );

function records(n: number, seed = 7): { id: string; version: number; event_time: string; text: string }[] {
  let s = seed;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) % 2147483648), s / 2147483648);
  return Array.from({ length: n }, (_, i) => ({
    id: `doc-${String(i).padStart(4, '0')}`,
    version: 1,
    event_time: '2026-03-01T10:00:00Z',
    text: `record ${i}: ${Array.from({ length: 8 }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ')}`,
  }));
}

/** Every row of one named table (not only the serving one), and the registry. */
async function tableRows(dataDir: string, name: string): Promise<VectorRow[]> {
  const store = await LanceStore.open(path.join(dataDir, 'lance'));
  try {
    const t = await store.openTable(name);
    assert.ok(t, `table ${name} exists`);
    const rows: VectorRow[] = [];
    for await (const b of t.scanAll('all')) rows.push(...b);
    return rows;
  } finally {
    store.close();
  }
}

function registry<T>(dataDir: string, f: (r: TableRegistry) => T): T {
  const db = openSqlite(path.join(dataDir, 'seamline.db'), { synchronous: 'FULL', busyTimeoutMs: 5000 });
  try {
    return f(new TableRegistry(db));
  } finally {
    db.close();
  }
}

interface Report {
  state: string;
  table: string;
  sourceTable: string;
  textsEmbedded: number;
  textsReused: number;
  records: number;
  gates: { name: string; passed: boolean; skipped?: string; details: Record<string, unknown> }[];
}

describe('reindex: dry run, same-model rebuild, gates that refuse (subprocess CLI, glove-sif-100d)', () => {
  let ws: Workspace;
  const recs = records(200);

  before(async () => {
    ws = workspace();
    ws.drop('a.jsonl', jsonl(recs));
    await runJson(['ingest', '--once'], ws.env());
  });
  after(() => ws.cleanup());

  it('--dry-run reports records, chunks, tokens, reusable vectors and an estimate, and writes nothing', async () => {
    const e = await runJson<{
      records: number;
      chunks: number;
      tokens: number;
      reusableVectors: number;
      toEmbed: number;
      estimatedMs: number;
      embedTextsPerSecond: number;
    }>(['reindex', '--dry-run'], ws.env());
    assert.equal(e.records, 200);
    assert.equal(e.chunks, 200);
    assert.ok(e.tokens > 200);
    assert.equal(e.reusableVectors, 200, 'same model: every vector is reusable');
    assert.equal(e.toEmbed, 0);
    assert.ok(e.estimatedMs >= 0 && e.embedTextsPerSecond > 0);
    const other = await runJson<{ reusableVectors: number; toEmbed: number }>(
      ['reindex', '--dry-run', '--model', 'local/use-lite-512d'],
      ws.env(),
    );
    assert.deepEqual([other.reusableVectors, other.toEmbed], [0, 200], 'another model reuses nothing');
    assert.deepEqual(
      registry(ws.data, (r) => r.list().map((t) => t.tableName)),
      ['records_v1'],
      'no table was created',
    );
  });

  it('a same-model reindex re-embeds nothing, passes every gate, and the new table equals the old', async () => {
    const evalFile = path.join(ws.dir, 'eval-good.jsonl');
    // Each query is a record's own text: its id is the relevant one (nDCG must stay at 1).
    writeFileSync(evalFile, jsonl(recs.slice(0, 10).map((r) => ({ query: r.text, relevant: [r.id] }))));
    const r = await runJson<Report>(
      ['reindex', '--yes'],
      ws.env({ SEAMLINE_REINDEX__GATES__EVALUATION_FILE: evalFile }),
    );
    assert.equal(r.state, 'swapped');
    assert.deepEqual([r.sourceTable, r.table], ['records_v1', 'records_v2']);
    assert.equal(r.textsEmbedded, 0, 'nothing re-embedded (counter)');
    assert.equal(r.textsReused, 200);
    for (const g of r.gates) assert.ok(g.passed && !g.skipped, `gate ${g.name} ran and passed`);
    assert.equal(r.gates.find((g) => g.name === 'overlap')!.details.mean, 1);
    assert.equal(r.gates.find((g) => g.name === 'ndcg')!.details.newNdcg, 1);

    const strip = (x: VectorRow) => [
      x.rowKey,
      x.id,
      x.chunk,
      x.chunkCount,
      x.text,
      Array.from(x.vector),
      x.sourceVersion,
      x.eventTime,
      x.bronzeSeq,
      x.file,
      x.line,
      x.contentHash,
      x.modelId,
      x.dim,
      x.metadataJson,
    ];
    const sort = (rows: VectorRow[]) => rows.sort((a, b) => (a.rowKey < b.rowKey ? -1 : 1)).map(strip);
    const [oldRows, newRows] = [
      await tableRows(ws.data, 'records_v1'),
      await tableRows(ws.data, 'records_v2'),
    ];
    assert.equal(newRows.length, 200);
    assert.deepEqual(sort(newRows), sort(oldRows), 'same rows, same vectors, same provenance');
    const serving = registry(ws.data, (t) => t.serving());
    assert.deepEqual([serving?.tableName, serving?.previous], ['records_v2', 'records_v1']);
  });

  it('a build whose evaluation file fails the nDCG gate does not swap; the table is marked failed', async () => {
    const evalFile = path.join(ws.dir, 'eval-bad.jsonl');
    // Relevant ids are unrelated records: nDCG@10 stays near 0, below the configured floor.
    writeFileSync(
      evalFile,
      jsonl(recs.slice(0, 10).map((r, i) => ({ query: r.text, relevant: [recs[(i * 17 + 101) % 200]!.id] }))),
    );
    const res = await runCli(
      ['reindex', '--yes', '--json'],
      ws.env({
        SEAMLINE_REINDEX__GATES__EVALUATION_FILE: evalFile,
        SEAMLINE_REINDEX__GATES__MIN_NDCG: '0.5',
      }),
    );
    assert.equal(res.code, 7, `GATE_FAILED exit code; stderr: ${res.stderr.slice(-1500)}`);
    const r = JSON.parse(res.stdout) as Report;
    assert.equal(r.state, 'failed');
    const ndcg = r.gates.find((g) => g.name === 'ndcg')!;
    assert.equal(ndcg.passed, false);
    assert.ok((ndcg.details.newNdcg as number) < 0.5);
    assert.match(res.stderr, /GATE_FAILED/);
    const [serving, failed] = registry(ws.data, (t) => [t.serving(), t.get(r.table)] as const);
    assert.equal(serving?.tableName, 'records_v2', 'serving untouched');
    assert.equal(failed?.state, 'failed');
    const st = await runJson<{ reindex: { state: string; tableName: string; error: string } }>(
      ['status'],
      ws.env(),
    );
    assert.equal(st.reindex.state, 'failed');
    assert.match(st.reindex.error, /ndcg/);
    // search still answers from the serving table
    const s = await runJson<{ table: string; results: { id: string }[] }>(
      ['search', recs[5]!.text, '-k', '3'],
      ws.env(),
    );
    assert.equal(s.table, 'records_v2');
    assert.equal(s.results[0]!.id, recs[5]!.id);
  });

  it('rollback points serving back at the previous table in one step, and again forward', async () => {
    const r = await runJson<{ from: string; to: string; dim: number }>(['rollback'], ws.env());
    assert.deepEqual([r.from, r.to, r.dim], ['records_v2', 'records_v1', 100]);
    const back = await runJson<{ from: string; to: string }>(['rollback'], ws.env());
    assert.deepEqual([back.from, back.to], ['records_v1', 'records_v2']);
  });
});
