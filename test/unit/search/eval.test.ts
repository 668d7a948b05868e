import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  judgedQueries,
  mrrAt,
  ndcgAt,
  parseQrels,
  parseQueries,
  recallAt,
  score,
  scoreFusion,
} from '../../../src/search/eval.js';

const rel = (...ids: string[]): Map<string, number> => new Map(ids.map((id) => [id, 1]));

describe('BEIR files', () => {
  it('qrels: header row, CRLF, grades; errors name file and line', () => {
    const q = parseQrels('query-id\tcorpus-id\tscore\r\n1\td1\t1\r\n1\td2\t1\r\n2\td3\t0\r\n', 'train.tsv');
    assert.deepEqual(
      [...q.get('1')!.entries()],
      [
        ['d1', 1],
        ['d2', 1],
      ],
    );
    assert.equal(q.get('2')!.get('d3'), 0);
    assert.throws(() => parseQrels('query-id\tcorpus-id\tscore\n1\td1\n', 'x.tsv'), /x\.tsv:2: expected/);
    assert.throws(() => parseQrels('query-id\tcorpus-id\tscore\n1\td1\thigh\n', 'x.tsv'), /x\.tsv:2: score/);
    assert.throws(() => parseQrels('query-id\tcorpus-id\tscore\n', 'x.tsv'), /no judgments/);
  });
  it('queries: {_id, text} JSONL; only queries with a relevant judgment are scored', () => {
    const qs = parseQueries('{"_id":"1","text":"a claim","metadata":{}}\n{"_id":2,"text":"b"}\n', 'q.jsonl');
    assert.deepEqual(qs, [
      { id: '1', text: 'a claim' },
      { id: '2', text: 'b' },
    ]);
    assert.throws(() => parseQueries('{"_id":"1"}\n', 'q.jsonl'), /q\.jsonl:1: needs a non-empty "text"/);
    assert.throws(() => parseQueries('nope\n', 'q.jsonl'), /q\.jsonl:1: not JSON/);
    const j = judgedQueries(
      qs,
      new Map([
        ['2', new Map([['d', 0]])],
        ['1', rel('d')],
      ]),
    );
    assert.deepEqual(
      j.map((x) => x.id),
      ['1'],
    );
  });
});

describe('metrics', () => {
  it('nDCG@10 (BEIR: gain = grade, each document once), recall@k, MRR@10', () => {
    assert.equal(ndcgAt(['a', 'b'], rel('a')), 1);
    assert.equal(ndcgAt(['x', 'a'], rel('a')), 1 / Math.log2(3));
    assert.equal(ndcgAt(['a', 'a', 'b'], rel('a', 'b')), (1 + 1 / Math.log2(4)) / (1 + 1 / Math.log2(3)));
    assert.equal(ndcgAt([], rel('a')), 0);
    assert.equal(recallAt(['a', 'x'], rel('a', 'b'), 10), 0.5);
    assert.equal(recallAt(['x', 'a'], rel('a'), 1), 0);
    assert.equal(mrrAt(['x', 'y', 'a'], rel('a')), 1 / 3);
    assert.equal(mrrAt(['x'], rel('a')), 0);
  });
  it('score averages over the queries', () => {
    const qs = [
      { id: '1', text: 'q', relevant: rel('a') },
      { id: '2', text: 'q', relevant: rel('b') },
    ];
    const m = score([['a'], ['x']], qs);
    assert.deepEqual(m, { ndcg10: 0.5, recall10: 0.5, recall100: 0.5, mrr10: 0.5, queries: 2 });
  });
  it('scoreFusion ranks exactly as fuse() does (the sweep measures what search serves)', () => {
    const qs = [{ id: '1', text: 'q', relevant: rel('b') }];
    const runs = {
      vector: [
        [
          { key: 'a', score: 0.9 },
          { key: 'b', score: 0.8 },
        ],
      ],
      fts: [[{ key: 'b', score: 5 }]],
    };
    assert.equal(scoreFusion(runs, qs, { method: 'rrf', vectorWeight: 1, rrfK: 60 }).mrr10, 0.5);
    assert.equal(scoreFusion(runs, qs, { method: 'rrf', vectorWeight: 0.5, rrfK: 60 }).mrr10, 1);
  });
});
