import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as lancedb from '@lancedb/lancedb';
import { Schema } from 'apache-arrow';
import type { VectorRow } from '../../../src/ports/vector-store.js';
import { search, type DocumentResult, type SearchLimits } from '../../../src/search/search.js';
import { LanceStore, rowSchema } from '../../../src/store/lance.js';

const DOCS: Record<string, string[]> = {
  a: ['the cat sat on the mat', 'with another cat nearby'],
  b: ['dogs and cats are pets'],
  c: ['a long document about cars and engines', 'and the mat of a car', 'and more about roads'],
  d: ['cat'],
};

function rows(): VectorRow[] {
  return Object.entries(DOCS).flatMap(([id, chunks], n) =>
    chunks.map((text, c) => ({
      rowKey: `${id}\u001f${c}`,
      id,
      chunk: c,
      chunkCount: chunks.length,
      text,
      vector: Float32Array.from([1, n, c, 1]),
      sourceVersion: 1,
      eventTime: '2026-01-01T00:00:00.000Z',
      eventTimeMs: 1767225600000,
      bronzeSeq: n + 1,
      file: 'a.jsonl',
      line: n + 1,
      batchId: 'b',
      contentHash: `${id}-${c}`,
      modelId: 'local/test',
      dim: 4,
      pipelineVersion: '1',
      embeddedAt: '2026-01-01T00:00:01.000Z',
      metadataJson: JSON.stringify({ title: `title ${id}` }),
      docText: c === 0 ? chunks.join(' ') : null,
    })),
  );
}

const limits: SearchLimits = {
  rrfK: 60,
  hybridCandidates: 10,
  maxK: 100,
  maxWindow: 1000,
  maxQueryChars: 1000,
  maxCandidates: 1000,
  passages: 2,
  defaultMode: 'fts',
  fusion: { method: null, vectorWeight: null },
  metadata: { title: 'string' },
};
const noModel = (): never => {
  throw new Error('fts must not load the model');
};

describe('document-level full-text search (real LanceDB)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'seamline-doctext-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fts scores equal BM25 over a one-row-per-document table; passages come from chunk BM25', async () => {
    const store = await LanceStore.open(path.join(dir, 'a'), { metadata: limits.metadata });
    try {
      const t = await store.createTable('t', 4);
      await t.merge(rows(), []);
      const res = await search(t, noModel, { query: 'cat mat', k: 10, mode: 'fts', filters: [] }, limits);
      const conn = await lancedb.connect(path.join(dir, 'ref'));
      const ref = await conn.createTable(
        'docs',
        Object.entries(DOCS).map(([id, c]) => ({ id, text: c.join(' ') })),
      );
      await ref.createIndex('text', { config: lancedb.Index.fts() });
      const want = (await ref
        .query()
        .fullTextSearch('cat mat', { columns: ['text'] })
        .limit(10)
        .toArray()) as {
        id: string;
        _score: number;
      }[];
      conn.close();
      assert.deepEqual(
        res.results.map((r) => [r.id, r.score.toFixed(5)]),
        want.map((r) => [r.id, r._score.toFixed(5)]),
      );
      const a = res.results.find((r) => r.id === 'a')! as DocumentResult;
      assert.deepEqual(a.passages.map((p) => [p.chunk, p.by]).sort(), [
        [0, 'fts'],
        [1, 'fts'],
      ]);
    } finally {
      store.close();
    }
  });

  it('a table built before doc_text and metadata columns still takes merges; fts falls back and says so; a metadata filter asks for a reindex', async () => {
    const conn = await lancedb.connect(path.join(dir, 'old'));
    const oldSchema = new Schema(rowSchema(4).fields.filter((f) => f.name !== 'doc_text'));
    await conn.createEmptyTable('old', oldSchema);
    conn.close();
    const store = await LanceStore.open(path.join(dir, 'old'), { metadata: limits.metadata });
    try {
      const t = (await store.openTable('old'))!;
      assert.deepEqual(t.features, { docText: false, metadataColumns: [] });
      const r = await t.merge(rows(), []);
      assert.equal(r.inserted, rows().length);
      const res = await search(t, noModel, { query: 'cat mat', k: 10, mode: 'fts', filters: [] }, limits);
      assert.deepEqual(res.results.map((x) => x.id).sort(), ['a', 'b', 'c', 'd']);
      assert.match(res.notes.join(' '), /predates document-level full-text search.*reindex/);
      await assert.rejects(
        search(
          t,
          noModel,
          {
            query: 'cat',
            k: 10,
            mode: 'fts',
            filters: [{ field: 'metadata.title', op: 'eq', value: 'title a' }],
          },
          limits,
        ),
        /has no column for metadata\.title.*seamline reindex/,
      );
    } finally {
      store.close();
    }
  });
});
