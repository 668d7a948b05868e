import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { VectorRow } from '../../../src/ports/vector-store.js';
import { LanceStore } from '../../../src/store/lance.js';

const row = (id: string, version: number, vector: number[], extra: Partial<VectorRow> = {}): VectorRow => ({
  rowKey: `${id}\u001f0`,
  id,
  chunk: 0,
  chunkCount: 1,
  text: `text of ${id} it's "quoted"`,
  vector: Float32Array.from(vector),
  sourceVersion: version,
  eventTime: '2026-01-01T00:00:00.000Z',
  eventTimeMs: 1767225600000,
  bronzeSeq: version * 10,
  file: 'dir/a.jsonl',
  line: 7,
  batchId: 'records_v1:1-10',
  contentHash: `h-${id}-${version}`,
  modelId: 'local/test',
  dim: 4,
  pipelineVersion: '1',
  embeddedAt: '2026-01-01T00:00:01.000Z',
  metadataJson: '{"k":"v"}',
  docText: null,
  ...extra,
});

describe('LanceDB adapter (real table in a tmpdir)', () => {
  let dir: string;
  let store: LanceStore;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'seamline-lance-'));
    store = await LanceStore.open(dir);
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips every column through a merge, and the guard keeps the newer row', async () => {
    const t = await store.createTable('t_v1', 4);
    const a = row("o'brien", 2, [0.5, 0.5, 0.5, 0.5]);
    const b = row('b', 1, [1, 0, 0, 0]);
    const r1 = await t.merge([a, b], []);
    assert.deepEqual([r1.inserted, r1.updated, r1.deleted], [2, 0, 0]);
    const back = new Map((await t.rowsForIds(["o'brien", 'b'])).map((r) => [r.id, r]));
    for (const want of [a, b]) {
      const got = back.get(want.id)!;
      assert.deepEqual(
        { ...got, vector: Array.from(got.vector) },
        { ...want, vector: Array.from(want.vector) },
      );
    }
    // A lower version does not overwrite; a higher one does.
    const r2 = await t.merge([row("o'brien", 1, [0, 0, 0, 1]), row('b', 3, [0, 1, 0, 0])], []);
    assert.deepEqual([r2.inserted, r2.updated], [0, 1]);
    const after2 = new Map((await t.rowsForIds(["o'brien", 'b'])).map((r) => [r.id, r]));
    assert.equal(after2.get("o'brien")!.sourceVersion, 2);
    assert.deepEqual(Array.from(after2.get('b')!.vector), [0, 1, 0, 0]);
  });

  it('refuses a row whose vector has the wrong dimension', async () => {
    const t = await store.createTable('t_v2', 4);
    await assert.rejects(t.merge([row('x', 1, [1, 2, 3])], []), /3-d vector; the table is 4-d/);
  });
});
