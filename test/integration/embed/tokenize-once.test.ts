// Tokenize once: the ids the chunker counted are the ids embedded, and the result is exactly what
// tokenizing every chunk again (the previous path, and transformers.js' own pipeline) gives: same
// counts, same chunk boundaries, same input tensors, same vectors. Real tokenizers and models.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AutoTokenizer,
  env,
  pipeline,
  type FeatureExtractionPipeline,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import { packageRoot } from '../../../src/config/load.js';
import { planBuckets } from '../../../src/embed/bucket.js';
import { chunkText, splitWords } from '../../../src/embed/chunk.js';
import { TokenEncoder } from '../../../src/embed/token-encoder.js';
import { WorkerEmbedder } from '../../../src/embed/worker-embedder.js';
import { normalizeText } from '../../../src/processor/materialize-plan.js';
import type { TextChunk } from '../../../src/ports/embedder.js';

const MODELS = path.join(packageRoot(), 'models');
const SCIFACT = path.resolve(packageRoot(), '..', '..', 'shared', 'data', 'scifact-train', 'corpus.jsonl');
const SCIFACT_ALT = '/work/shared/data/scifact-train/corpus.jsonl';

/** Texts that must go the slow way (whole) or stress the boundaries, plus real abstracts when present. */
const EDGE = [
  'a  b', // double space: an empty word
  ' leading and trailing ',
  'non\u00a0breaking space',
  'diaeresis \u00a8 alone, and \u2003 em space',
  'line\nbreak\ttab',
  'ﬁne ½ ² café Ångström 東京 🙂 👍🏽',
  'x'.repeat(3000), // one word far longer than the model's maximum: truncated the same way
  Array.from({ length: 700 }, (_, i) => `w${i}`).join(' '), // over 512 tokens
];

function corpus(n: number): string[] {
  const file = existsSync(SCIFACT) ? SCIFACT : existsSync(SCIFACT_ALT) ? SCIFACT_ALT : null;
  const texts = [...EDGE];
  if (file) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(0, n)) {
      if (!line) continue;
      const j = JSON.parse(line) as { title: string; text: string };
      texts.push(`${j.title}\n${j.text}`);
    }
  } else {
    for (let i = 0; i < n; i++) texts.push(`Record ${i}: the quick brown fox, ${i * 7} times; don't stop.`);
  }
  return texts;
}

/** The chunk counts the previous path computed: each word tokenized alone, padded batch, mask summed. */
function referenceCounts(tok: PreTrainedTokenizer, words: string[]): number[] {
  if (words.length === 0) return [];
  const enc = tok(words, { add_special_tokens: false, padding: true, truncation: false }) as unknown as {
    attention_mask: { data: BigInt64Array; dims: number[] };
  };
  const w = enc.attention_mask.dims[1] ?? 0;
  return words.map((_, i) => {
    let n = 0;
    for (let j = 0; j < w; j++) n += Number(enc.attention_mask.data[i * w + j]);
    return Math.max(1, n);
  });
}

function referenceChunks(tok: PreTrainedTokenizer, texts: readonly string[]): TextChunk[][] {
  return texts.map((t) => {
    const words = splitWords(t);
    return chunkText(t, referenceCounts(tok, words), words, 128, 16);
  });
}

