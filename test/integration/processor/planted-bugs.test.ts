import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { buildPipeline } from '../../../src/daemon/pipeline.js';
import { createLogger } from '../../../src/observability/logger.js';
import { normalizeText } from '../../../src/processor/materialize-plan.js';
import type { Processor } from '../../../src/processor/processor.js';
import type { VectorRow, VectorTable } from '../../../src/ports/vector-store.js';
import { noFaults } from '../../../src/runtime/fault.js';
import { openRuntime, type Runtime } from '../../../src/runtime/runtime.js';
import { LanceStore } from '../../../src/store/lance.js';
import { verifyTable } from '../../../src/verify/verify.js';
import { jsonl, runCli, workspace, type Workspace } from '../../helpers/cli.js';

// Issue 12 item 8: one fast test per bug that used to pass every fast test when planted:
// (a) a vector reused by row key instead of content hash, (b) skipping the start-up reconcile,
// (c) ignoring tombstones, (d) keeping the first event per id in a batch instead of the highest version.

const MODEL = 'local/glove-sif-100d';
const at = (s: number): string => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();

async function rowsOf(t: VectorTable, id?: string): Promise<VectorRow[]> {
  const out: VectorRow[] = [];
  for await (const b of t.scanAll('all')) out.push(...b.filter((r) => id === undefined || r.id === id));
  return out.sort((a, b) => a.rowKey.localeCompare(b.rowKey));
}

const cosine = (a: Float32Array, b: Float32Array): number => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += a[i]! * b[i]!;
  return d;
};

describe('planted-bug guards (real SQLite + LanceDB + model, in process)', () => {
  let ws: Workspace;
  let rt: Runtime;
  let table: VectorTable;
  let processor: Processor;
  let fileNo = 0;

  const land = async (records: Record<string, unknown>[]): Promise<void> => {
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
    await w.finish('unverified', null, []);
  };

  before(async () => {
    ws = workspace({ model: { id: MODEL } });
    rt = await openRuntime(
      loadConfig({ file: ws.configFile, env: {} }),
      createLogger('silent', 'itest', 'test'),
    );
    table = (await rt.servingTable(true))!;
    processor = (await buildPipeline(rt, { fault: noFaults, unsafe: new Set() })).processor;
  });
  after(async () => {
    await rt?.close();
    ws?.cleanup();
  });

  it('(a) a changed text gets a fresh vector (not the old one reused by row key), and verify re-embeds a sample to prove it', async () => {
    await land([
      { id: 'a1', version: 1, event_time: at(1), text: 'granite glacier mountain summit avalanche' },
    ]);
    await processor.drain(table);
    await land([
      { id: 'a1', version: 2, event_time: at(2), text: 'violin orchestra symphony melody concert' },
    ]);
    await processor.drain(table);
    const [row] = await rowsOf(table, 'a1');
    assert.equal(row!.text, 'violin orchestra symphony melody concert');
    const emb = await rt.embedder(MODEL);
    const chunks = await emb.chunk([normalizeText(row!.text)], 1 << 20, 0);
    const [want] = await emb.embed([{ text: normalizeText(row!.text), tokens: chunks[0]![0]!.tokens }]);
    assert.ok(
      cosine(row!.vector, want!) > 0.999,
      `the stored vector is not the new text's (cos ${cosine(row!.vector, want!)})`,
    );
    const v = await verifyTable(rt, table, { embedder: emb, sample: 1000 });
    assert.ok(v.vectorsSampled >= 1, 'verify says how many vectors it re-embedded');
    assert.equal(v.counts.wrong_vector, 0, JSON.stringify(v.findings));
    assert.equal(v.consistent, true, JSON.stringify(v.findings));
  });

  it('verify finds a stored vector that is not the embedding of its stored text, and --repair re-embeds it', async () => {
    await land([
      { id: 'v1', version: 1, event_time: at(10), text: 'copper engine desert falcon' },
      { id: 'v2', version: 1, event_time: at(10), text: 'meadow orchard pepper castle' },
    ]);
    await processor.drain(table);
    const [r1] = await rowsOf(table, 'v1');
    const [r2] = await rowsOf(table, 'v2');
    // Corrupt v1: same text, same content hash, v2's vector (what a row-key reuse bug leaves behind).
    await table.deleteIds(['v1']);
    await table.merge([{ ...r1!, vector: r2!.vector }], []);
    const emb = await rt.embedder(MODEL);
    const bad = await verifyTable(rt, table, { embedder: emb, sample: 1000 });
    assert.equal(bad.consistent, false);
    assert.equal(bad.counts.wrong_vector, 1);
    assert.equal(bad.findings.find((f) => f.kind === 'wrong_vector')?.id, 'v1');
    assert.equal(bad.vectorsSampled, bad.tableRows, 'a sample larger than the table checks every row');
    const none = await verifyTable(rt, table, { embedder: emb, sample: 0 });
    assert.equal(none.vectorsSampled, 0, 'sample 0 skips the check and says so');
    const { repair } = await import('../../../src/verify/verify.js');
    await repair(rt, table, emb, bad.allFindings, createLogger('silent', 'itest', 'test'));
    const good = await verifyTable(rt, table, { embedder: emb, sample: 1000 });
    assert.equal(good.consistent, true, JSON.stringify(good.findings));
  });

  it('(c) a tombstone deletes an id that an earlier batch served', async () => {
    await land([{ id: 'c1', version: 1, event_time: at(3), text: 'lantern harbor comet' }]);
    await processor.drain(table);
    assert.equal((await rowsOf(table, 'c1')).length, 1);
    await land([{ id: 'c1', version: 2, event_time: at(4), text: '', op: 'delete' }]);
    await processor.drain(table);
    assert.deepEqual(await rowsOf(table, 'c1'), [], 'the deleted id is still served');
    await land([{ id: 'c1', version: 1, event_time: at(5), text: 'late lower version must not resurrect' }]);
    await processor.drain(table);
    assert.deepEqual(await rowsOf(table, 'c1'), []);
  });

  it('(d) within one batch the highest version wins, wherever it sits in the file', async () => {
    await land([
      { id: 'd1', version: 1, event_time: at(6), text: 'first version one' },
      { id: 'd1', version: 3, event_time: at(6), text: 'third version three' },
      { id: 'd1', version: 2, event_time: at(6), text: 'second version two' },
    ]);
    const [b] = await processor.drain(table);
    assert.ok(b && b.recordsIn === 3, 'all three events were in one batch');
    const rows = await rowsOf(table, 'd1');
    assert.deepEqual(
      rows.map((r) => [r.sourceVersion, r.text]),
      [[3, 'third version three']],
    );
  });
});

