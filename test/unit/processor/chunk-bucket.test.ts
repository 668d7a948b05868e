import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { paddingEfficiency, planBuckets } from '../../../src/embed/bucket.js';
import { chunkText, splitWords } from '../../../src/embed/chunk.js';

const chunk = (text: string, perWord: (w: string) => number, max: number, overlap: number) => {
  const words = splitWords(text);
  return chunkText(text, words.map(perWord), words, max, overlap);
};

describe('chunkText (pure)', () => {
  it('a text that fits is one chunk, unchanged', () => {
    assert.deepEqual(
      chunk('  a b  c ', () => 1, 5, 1),
      [{ text: '  a b  c ', tokens: 3 }],
    );
  });

  it('splits on word boundaries: every chunk ≤ maxTokens, consecutive chunks overlap by ≤ overlapTokens, all words covered in order', () => {
    const words = Array.from({ length: 103 }, (_, i) => `w${i}`);
    const cost = (w: string) => 1 + (Number(w.slice(1)) % 3); // 1..3 tokens per word
    const max = 16;
    const overlap = 4;
    const chunks = chunk(words.join(' '), cost, max, overlap);
    assert.ok(chunks.length > 5);
    let prevEnd = -1;
    for (const [i, c] of chunks.entries()) {
      const ws = c.text.split(' ');
      assert.ok(c.tokens <= max, `chunk ${i} has ${c.tokens} tokens`);
      assert.equal(
        c.tokens,
        ws.reduce((a, w) => a + cost(w), 0),
        'tokens = sum of word tokens',
      );
      const start = Number(ws[0]!.slice(1));
      const end = Number(ws[ws.length - 1]!.slice(1));
      if (i === 0) assert.equal(start, 0);
      else {
        assert.ok(start <= prevEnd + 1, 'no gap');
        assert.ok(start > Number(chunks[i - 1]!.text.split(' ')[0]!.slice(1)), 'progress');
        const shared = words.slice(start, prevEnd + 1).reduce((a, w) => a + cost(w), 0);
        assert.ok(shared <= overlap, `overlap ${shared} > ${overlap}`);
      }
      prevEnd = end;
    }
    assert.equal(prevEnd, 102, 'last word covered');
  });

  it('a single word longer than maxTokens becomes its own chunk and chunking still terminates', () => {
    const chunks = chunk('a huge b', (w) => (w === 'huge' ? 50 : 1), 4, 2);
    assert.deepEqual(
      chunks.map((c) => c.text),
      ['a', 'huge', 'b'],
    );
  });

  it('overlap 0 gives disjoint chunks', () => {
    const chunks = chunk('a b c d e f g', () => 1, 3, 0);
    assert.deepEqual(
      chunks.map((c) => c.text),
      ['a b c', 'd e f', 'g'],
    );
  });
});

describe('planBuckets (pure)', () => {
  it('mixed lengths: every text once, each bucket within the token budget and count, padding efficiency ≥ 0.9', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
    const tokens = Array.from({ length: 2000 }, () =>
      rnd() < 0.7 ? 3 + Math.floor(rnd() * 40) : 40 + Math.floor(rnd() * 470),
    );
    const buckets = planBuckets(tokens, 8192, 64);
    const seen = buckets.flat().sort((a, b) => a - b);
    assert.deepEqual(
      seen,
      tokens.map((_, i) => i),
    );
    for (const b of buckets) {
      assert.ok(b.length <= 64);
      assert.ok(Math.max(...b.map((i) => tokens[i]!)) * b.length <= 8192);
    }
    const eff = paddingEfficiency(tokens, buckets);
    assert.ok(eff >= 0.9, `padding efficiency ${eff.toFixed(3)}`);
    // Input order would pad far more: the sort is what buys the efficiency.
    const naive: number[][] = [];
    for (let i = 0; i < tokens.length; i += 16) naive.push(tokens.slice(i, i + 16).map((_, j) => i + j));
    assert.ok(paddingEfficiency(tokens, naive) < 0.6);
  });

  it("a backlog batch's few hundred mixed-length chunks: padding efficiency ≥ 0.9, buckets in length order (0.77 with calls filled to maxBatchTexts: run B18)", () => {
    // The benchmark's mix: half short records, 30% medium, 20% long (split into a 128-token chunk
    // and a tail), as the time-boxed backlog lane hands them to the embedder: 32 to 512 records a call.
    let seed = 3;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
    for (const records of [8, 32, 64, 128, 256, 512]) {
      const tokens: number[] = [];
      for (let r = 0; r < records; r++) {
        const x = rnd();
        if (x < 0.5) tokens.push(8 + Math.floor(rnd() * 14));
        else if (x < 0.8) tokens.push(35 + Math.floor(rnd() * 40));
        else tokens.push(130, 10 + Math.floor(rnd() * 60));
      }
      const buckets = planBuckets(tokens, 8192, 64);
      assert.deepEqual(
        buckets.flat().sort((a, b) => a - b),
        tokens.map((_, i) => i),
        'every text once',
      );
      let prevMax = 0;
      for (const b of buckets) {
        const lens = b.map((i) => tokens[i]!);
        assert.ok(b.length <= 64 && Math.max(...lens) * b.length <= 8192, 'within count and budget');
        assert.ok(Math.min(...lens) >= prevMax, 'buckets hold consecutive lengths, shortest first');
        prevMax = Math.max(...lens);
      }
      const eff = paddingEfficiency(tokens, buckets);
      assert.ok(
        eff >= 0.9,
        `${records} records, ${tokens.length} chunks: padding efficiency ${eff.toFixed(3)}`,
      );
      // Not one call per text either: a cut must pay for its call.
      assert.ok(
        buckets.length <= Math.max(4, Math.ceil(tokens.length / 4)),
        `${buckets.length} calls for ${tokens.length} chunks`,
      );
    }
  });

  it('a text longer than the budget still gets a bucket of its own', () => {
    assert.deepEqual(planBuckets([10, 9000, 5], 100, 8), [[2, 0], [1]]);
  });
});
