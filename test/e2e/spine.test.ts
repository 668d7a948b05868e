import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { env, pipeline } from '@huggingface/transformers';
import { packageRoot } from '../../src/config/load.js';
import { jsonl, runJson, workspace, type Workspace } from '../helpers/cli.js';
import { servingRows } from '../helpers/table.js';

interface Rec {
  id: string;
  version: number;
  event_time: string;
  text: string;
}

/** 1,000 records across three files; 100 ids get a higher version in a later file. */
function corpus(): { files: Rec[][]; latest: Map<string, Rec> } {
  const words = (
    'river granite lantern orchard violin harbor comet meadow falcon copper glacier pepper castle desert engine forest garden island jungle kettle ' +
    'ladder market needle ocean palace quarry rocket saddle temple umbrella valley wagon yacht zebra anchor basket candle dragon eagle feather ' +
    'guitar hammer igloo jacket kitten lemon mirror nickel oyster pillow rabbit silver tiger velvet window barley cactus dolphin ember fossil'
  ).split(' ');
  let seed = 42;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
  const text = (i: number, v: number): string =>
    `record ${i} version ${v}: ` +
    Array.from({ length: 7 }, () => words[Math.floor(rnd() * words.length)]).join(' ');
  const a: Rec[] = [];
  const b: Rec[] = [];
  const c: Rec[] = [];
  for (let i = 0; i < 450; i++)
    a.push({ id: `doc-${i}`, version: 1, event_time: '2026-03-01T10:00:00Z', text: text(i, 1) });
  for (let i = 450; i < 900; i++)
    b.push({ id: `doc-${i}`, version: 1, event_time: '2026-03-01T11:00:00+01:00', text: text(i, 1) });
  for (let i = 0; i < 100; i++)
    c.push({
      id: `doc-${i * 9}`,
      version: 2 + (i % 3),
      event_time: '2026-03-02T09:30:00.250Z',
      text: text(i * 9, 2 + (i % 3)),
    });
  const latest = new Map<string, Rec>();
  for (const r of [...a, ...b, ...c]) {
    const cur = latest.get(r.id);
    if (!cur || r.version > cur.version) latest.set(r.id, r);
  }
  return { files: [a, b, c], latest };
}

describe('the spine: files in, searchable vectors out (subprocess CLI)', () => {
  let ws: Workspace;
  const { files, latest } = corpus();

  before(() => {
    ws = workspace();
    files.forEach((f, i) => ws.drop(`batch-${i}.jsonl`, jsonl(f)));
  });
  after(() => ws.cleanup());

  it('ingest --once lands 1,000 records and the table holds one row per id at its highest version', async () => {
    const out = await runJson<{ filesLanded: number; records: number; tableRows: number }>(
      ['ingest', '--once'],
      ws.env(),
    );
    assert.equal(out.filesLanded, 3);
    assert.equal(out.records, 1000);
    const rows = await servingRows(ws.data);
    assert.equal(rows.length, latest.size, 'one row per id (texts are short: one chunk)');
    const byId = new Map(rows.map((r) => [r.id, r]));
    assert.equal(byId.size, rows.length, 'no duplicate ids');
    for (const [id, rec] of latest) {
      const row = byId.get(id);
      assert.ok(row, `missing ${id}`);
      assert.equal(row.sourceVersion, rec.version, `${id} version`);
      assert.equal(row.text, rec.text, `${id} text`);
      assert.equal(row.vector.length, 100);
    }
  });

  it('search --json returns the exact-text record first, with provenance', async () => {
    const target = latest.get('doc-123')!;
    const res = await runJson<{
      results: {
        id: string;
        score: number;
        text: string;
        provenance: { file: string; line: number; sourceVersion: number };
      }[];
    }>(['search', target.text, '-k', '5', '--mode', 'vector'], ws.env());
    assert.equal(res.results.length, 5);
    assert.equal(res.results[0]!.id, 'doc-123');
    assert.ok(res.results[0]!.score > 0.999, `cosine of identical text is ~1, got ${res.results[0]!.score}`);
    assert.equal(res.results[0]!.provenance.file, 'batch-0.jsonl');
    assert.equal(res.results[0]!.provenance.line, 124);
  });

  it('running ingest --once again changes nothing', async () => {
    const before = await servingRows(ws.data);
    const out = await runJson<{
      batches: number;
      inserted: number;
      updated: number;
      deleted: number;
      embedded: number;
    }>(['ingest', '--once'], ws.env());
    assert.deepEqual([out.batches, out.inserted, out.updated, out.deleted, out.embedded], [0, 0, 0, 0, 0]);
    const afterRows = await servingRows(ws.data);
    const key = (r: (typeof before)[number]): string =>
      JSON.stringify([
        r.rowKey,
        r.sourceVersion,
        r.bronzeSeq,
        r.batchId,
        r.contentHash,
        Array.from(r.vector),
      ]);
    assert.deepEqual(afterRows.map(key).sort(), before.map(key).sort());
  });

  it('stores vectors equal to the model run directly on the same text (within 1e-6)', async () => {
    env.localModelPath = `${path.join(packageRoot(), 'models')}/`;
    env.allowRemoteModels = false;
    const extractor = await pipeline('feature-extraction', 'local/glove-sif-100d');
    const rows = (await servingRows(ws.data)).slice(0, 25);
    const out = await extractor(
      rows.map((r) => r.text),
      { pooling: 'mean', normalize: true },
    );
    const dim = out.dims[1]!;
    const data = out.data as Float32Array;
    let maxDiff = 0;
    rows.forEach((r, i) => {
      for (let j = 0; j < dim; j++) maxDiff = Math.max(maxDiff, Math.abs(r.vector[j]! - data[i * dim + j]!));
    });
    assert.ok(maxDiff <= 1e-6, `max abs difference ${maxDiff}`);
    await extractor.dispose();
  });

  it('status --json accounts for every record', async () => {
    const s = await runJson<{
      records: { read: number; landed: number; quarantined: number };
      table: { rows: number; backlogRecords: number };
    }>(['status'], ws.env());
    assert.equal(s.records.read, 1000);
    assert.equal(s.records.landed + s.records.quarantined, s.records.read);
    assert.equal(s.table.rows, latest.size);
    assert.equal(s.table.backlogRecords, 0);
  });
});
