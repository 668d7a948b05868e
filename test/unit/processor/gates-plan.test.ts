import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BronzeEvent } from '../../../src/ports/bronze.js';
import { GatesSchema } from '../../../src/config/schema.js';
import { median, outputGate, quarantineGate, vectorGate } from '../../../src/processor/gates.js';
import {
  contentHash,
  desiredRowsFor,
  planMaterialize,
  rowKeyOf,
  vectorRowOf,
  winners,
} from '../../../src/processor/materialize-plan.js';
import type { VectorRow } from '../../../src/ports/vector-store.js';

const g = {
  ...GatesSchema.parse({}),
  quarantineMinRecords: 10,
  outputMinRows: 10,
  outputMinHistory: 3,
  outputFactor: 5,
};

const ev = (
  id: string,
  version: number,
  t: number,
  seq: number,
  op: 'upsert' | 'delete' = 'upsert',
  text = `text of ${id} v${version}`,
): BronzeEvent => ({
  seq,
  fileId: 1,
  file: 'f.jsonl',
  line: seq,
  offset: 0,
  id,
  version,
  eventTime: new Date(t).toISOString(),
  eventTimeMs: t,
  op,
  text,
  metadataJson: '{}',
  landedAtMs: 0,
});

describe('quality gates (pure)', () => {
  it('quarantine ratio: passes at the threshold, fails above it, ignores small inputs', () => {
    assert.equal(quarantineGate({ files: 2, read: 100, quarantined: 50 }, g), null);
    const v = quarantineGate({ files: 2, read: 100, quarantined: 51 }, g);
    assert.equal(v?.failureMode, 'quarantine_ratio');
    assert.equal(v?.affectedRows, 51);
    assert.match(v.guard, /maxQuarantineRatio=0.5/);
    assert.equal(
      quarantineGate({ files: 1, read: 9, quarantined: 9 }, g),
      null,
      'below quarantineMinRecords',
    );
  });

  it('output anomaly: per-record ratio against the median of recent batches, needs history and a minimum size', () => {
    const hist = [1, 1, 2, 1, 3].map((r) => ({ recordsIn: 10, rowsOut: 10 * r }));
    assert.equal(median(hist.map((h) => h.rowsOut / h.recordsIn)), 1);
    assert.equal(outputGate(50, 10, hist, g), null, '5 per record = 5 × median: allowed');
    assert.equal(outputGate(51, 10, hist, g)?.failureMode, 'output_anomaly');
    assert.equal(outputGate(5000, 2000, hist, g), null, 'a big batch is not an anomaly by size alone');
    assert.equal(outputGate(51, 10, hist.slice(0, 2), g), null, 'not enough history');
    assert.equal(outputGate(9, 1, hist, g), null, 'below outputMinRows');
  });

  it('vectors: NaN and wrong dimension fail', () => {
    assert.equal(vectorGate([new Float32Array([1, 0])], 2), null);
    assert.equal(
      vectorGate([new Float32Array([NaN, 0]), new Float32Array([1]), new Float32Array([0, 1])], 2)
        ?.affectedRows,
      2,
    );
  });
});

describe('ordering and the materialize plan (pure)', () => {
  it('winners: highest version, then event time, then bronze seq; order of arrival does not matter', () => {
    const es = [
      ev('a', 2, 100, 1),
      ev('a', 3, 50, 2),
      ev('a', 1, 900, 3),
      ev('b', 1, 10, 4),
      ev('b', 1, 10, 5),
      ev('c', 4, 10, 6),
      ev('c', 4, 20, 7, 'delete'),
    ];
    for (const order of [es, [...es].reverse()]) {
      const w = winners(order);
      assert.equal(w.get('a')!.seq, 2);
      assert.equal(w.get('b')!.seq, 5);
      assert.equal(w.get('c')!.op, 'delete');
    }
  });

  const row = (d: ReturnType<typeof desiredRowsFor>[number], batchId = 'b1'): VectorRow =>
    vectorRowOf(d, new Float32Array([1, 0]), {
      batchId,
      modelId: 'm',
      dim: 2,
      pipelineVersion: '1',
      embeddedAt: '',
    });

  it('a newer version with fewer chunks updates the kept chunks and removes the extra ones; a metadata-only update reuses the vector', () => {
    const v1 = desiredRowsFor(
      ev('a', 1, 1, 1, 'upsert', 'x'),
      [
        { text: 'one', tokens: 1 },
        { text: 'two', tokens: 1 },
        { text: 'three', tokens: 1 },
      ],
      'm',
    );
    const existing = v1.map((d) => row(d));
    const v2 = desiredRowsFor(ev('a', 2, 2, 9), [{ text: 'one', tokens: 1 }], 'm');
    const p = planMaterialize(v2, existing, 'm');
    assert.deepEqual(p.expected, { inserted: 0, updated: 1, deleted: 2 });
    assert.deepEqual(p.removals.map((r) => r.rowKey).sort(), [rowKeyOf('a', 1), rowKeyOf('a', 2)]);
    assert.ok(p.decisions[0]!.reuse, 'same text (content hash) → vector reused, nothing to embed');
    assert.equal(p.decisions[0]!.desired.contentHash, contentHash('m', 'one'));
  });

  it('re-planning what the table already holds is all keep (idempotent); a delete removes every chunk; a newer row in the table is an anomaly', () => {
    const d = desiredRowsFor(
      ev('a', 1, 1, 1),
      [
        { text: 'one', tokens: 1 },
        { text: 'two', tokens: 1 },
      ],
      'm',
    );
    const existing = d.map((x) => row(x));
    const same = planMaterialize(d, existing, 'm');
    assert.deepEqual(same.expected, { inserted: 0, updated: 0, deleted: 0 });
    assert.ok(same.decisions.every((x) => x.action === 'keep'));
    assert.equal(desiredRowsFor(ev('a', 2, 2, 2, 'delete'), [], 'm').length, 0);
    assert.equal(planMaterialize([], existing, 'm').expected.deleted, 2);
    const older = desiredRowsFor(ev('a', 0, 1, 1), [{ text: 'one', tokens: 1 }], 'm');
    assert.equal(planMaterialize(older, existing, 'm').anomalies.length, 1);
  });

  it('vectors are reused only under the same model', () => {
    const d = desiredRowsFor(ev('a', 1, 1, 1), [{ text: 'one', tokens: 1 }], 'm');
    const other = { ...row(d[0]!), modelId: 'other', rowKey: rowKeyOf('z', 0), id: 'z' };
    assert.equal(planMaterialize(d, [other], 'm').decisions[0]!.reuse, undefined);
  });
});