describe('planted-bug guard (b): the real start-up path reconciles a table that lost commits (subprocess)', () => {
  let ws: Workspace;
  after(() => ws?.cleanup());

  it('a restarted ingest re-materializes batches whose LanceDB commits were lost', async () => {
    ws = workspace({ model: { id: MODEL }, landing: { afterLanding: 'delete' } });
    const rec = (id: string, s: number) => ({
      id,
      version: 1,
      event_time: at(s),
      text: `reconcile text ${id}`,
    });
    ws.drop('one.jsonl', jsonl([rec('b1', 1)]));
    let r = await runCli(['ingest', '--once'], ws.env());
    assert.equal(r.code, 0, r.stderr);
    ws.drop('two.jsonl', jsonl([rec('b2', 2)]));
    r = await runCli(['ingest', '--once'], ws.env());
    assert.equal(r.code, 0, r.stderr);
    // Power loss: the newest LanceDB commit (b2's merge) never reached the disk; the ledger has it.
    const lance = path.join(ws.data, 'lance');
    const tableDir = readdirSync(lance).find((n) => n.endsWith('.lance'))!;
    const vdir = path.join(lance, tableDir, '_versions');
    const newest = readdirSync(vdir)
      .filter((n) => n.endsWith('.manifest'))
      .sort()[0]!;
    rmSync(path.join(vdir, newest));
    rmSync(path.join(vdir, 'latest_version_hint.json'), { force: true });
    const ids = async (): Promise<string[]> => {
      const store = await LanceStore.open(lance);
      try {
        const t = (await store.openTable(tableDir.replace(/\.lance$/, '')))!;
        return (await rowsOf(t)).map((x) => x.id).sort();
      } finally {
        store.close();
      }
    };
    assert.deepEqual(await ids(), ['b1'], 'the table really lost b2');
    // The real start-up path (a new process, a new file arriving) must repair the loss first.
    ws.drop('three.jsonl', jsonl([rec('b3', 3)]));
    r = await runCli(['ingest', '--once'], ws.env());
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await ids(), ['b1', 'b2', 'b3']);
  });
});