for (const model of ['local/use-lite-512d', 'local/glove-sif-100d']) {
  describe(`tokenize once (${model})`, () => {
    let tok: PreTrainedTokenizer;
    before(async () => {
      env.localModelPath = `${MODELS}/`;
      env.allowLocalModels = true;
      env.allowRemoteModels = false;
      tok = await AutoTokenizer.from_pretrained(model);
    });

    it('the encoder trusts concatenated word ids, and its counts and packed tensors equal tokenizing every chunk again', () => {
      const enc = new TokenEncoder(tok);
      assert.equal(enc.tokenizeOnce, true, 'the probe check passes for the vendored tokenizer');
      const texts = corpus(400);
      const chunks: string[] = [];
      for (const t of texts) {
        const words = splitWords(t);
        assert.deepEqual(Array.from(enc.wordCounts(words)), referenceCounts(tok, words), t.slice(0, 60));
        chunks.push(...chunkText(t, Array.from(enc.wordCounts(words)), words, 128, 16).map((c) => c.text));
      }
      // The processor embeds normalized text; raw text (double spaces, tabs) must match too.
      const inputs = [...chunks.map(normalizeText), ...EDGE];
      const before = enc.counters.wordsTokenized;
      for (let i = 0; i < inputs.length; i += 16) {
        const batch = inputs.slice(i, i + 16);
        const ref = tok(batch, { padding: true, truncation: true }) as unknown as Record<
          string,
          { data: BigInt64Array; dims: number[] }
        >;
        const p = enc.pack(batch);
        assert.deepEqual([p.rows, p.width], ref.input_ids!.dims, `batch ${i}`);
        assert.deepEqual(p.inputIds, ref.input_ids!.data, `input_ids, batch ${i}`);
        assert.deepEqual(p.attentionMask, ref.attention_mask!.data, `attention_mask, batch ${i}`);
        if (ref.token_type_ids) assert.deepEqual(p.tokenTypeIds, ref.token_type_ids.data);
        else assert.equal(p.tokenTypeIds, null);
      }
      // Once counted, normalized chunk texts are not tokenized again (only the edge texts' new words).
      assert.ok(
        enc.counters.wordsTokenized - before <= 20,
        `words tokenized again while embedding: ${enc.counters.wordsTokenized - before}`,
      );
      assert.ok(enc.counters.textsTokenizedWhole >= 4, 'the edge texts went the whole-text way');
    });

    describe('WorkerEmbedder', () => {
      let emb: WorkerEmbedder;
      let plain: FeatureExtractionPipeline;
      before(async () => {
        emb = await WorkerEmbedder.start({
          modelId: model,
          modelsDir: MODELS,
          dtype: 'auto',
          allowRemote: false,
          threads: 1,
          maxBatchTokens: 8192,
          maxBatchTexts: 64,
        });
        plain = await pipeline('feature-extraction', model, {
          session_options: { intraOpNumThreads: 1, interOpNumThreads: 1 },
        });
      });
      after(async () => {
        await emb.close();
        await plain.dispose();
      });

      it('chunks exactly as before and embeds to the vectors the transformers.js pipeline gives for the same batches', async () => {
        assert.equal(emb.tokenizeOnce, true);
        const texts = corpus(150);
        const chunks = await emb.chunk(texts, 128, 16);
        assert.deepEqual(chunks, referenceChunks(tok, texts));
        const flat = chunks.flat().map((c) => ({ text: normalizeText(c.text), tokens: c.tokens }));
        const vectors = await emb.embed(flat);
        assert.equal(vectors.length, flat.length);
        let maxDiff = 0;
        for (const b of planBuckets(
          flat.map((c) => c.tokens + 2),
          8192,
          64,
        )) {
          const out = await plain(
            b.map((i) => flat[i]!.text),
            { pooling: 'mean', normalize: true },
          );
          const dim = out.dims[1]!;
          const data = out.data as Float32Array;
          b.forEach((idx, j) => {
            const v = vectors[idx]!;
            assert.equal(v.length, dim);
            for (let d = 0; d < dim; d++) maxDiff = Math.max(maxDiff, Math.abs(v[d]! - data[j * dim + d]!));
          });
        }
        assert.ok(maxDiff <= 1e-6, `max |seamline − pipeline| = ${maxDiff}`);
        const st = emb.stats();
        assert.equal(st.texts, flat.length);
        assert.ok(st.realTokens > 0 && st.paddedTokens >= st.realTokens);
      });

      it('keeps vectors in input order when several calls are in flight, and an aborted call rejects', async () => {
        const flat = corpus(60)
          .flatMap((t) => splitWords(t).slice(0, 40).join(' '))
          .map((text) => ({ text: normalizeText(text), tokens: Math.ceil(text.length / 4) }));
        const all = await emb.embed(flat);
        const one = await emb.embed([flat[flat.length - 1]!]);
        const last = all[all.length - 1]!;
        for (let d = 0; d < last.length; d++) assert.ok(Math.abs(last[d]! - one[0]![d]!) < 1e-5);
        const ac = new AbortController();
        ac.abort();
        await assert.rejects(emb.embed(flat, ac.signal));
      });
    });
  });
}
