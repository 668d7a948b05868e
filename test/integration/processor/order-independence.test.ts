import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { buildPipeline } from '../../../src/daemon/pipeline.js';
import type { Lane, Segment } from '../../../src/ports/ledger.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { VectorRow, VectorTable } from '../../../src/ports/vector-store.js';
import { noFaults } from '../../../src/runtime/fault.js';
import { openRuntime } from '../../../src/runtime/runtime.js';
import { prng, StreamGen, type GenFile } from '../../crash/harness.js';
import { workspace } from '../../helpers/cli.js';

// Property: the end state of the serving table does not depend on how bronze is cut into batches, in
// which order the batches run, or which lane planned them. The same landed files are processed in
// several random partitions (segments of random length over random files, interleaving files and
// lanes) and random orders; every run must leave exactly the same rows (provenance included, except
// the batch id and embed time, which name the batch that wrote them).

const MODEL = 'local/glove-sif-100d';

/** A row without the fields that name the writer (batch id, embedded-at). */
function canonical(r: VectorRow): string {
  return JSON.stringify([
    r.rowKey,
    r.id,
    r.chunk,
    r.chunkCount,
    r.sourceVersion,
    r.eventTimeMs,
    r.bronzeSeq,
    r.file,
    r.line,
    r.text,
    r.metadataJson,
    r.contentHash,
    r.modelId,
    Array.from(r.vector, (x) => Math.round(x * 1e5)),
  ]);
}

async function tableContent(t: VectorTable): Promise<string[]> {
  const out: string[] = [];
  for await (const b of t.scanAll('all')) for (const r of b) out.push(canonical(r));
  return out.sort();
}

/**
 * Lands `files` into a fresh workspace, then processes them with batches planned by `order`
 * ('bronze' = one batch per file in landing order; else a seeded random partition and order).
 */
async function run(
  files: readonly GenFile[],
  order: 'bronze' | number,
): Promise<{ rows: string[]; batches: number; slices: number }> {
  const ws = workspace({
    chunking: { maxTokens: 12, overlapTokens: 3 },
    contract: { metadata: { tag: 'string' } },
    model: { id: MODEL },
    gates: { quarantineMinRecords: 1_000_000 },
  });
  const rt = await openRuntime(
    loadConfig({ file: ws.configFile, env: {} }),
    createLogger('silent', 'itest', 'test'),
  );
  try {
    const table = (await rt.servingTable(true))!;
    const processor = (await buildPipeline(rt, { fault: noFaults, unsafe: new Set() })).processor;
    for (const [n, f] of files.entries()) {
      const w = await rt.bronze.beginFile(
        {
          path: f.name,
          sha256: `sha-${n}`,
          size: f.content.length,
          mtimeMs: 0,
          format: 'jsonl',
          manifestJson: null,
          manifestSha256: null,
        },
        1000 + n,
      );
      for (const [i, line] of f.content.trim().split('\n').entries()) {
        const v = rt.contract.validate(JSON.parse(line) as Record<string, unknown>);
        if (v.ok) await w.addRecord(v.record, i + 1, i);
        else
          await w.addQuarantine({
            line: i + 1,
            offset: i,
            code: 'ZONELESS_TIMESTAMP',
            field: 'event_time',
            message: 'bad',
            raw: line,
          });
      }
      await w.finish('unverified', null, []);
    }
    await processor.discover(table);
    const lanes = rt.ledger.lanes();
    let batches = 0;
    let slices = 0;
    const exec = async (lane: Lane, segs: Segment[]): Promise<void> => {
      const b = await rt.ledger.plan(table.name, lane, segs, MODEL, '1', 1);
      await processor.execute(table, b);
      batches += 1;
    };
    if (order === 'bronze') {
      for (const f of [
        ...(await lanes.openFiles(table.name, 'live', 1000)),
        ...(await lanes.openFiles(table.name, 'backlog', 1000)),
      ].sort((a, b) => a.fileId - b.fileId))
        await exec(f.lane, [{ fileId: f.fileId, seqFrom: f.seqFrom, seqTo: f.seqTo, records: f.records }]);
    } else {
      const rnd = prng(order);
      for (;;) {
        const open = [
          ...(await lanes.openFiles(table.name, 'live', 1000)),
          ...(await lanes.openFiles(table.name, 'backlog', 1000)),
        ];
        if (open.length === 0) break;
        // 1..3 files, each a random-length slice from its planned mark; a random lane label.
        const pick = open.sort(() => rnd() - 0.5).slice(0, 1 + Math.floor(rnd() * 3));
        const segs: Segment[] = [];
        for (const f of pick) {
          const left = f.records - f.plannedRecords;
          if (left <= 0) {
            segs.push({ fileId: f.fileId, seqFrom: f.seqFrom, seqTo: f.seqTo, records: 0 });
            continue;
          }
          const n = 1 + Math.floor(rnd() * left);
          if (n < left) slices += 1;
          segs.push({
            fileId: f.fileId,
            seqFrom: (await lanes.nthSeqAfter(f.fileId, f.plannedTo, 1))!,
            seqTo: (await lanes.nthSeqAfter(f.fileId, f.plannedTo, n))!,
            records: n,
          });
        }
        await exec(rnd() < 0.5 ? 'live' : 'backlog', segs);
      }
    }
    for (const lane of ['live', 'backlog'] as const)
      assert.equal((await lanes.openFiles(table.name, lane, 10)).length, 0);
    return { rows: await tableContent(table), batches, slices };
  } finally {
    await rt.close();
    ws.cleanup();
  }
}

describe('processor: the end state does not depend on batch partition, order or lane (real SQLite + LanceDB + model)', () => {
  it(
    'random partitions and orders of the same landed files give identical table content',
    { timeout: 300_000 },
    async (t) => {
      const gen = new StreamGen(424242, 12);
      // Small live-sized files and two backfills over the same 12 ids: late versions, deletes, duplicates, re-drops.
      for (let i = 0; i < 8; i++) gen.nextFile();
      gen.nextFile(40);
      gen.redrop();
      for (let i = 0; i < 4; i++) gen.nextFile();
      gen.nextFile(30);
      const reference = await run(gen.files, 'bronze');
      assert.ok(reference.rows.length > 0, 'the reference run wrote rows');
      for (const seed of [1, 2, 3, 4]) {
        const r = await run(gen.files, seed);
        t.diagnostic(
          `seed ${seed}: ${r.batches} batches, ${r.slices} file slices (reference: ${reference.batches} batches, one per file), ${r.rows.length} rows`,
        );
        assert.ok(r.slices > 0, 'the random partition cut files into slices');
        assert.deepEqual(
          r.rows,
          reference.rows,
          `seed ${seed}: table content differs from the bronze-order run`,
        );
      }
    },
  );
});
