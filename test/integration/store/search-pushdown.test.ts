import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { VectorRow, VectorTable } from '../../../src/ports/vector-store.js';
import {
  search,
  type DocumentResult,
  type SearchLimits,
  type SearchMode,
} from '../../../src/search/search.js';
import { LanceStore } from '../../../src/store/lance.js';

// 100,000 rows in a real LanceDB table: 50,000 documents of 2 chunks each. One document has a rare
// title; every document belongs to one of 1,000 groups (50 documents each). Filters must be exact for
// any query: the rare document comes back for an unrelated query, and a group filter returns k documents.
const DOCS = 50_000;
const DIM = 8;
const RARE = 'doc-31337';
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'omega', 'sigma', 'kappa', 'theta', 'lambda', 'zeta'];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function rowsOf(from: number, to: number, rand: () => number): VectorRow[] {
  const out: VectorRow[] = [];
  for (let i = from; i < to; i++) {
    const id = `doc-${i}`;
    const title = id === RARE ? 'The one rare title' : 'common';
    const words = (n: number): string =>
      Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]!).join(' ');
    const texts = [words(12), words(12)];
    for (let c = 0; c < 2; c++)
      out.push({
        rowKey: `${id}\u001f${c}`,
        id,
        chunk: c,
        chunkCount: 2,
        text: texts[c]!,
        vector: Float32Array.from({ length: DIM }, () => rand() * 2 - 1),
        sourceVersion: 1,
        eventTime: '2026-01-01T00:00:00.000Z',
        eventTimeMs: 1767225600000,
        bronzeSeq: i + 1,
        file: 'a.jsonl',
        line: i + 1,
        batchId: 'b',
        contentHash: `${id}-${c}`,
        modelId: 'local/test',
        dim: DIM,
        pipelineVersion: '1',
        embeddedAt: '2026-01-01T00:00:01.000Z',
        metadataJson: JSON.stringify({ title, group: i % 1000 }),
        docText: c === 0 ? texts.join(' ') : null,
      });
  }
  return out;
}

const limits: SearchLimits = {
  rrfK: 60,
  hybridCandidates: 100,
  maxK: 100,
  maxWindow: 1000,
  maxQueryChars: 1000,
  maxCandidates: 20_000,
  passages: 1,
  defaultMode: 'hybrid',
  fusion: { method: null, vectorWeight: null },
  metadata: { title: 'string', group: 'integer' },
};
const noModel = (): never => {
  throw new Error('the model must not be loaded: the query vector is given');
};

describe('filters are pushed down into LanceDB (100,000 rows)', () => {
  let dir: string;
  let store: LanceStore;
  let table: VectorTable;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'seamline-pushdown-'));
    store = await LanceStore.open(dir, { metadata: limits.metadata });
    table = await store.createTable('t', DIM);
    const rand = rng(7);
    for (let i = 0; i < DOCS; i += 10_000) await table.merge(rowsOf(i, i + 10_000, rand), []);
    assert.equal(await table.countRows(), 100_000);
    assert.deepEqual(table.features, { docText: true, metadataColumns: ['group', 'title'] });
  });
  after(() => {
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (
    mode: SearchMode,
    query: string,
    filters: { field: string; op: 'eq'; value: unknown }[],
    k: number,
    seed: number,
  ) => {
    const r = rng(seed);
    return search(table, noModel, { query, k, mode, filters, granularity: 'document' }, limits, {
      queryVector: Float32Array.from({ length: DIM }, () => r() * 2 - 1),
      modelId: 'local/test',
    });
  };

  it('a filter matching 1 document in 100,000 rows returns it, for an unrelated query, in every mode', async () => {
    for (const mode of ['vector', 'fts', 'hybrid'] as const) {
      const res = await run(
        mode,
        'alpha omega',
        [{ field: 'metadata.title', op: 'eq', value: 'The one rare title' }],
        10,
        1,
      );
      assert.deepEqual(
        res.results.map((d) => d.id),
        [RARE],
        `mode ${mode}`,
      );
      assert.equal(res.partial, false);
      const doc = res.results[0] as DocumentResult;
      assert.equal(doc.chunkCount, 2);
      assert.equal(doc.passages.length, 1);
      assert.deepEqual(doc.metadata, { title: 'The one rare title', group: 31337 % 1000 });
    }
  });

  it('a filter matching n ≥ k documents returns exactly k distinct documents for every query tried', async () => {
    for (let q = 0; q < 5; q++)
      for (const mode of ['vector', 'fts', 'hybrid'] as const) {
        const g = (q * 137) % 1000;
        const res = await run(
          mode,
          `${WORDS[q]} ${WORDS[q + 3]}`,
          [{ field: 'metadata.group', op: 'eq', value: g }],
          10,
          100 + q,
        );
        const ids = res.results.map((d) => d.id);
        assert.equal(ids.length, 10, `mode ${mode} query ${q}`);
        assert.equal(new Set(ids).size, 10);
        for (const d of res.results) assert.equal((d.metadata as { group: number }).group, g);
      }
    // All 50 documents of a group, over pages of 20: no duplicates, none missing, then no next page.
    const seen = new Set<string>();
    let offset: number | null = 0;
    while (offset !== null) {
      const r = rng(9);
      const res = await search(
        table,
        noModel,
        {
          query: 'beta',
          k: 20,
          offset,
          mode: 'vector',
          filters: [{ field: 'metadata.group', op: 'eq', value: 42 }],
        },
        limits,
        { queryVector: Float32Array.from({ length: DIM }, () => r() * 2 - 1), modelId: 'local/test' },
      );
      for (const d of res.results) seen.add(d.id);
      offset = res.nextOffset;
    }
    assert.equal(seen.size, 50);
  });

  it('granularity chunk keeps chunk rows; a metadata field the table has no column for is refused', async () => {
    const r = rng(3);
    const res = await search(
      table,
      noModel,
      {
        query: 'alpha',
        k: 4,
        mode: 'vector',
        filters: [{ field: 'metadata.title', op: 'eq', value: 'The one rare title' }],
        granularity: 'chunk',
      },
      limits,
      { queryVector: Float32Array.from({ length: DIM }, () => r() * 2 - 1), modelId: 'local/test' },
    );
    assert.deepEqual(res.results.map((x) => `${x.id}#${(x as { chunk: number }).chunk}`).sort(), [
      `${RARE}#0`,
      `${RARE}#1`,
    ]);
    await assert.rejects(
      search(
        table,
        noModel,
        { query: 'alpha', k: 4, mode: 'fts', filters: [{ field: 'metadata.lang', op: 'eq', value: 'en' }] },
        { ...limits, metadata: { ...limits.metadata, lang: 'string' } },
      ),
      /has no column for metadata\.lang.*reindex/,
    );
  });
});
