import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  badVector,
  distinctIds,
  ndcgAt,
  ndcgGate,
  overlapGate,
  ParityCheck,
  parseEvaluation,
  topkOverlap,
  type KeyEntry,
} from '../../../src/reindex/gates.js';
import { formatDuration, formatProgress, rateAndEta } from '../../../src/reindex/progress.js';
import { RateLimiter } from '../../../src/reindex/rate.js';

const row = (id: string, chunk: number, chunkCount: number, bronzeSeq: number) => ({
  rowKey: `${id}\u001f${chunk}`,
  id,
  chunk,
  chunkCount,
  bronzeSeq,
});

describe('parity gate', () => {
  const keys = new Map<string, KeyEntry>([
    ['a', { seq: 1, deleted: false }],
    ['b', { seq: 5, deleted: false }],
    ['c', { seq: 3, deleted: true }],
    ['d', { seq: 9, deleted: false }], // winner newer than the catch-up: in flight, excused
  ]);

  it('passes when every live id has chunks 0..n-1 once at its winning seq', () => {
    const p = new ParityCheck();
    p.add([row('a', 0, 1, 1), row('b', 0, 2, 5), row('b', 1, 2, 5)]);
    const g = p.finish(keys, 8);
    assert.equal(g.passed, true, g.figure);
    assert.equal(g.details.checkedIds, 2);
    assert.equal(g.details.excusedInFlight, 1);
  });

  it('fails on a missing id, an extra (deleted) id, a stale row, a chunk gap and a duplicate', () => {
    const cases: [string, ReturnType<typeof row>[], string][] = [
      ['missing', [row('a', 0, 1, 1)], 'missing'],
      ['extra', [row('a', 0, 1, 1), row('b', 0, 1, 5), row('c', 0, 1, 3)], 'extra'],
      ['stale', [row('a', 0, 1, 1), row('b', 0, 1, 4)], 'stale'],
      ['gap', [row('a', 0, 1, 1), row('b', 0, 3, 5), row('b', 2, 3, 5)], 'badChunks'],
      ['duplicate', [row('a', 0, 1, 1), row('a', 0, 1, 1), row('b', 0, 1, 5)], 'duplicateRows'],
    ];
    for (const [name, rows, field] of cases) {
      const p = new ParityCheck();
      p.add(rows);
      const g = p.finish(keys, 8);
      assert.equal(g.passed, false, `${name} must fail: ${g.figure}`);
      assert.ok((g.details[field] as number) > 0, `${name} counted under ${field}`);
    }
  });
});

describe('vector, overlap and nDCG gates', () => {
  it('badVector catches NaN, Infinity and wrong dimension', () => {
    assert.equal(badVector(new Float32Array([0.1, 0.2]), 2), false);
    assert.equal(badVector(new Float32Array([NaN, 0.2]), 2), true);
    assert.equal(badVector(new Float32Array([Infinity, 0.2]), 2), true);
    assert.equal(badVector(new Float32Array([0.1]), 2), true);
  });

  it('topkOverlap is the shared share of the top-k', () => {
    const h = (key: string, score: number) => ({ key, score });
    assert.equal(
      topkOverlap([h('a', 0.9), h('b', 0.8), h('c', 0.7)], [h('c', 0.7), h('b', 0.8), h('a', 0.9)], 3),
      1,
    );
    assert.equal(topkOverlap([h('a', 0.9), h('b', 0.8)], [h('a', 0.9), h('x', 0.5)], 2), 0.5);
    // x ties the old 2nd score: equal-scored rows may come back in any order
    assert.equal(topkOverlap([h('a', 0.9), h('b', 0.8)], [h('a', 0.9), h('x', 0.8)], 2), 1);
    assert.equal(topkOverlap([], [], 10), 1);
    assert.equal(overlapGate([1, 0.5], 2, 0.8).passed, false);
    assert.equal(overlapGate([1, 0.9], 2, 0.8).passed, true);
  });

  it('nDCG@10: perfect ranking is 1, nothing relevant found is 0, no relevant ids is null', () => {
    const rel = new Map([
      ['a', 1],
      ['b', 1],
    ]);
    assert.equal(ndcgAt(['a', 'b', 'x'], rel), 1);
    assert.equal(ndcgAt(['x', 'y'], rel), 0);
    assert.equal(ndcgAt(['a'], new Map()), null);
    const swapped = ndcgAt(['x', 'a', 'b'], rel)!;
    assert.ok(swapped > 0 && swapped < 1);
    // graded: the higher grade first is ideal
    assert.equal(
      ndcgAt(
        ['b', 'a'],
        new Map([
          ['a', 1],
          ['b', 3],
        ]),
      ),
      1,
    );
  });

  it('the nDCG gate fails on a drop beyond the threshold or below the floor', () => {
    assert.equal(ndcgGate(0.9, 0.89, 10, 0.02, 0).passed, true);
    assert.equal(ndcgGate(0.9, 0.85, 10, 0.02, 0).passed, false);
    assert.equal(ndcgGate(0.2, 0.2, 10, 0.02, 0.5).passed, false);
    assert.equal(ndcgGate(null, 0.6, 10, 0.02, 0.5).passed, true);
  });

  it('distinctIds keeps the first chunk of each record', () => {
    assert.deepEqual(distinctIds([{ id: 'a' }, { id: 'a' }, { id: 'b' }, { id: 'c' }], 2), ['a', 'b']);
  });

  it('parseEvaluation reads JSONL or a JSON array, binary or graded, and names bad lines', () => {
    const q = parseEvaluation('{"query":"x","relevant":["a","b"]}\n\n{"query":"y","relevant":{"c":2}}\n');
    assert.equal(q.length, 2);
    assert.deepEqual(
      [...q[0]!.relevant],
      [
        ['a', 1],
        ['b', 1],
      ],
    );
    assert.deepEqual([...q[1]!.relevant], [['c', 2]]);
    assert.equal(parseEvaluation('[{"query":"x","relevant":["a"]}]').length, 1);
    assert.throws(() => parseEvaluation('{"query":"x"}\nnot json'), /line 1|line 2/);
    assert.throws(() => parseEvaluation('{"query":"","relevant":[]}'), /line 1: "query"/);
  });
});

describe('throughput cap and progress', () => {
  it('RateLimiter holds the long-run rate at the cap', () => {
    const r = new RateLimiter(100, 100);
    let now = 0;
    let taken = 0;
    for (let i = 0; i < 50; i++) {
      now += r.take(50, now);
      taken += 50;
    }
    // 2,500 records at 100/s with a 100-record burst: about 24 s.
    assert.ok(now >= 23_000 && now <= 25_100, `elapsed ${now} ms for ${taken} records`);
    assert.equal(new RateLimiter(0).take(1e9, 0), 0, 'no cap');
  });

  it('rate and ETA come from this process and what is left', () => {
    const s = { phase: 'build', table: 't_v2', done: 600, total: 1000, doneHere: 500, elapsedMs: 5000 };
    assert.deepEqual(rateAndEta(s), { rate: 100, etaMs: 4000 });
    assert.match(formatProgress(s), /600\/1000 records \(60%\), 100 rec\/s, ETA 4s/);
    assert.equal(formatDuration(125_000), '2m05s');
    assert.equal(rateAndEta({ ...s, doneHere: 0 }).etaMs, null);
  });
});
