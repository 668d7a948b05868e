import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import * as lancedb from '@lancedb/lancedb';
import { jsonl, runCli, runJson, workspace, type Workspace } from '../helpers/cli.js';
import { servingRows } from '../helpers/table.js';

const rec = (id: string, version: number, text: string, op?: 'delete') => ({
  id,
  version,
  event_time: '2024-05-01T10:00:00Z',
  text,
  ...(op ? { op } : {}),
});

interface Report {
  consistent: boolean;
  counts: Record<string, number>;
  findings: { kind: string; id: string; batchId?: string }[];
  unreflectedBatches: { batchId: string; ids: number }[];
  repaired?: { replayedIds: number; rowsCleared: number; unexplainedIds: string[] };
  after?: Report;
}

async function withTable<T>(w: Workspace, fn: (t: lancedb.Table) => Promise<T>): Promise<T> {
  const db = await lancedb.connect(path.join(w.data, 'lance'));
  const t = await db.openTable('records_v1');
  try {
    return await fn(t);
  } finally {
    t.close();
    db.close();
  }
}

async function verifyJson(w: Workspace, repair = false): Promise<{ code: number | null; report: Report }> {
  const r = await runCli(['verify', '--json', ...(repair ? ['--repair'] : [])], w.env());
  return { code: r.code, report: JSON.parse(r.stdout) as Report };
}

describe('verify finds and repairs damage done behind the pipeline', () => {
  const w = workspace();
  after(() => w.cleanup());

  it('detects a deleted row, a duplicate, a rollback and an unknown id; --repair fixes all it can explain', async () => {
    w.drop(
      'one.jsonl',
      jsonl([
        rec('a', 1, 'alpha river'),
        rec('b', 1, 'bravo mountain'),
        rec('c', 1, 'charlie lake'),
        rec('d', 1, 'delta forest'),
        rec('e', 1, 'echo valley'),
      ]),
    );
    await runJson(['ingest', '--once'], w.env());
    w.drop(
      'two.jsonl',
      jsonl([
        rec('a', 2, 'alpha river, second version'),
        rec('f', 1, 'foxtrot desert'),
        rec('e', 2, '', 'delete'),
      ]),
    );
    await runJson(['ingest', '--once'], w.env());
    assert.equal((await verifyJson(w)).code, 0);
    const good = (await servingRows(w.data)).map((r) => `${r.rowKey}@${r.sourceVersion}`).sort();

    // 1. Roll the table back one version (before batch two), as a lost commit would.
    await withTable(w, async (t) => {
      const v = await t.version();
      await t.checkout(v - 1);
      await t.restore();
    });
    let { code, report } = await verifyJson(w);
    assert.equal(code, 9);
    assert.equal(report.consistent, false);
    assert.deepEqual(report.findings.map((f) => `${f.kind}:${f.id}`).sort(), [
      'deleted_present:e',
      'missing:f',
      'stale:a',
    ]);
    assert.equal(report.unreflectedBatches.length, 1);
    assert.match(report.unreflectedBatches[0]!.batchId, /records_v1:6-8/);

    // 2. Delete a row behind the pipeline's back, 3. insert a duplicate (id, chunk) row, 4. a row bronze never saw.
    await withTable(w, async (t) => {
      await t.delete(`id = 'b'`);
      const [c] = (await t.query().where(`id = 'c'`).toArray()) as Record<string, unknown>[];
      const copy = { ...c!, vector: Array.from(c!.vector as Iterable<number>) };
      await t.add([copy, { ...copy, id: 'ghost', row_key: 'ghost\u001f0' }]);
    });
    ({ code, report } = await verifyJson(w));
    assert.equal(code, 9);
    assert.deepEqual(report.findings.map((f) => `${f.kind}:${f.id}`).sort(), [
      'deleted_present:e',
      'duplicate:c',
      'missing:b',
      'missing:f',
      'stale:a',
      'unknown_id:ghost',
    ]);

    // Repair replays from bronze; the unexplained id is reported and left alone (exit stays 9).
    ({ code, report } = await verifyJson(w, true));
    assert.equal(code, 9);
    assert.equal(report.repaired!.replayedIds, 5);
    assert.deepEqual(report.repaired!.unexplainedIds, ['ghost']);
    assert.deepEqual(
      report.after!.findings.map((f) => `${f.kind}:${f.id}`),
      ['unknown_id:ghost'],
    );

    // The operator removes the row they judged foreign; the second verify is clean and the table equals the undamaged one.
    await withTable(w, (t) => t.delete(`id = 'ghost'`));
    ({ code, report } = await verifyJson(w));
    assert.equal(code, 0);
    assert.equal(report.consistent, true);
    assert.deepEqual((await servingRows(w.data)).map((r) => `${r.rowKey}@${r.sourceVersion}`).sort(), good);
  });
});
