import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collapseChunks, page } from '../../../src/search/collapse.js';
import { FALLBACK_FUSION, fusionFor, FUSION_DEFAULTS } from '../../../src/search/defaults.js';
import { fuse } from '../../../src/search/fusion.js';

const list = (...keys: string[]): { key: string; score: number }[] =>
  keys.map((key, i) => ({ key, score: 10 - i }));

describe('weighted fusion', () => {
  it('weighted RRF: score = wv/(k + rank_v) + wf/(k + rank_f), each side keeps its score and rank', () => {
    const f = fuse(list('a', 'b', 'c'), list('c', 'd'), { method: 'rrf', vectorWeight: 0.5, rrfK: 60 });
    assert.deepEqual(
      f.map((x) => x.key),
      ['c', 'a', 'b', 'd'],
    );
    assert.equal(f[0]!.score, 0.5 / 63 + 0.5 / 61);
    assert.deepEqual(f[0]!.vector, { score: 8, rank: 3 });
    assert.deepEqual(f[0]!.fts, { score: 10, rank: 1 });
    assert.equal(f[3]!.vector, undefined);
  });
  it('weight 0 on a side reproduces the other side exactly (so the sweep can never lose to it)', () => {
    const v = list('a', 'b', 'c');
    const t = list('x', 'b', 'y');
    for (const method of ['rrf', 'minmax'] as const) {
      assert.deepEqual(
        fuse(v, t, { method, vectorWeight: 0, rrfK: 60 })
          .slice(0, 3)
          .map((x) => x.key),
        ['x', 'b', 'y'],
      );
      assert.deepEqual(
        fuse(v, t, { method, vectorWeight: 1, rrfK: 60 })
          .slice(0, 3)
          .map((x) => x.key),
        ['a', 'b', 'c'],
      );
    }
  });
  it('a heavier side wins the disagreements', () => {
    const v = list('a', 'b');
    const t = list('b', 'a');
    assert.equal(fuse(v, t, { method: 'rrf', vectorWeight: 0.2, rrfK: 10 })[0]!.key, 'b');
    assert.equal(fuse(v, t, { method: 'rrf', vectorWeight: 0.8, rrfK: 10 })[0]!.key, 'a');
  });
  it('minmax normalizes each side over its own list; a missing side contributes 0', () => {
    const v = [
      { key: 'a', score: 0.9 },
      { key: 'b', score: 0.5 },
    ];
    const t = [
      { key: 'b', score: 30 },
      { key: 'c', score: 10 },
    ];
    const f = fuse(v, t, { method: 'minmax', vectorWeight: 0.5, rrfK: 60 });
    const by = new Map(f.map((x) => [x.key, x.score]));
    assert.equal(by.get('a'), 0.5);
    assert.equal(by.get('b'), 0.5);
    assert.equal(by.get('c'), 0);
    // Ties break on the better single-side rank, then key: deterministic.
    assert.deepEqual(
      f.map((x) => x.key),
      ['a', 'b', 'c'],
    );
    // One-item list: that item normalizes to 1.
    assert.equal(
      fuse([{ key: 'z', score: 0.1 }], [], { method: 'minmax', vectorWeight: 1, rrfK: 1 })[0]!.score,
      1,
    );
  });
  it('a key repeated inside one list counts once, at its first rank', () => {
    const f = fuse(list('a', 'a', 'b'), [], { method: 'rrf', vectorWeight: 1, rrfK: 1 });
    assert.equal(f.length, 2);
    assert.equal(f[0]!.score, 0.5);
  });
  it('defaults: documented per model, config overrides, a fallback for other models', () => {
    assert.deepEqual(fusionFor('local/glove-sif-100d', { method: null, vectorWeight: null }, 60), {
      ...FUSION_DEFAULTS['local/glove-sif-100d']!,
      rrfK: 60,
    });
    assert.deepEqual(fusionFor('local/glove-sif-100d', { method: 'minmax', vectorWeight: 0.9 }, 5), {
      method: 'minmax',
      vectorWeight: 0.9,
      rrfK: 5,
    });
    assert.deepEqual(fusionFor('hub/other', { method: null, vectorWeight: null }, 60), {
      ...FALLBACK_FUSION,
      rrfK: 60,
    });
  });
});

describe('collapse chunks into documents', () => {
  it('a document scores its best chunk and keeps its chunks best first', () => {
    const hits = [
      { id: 'a', chunk: 2, s: 0.9 },
      { id: 'b', chunk: 0, s: 0.8 },
      { id: 'a', chunk: 0, s: 0.7 },
      { id: 'c', chunk: 1, s: 0.6 },
      { id: 'b', chunk: 3, s: 0.5 },
    ];
    const docs = collapseChunks(
      hits,
      (h) => h.id,
      (h) => h.s,
    );
    assert.deepEqual(
      docs.map((d) => [d.id, d.score, d.chunks.map((c) => c.chunk)]),
      [
        ['a', 0.9, [2, 0]],
        ['b', 0.8, [0, 3]],
        ['c', 0.6, [1]],
      ],
    );
    assert.deepEqual(collapseChunks([], String, Number), []);
  });
});

describe('pagination', () => {
  const items = ['a', 'b', 'c', 'd', 'e'];
  it('slices [offset, offset + k) and says where the next page starts', () => {
    assert.deepEqual(page(items, 0, 2, false), { items: ['a', 'b'], nextOffset: 2 });
    assert.deepEqual(page(items, 2, 2, false), { items: ['c', 'd'], nextOffset: 4 });
    assert.deepEqual(page(items, 4, 2, false), { items: ['e'], nextOffset: null });
    assert.deepEqual(page(items, 9, 2, false), { items: [], nextOffset: null });
  });
  it('a full last page has a next page only when the store said more may follow', () => {
    assert.deepEqual(page(items, 3, 2, false), { items: ['d', 'e'], nextOffset: null });
    assert.deepEqual(page(items, 3, 2, true), { items: ['d', 'e'], nextOffset: 5 });
  });
});
