import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Embedder, TextChunk } from '../../../src/ports/embedder.js';
import { PrefetchingEmbedder } from '../../../src/processor/workers.js';

/** A fake of our own Embedder port: vectors [length of text], counts what reaches it. */
function fake(): Embedder & { embedded: string[]; chunked: string[] } {
  const embedded: string[] = [];
  const chunked: string[] = [];
  return {
    modelId: 'fake',
    dim: 1,
    embedded,
    chunked,
    chunk: (texts) => {
      chunked.push(...texts);
      return Promise.resolve(texts.map((t) => [{ text: t, tokens: t.length }]));
    },
    embed: (texts: readonly TextChunk[]) => {
      embedded.push(...texts.map((t) => t.text));
      return Promise.resolve(texts.map((t) => new Float32Array([t.text.length])));
    },
    stats: () => ({ texts: embedded.length, realTokens: 0, paddedTokens: 0, calls: 0 }),
    close: () => Promise.resolve(),
  };
}

const c = (text: string): TextChunk => ({ text, tokens: text.length });

describe('PrefetchingEmbedder (several workers: embed before the writer lease)', () => {
  it("serves a prefetched batch's chunks and vectors from memory, in input order, each embedded once", async () => {
    const inner = fake();
    const p = new PrefetchingEmbedder(inner);
    await p.prefetchChunks(['aa', 'b'], 12, 3);
    await p.prefetchVectors([c('aa'), c('b')]);
    assert.deepEqual(
      (await p.chunk(['b', 'aa'], 12, 3)).map((x) => x[0]!.text),
      ['b', 'aa'],
    );
    assert.deepEqual(
      (await p.embed([c('b'), c('ccc'), c('aa')])).map((v) => v[0]),
      [1, 3, 2],
    );
    assert.deepEqual(inner.chunked, ['aa', 'b'], 'chunked once');
    assert.deepEqual(inner.embedded, ['aa', 'b', 'ccc'], 'only the miss reached the model');
    assert.equal(p.stats().texts, 3, "the inner embedder's counters");
  });

  it('keeps nothing it was not asked to prefetch (bounded memory), and clear() forgets the batch', async () => {
    const inner = fake();
    const p = new PrefetchingEmbedder(inner);
    await p.embed([c('x')]);
    await p.embed([c('x')]);
    assert.deepEqual(inner.embedded, ['x', 'x'], 'a miss is not kept');
    await p.chunk(['y'], 12, 3);
    await p.chunk(['y'], 12, 3);
    assert.deepEqual(inner.chunked, ['y', 'y']);
    await p.prefetchVectors([c('z')]);
    p.clear();
    await p.embed([c('z')]);
    assert.deepEqual(inner.embedded, ['x', 'x', 'z', 'z']);
    await p.prefetchChunks(['w'], 12, 3);
    assert.deepEqual(inner.chunked, ['y', 'y', 'w']);
    assert.equal((await p.chunk(['w'], 8, 3))[0]![0]!.text, 'w', 'other chunk sizes are other keys');
    assert.deepEqual(inner.chunked, ['y', 'y', 'w', 'w']);
  });
});
