// The three embedding paths measured side by side: raw ONNX Runtime (the ceiling), transformers.js
// called the plain way, and seamline's WorkerEmbedder. Benchmarks may use vendor APIs directly: they
// measure them; src/ code never does outside its adapters.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  AutoTokenizer,
  env,
  pipeline,
  type FeatureExtractionPipeline,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { packageRoot } from '../../src/config/load.js';
import { planBuckets } from '../../src/embed/bucket.js';
import { WorkerEmbedder } from '../../src/embed/worker-embedder.js';

export const MODELS_DIR = path.join(packageRoot(), 'models');
export const NEURAL_MODEL = 'local/use-lite-512d';
export const STATIC_MODEL = 'local/glove-sif-100d';

/**
 * Tokens the model reads of a text: the tokenizer's model_max_length, capped by the model's
 * position table (use-lite's graph reads the first 128 tokens whatever the tokenizer passes).
 */
export function modelTokenLimit(modelId: string): number {
  const dir = path.join(MODELS_DIR, modelId);
  const read = (f: string): Record<string, unknown> =>
    JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>;
  const tokMax = Number(read('tokenizer_config.json').model_max_length ?? Infinity);
  const posMax = Number(read('config.json').max_position_embeddings ?? Infinity);
  return Math.min(tokMax, posMax);
}

/** ONNX weight files transformers.js looks for, by dtype. */
const DTYPE_FILES: Record<string, string> = {
  fp32: 'model.onnx',
  fp16: 'model_fp16.onnx',
  q8: 'model_quantized.onnx',
  int8: 'model_int8.onnx',
  uint8: 'model_uint8.onnx',
  q4: 'model_q4.onnx',
  bnb4: 'model_bnb4.onnx',
  q4f16: 'model_q4f16.onnx',
};

/** The dtypes a vendored model actually ships (what the profile can sweep). */
export function availableDtypes(modelId: string): string[] {
  const files = new Set(readdirSync(path.join(MODELS_DIR, modelId, 'onnx')));
  return Object.entries(DTYPE_FILES)
    .filter(([, f]) => files.has(f))
    .map(([d]) => d);
}

function setupEnv(): void {
  env.localModelPath = `${MODELS_DIR}/`;
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
}

/** Token ids of a batch, ready for ONNX Runtime, plus its real (unpadded) and padded token counts. */
export interface TokenBatch {
  readonly ids: BigInt64Array;
  readonly mask: BigInt64Array;
  readonly rows: number;
  readonly width: number;
  readonly real: number;
}

/** The model's own tokenizer (transformers.js), used to feed the ceiling and to count real tokens. */
export class Tokens {
  private constructor(private readonly tok: PreTrainedTokenizer) {}

  static async load(modelId: string): Promise<Tokens> {
    setupEnv();
    return new Tokens(await AutoTokenizer.from_pretrained(modelId));
  }

  batch(texts: readonly string[]): TokenBatch {
    const enc = this.tok([...texts], { padding: true, truncation: true }) as unknown as {
      input_ids: { data: BigInt64Array; dims: number[] };
      attention_mask: { data: BigInt64Array; dims: number[] };
    };
    const [rows = 0, width = 0] = enc.input_ids.dims;
    let real = 0;
    for (const m of enc.attention_mask.data) real += Number(m);
    return { ids: enc.input_ids.data, mask: enc.attention_mask.data, rows, width, real };
  }

  /** Token count of each text before any truncation (special tokens included). */
  rawCounts(texts: readonly string[]): number[] {
    const enc = this.tok([...texts], { return_tensor: false }) as unknown as { input_ids: number[][] };
    return enc.input_ids.map((x) => x.length);
  }

  /** Real token count of each text (special tokens included, truncation as the pipeline does it). */
  counts(texts: readonly string[]): number[] {
    const out: number[] = [];
    for (let i = 0; i < texts.length; i += 256) {
      const b = this.batch(texts.slice(i, i + 256));
      for (let r = 0; r < b.rows; r++) {
        let n = 0;
        for (let j = 0; j < b.width; j++) n += Number(b.mask[r * b.width + j]);
        out.push(n);
      }
    }
    return out;
  }
}

/** Mean pooling over the mask, then L2 normalisation: what the pipeline's { pooling: 'mean', normalize: true } does. */
function poolNormalize(
  hidden: Float32Array,
  mask: BigInt64Array,
  rows: number,
  width: number,
  dim: number,
): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let n = 0;
    const o = r * dim;
    for (let t = 0; t < width; t++) {
      if (mask[r * width + t] === 0n) continue;
      n += 1;
      const h = (r * width + t) * dim;
      for (let d = 0; d < dim; d++) out[o + d]! += hidden[h + d]!;
    }
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      out[o + d]! /= Math.max(1, n);
      norm += out[o + d]! * out[o + d]!;
    }
    norm = Math.sqrt(norm) || 1;
    for (let d = 0; d < dim; d++) out[o + d]! /= norm;
  }
  return out;
}

/** Raw ONNX Runtime session over pre-tokenized batches: the ceiling. */
export class OrtCeiling {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async load(modelId: string, dtype: string, threads: number): Promise<OrtCeiling> {
    const file = path.join(MODELS_DIR, modelId, 'onnx', DTYPE_FILES[dtype] ?? 'model.onnx');
    return new OrtCeiling(
      await ort.InferenceSession.create(file, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
      }),
    );
  }

  /** One inference call; returns unit vectors, rows × dim. */
  async run(b: TokenBatch): Promise<{ data: Float32Array; dim: number }> {
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', b.ids, [b.rows, b.width]),
      attention_mask: new ort.Tensor('int64', b.mask, [b.rows, b.width]),
    };
    const res = await this.session.run(feeds);
    const h = res[this.session.outputNames[0]!]!;
    const dim = h.dims[h.dims.length - 1]!;
    return { data: poolNormalize(h.data as Float32Array, b.mask, b.rows, b.width, dim), dim };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** transformers.js the way a user writes it: one pipeline, texts in input order, B at a time. */
export class PlainTransformers {
  private constructor(readonly extractor: FeatureExtractionPipeline) {}

  static async load(modelId: string, dtype: string, threads: number): Promise<PlainTransformers> {
    setupEnv();
    const ex = await pipeline('feature-extraction', modelId, {
      dtype: dtype as 'fp32',
      session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
    });
    return new PlainTransformers(ex);
  }

  async embed(texts: readonly string[], batch: number): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += batch) {
      const t = await this.extractor(texts.slice(i, i + batch), { pooling: 'mean', normalize: true });
      const dim = t.dims[t.dims.length - 1]!;
      const data = t.data as Float32Array;
      for (let r = 0; r * dim < data.length; r++) out.push(data.slice(r * dim, (r + 1) * dim));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.extractor.dispose();
  }
}

/** seamline's embedder: worker thread, length bucketing, token budget. */
export function startWorkerEmbedder(
  modelId: string,
  dtype: string,
  threads: number,
  maxBatchTexts: number,
  maxBatchTokens: number,
  spinning?: boolean,
): Promise<WorkerEmbedder> {
  return WorkerEmbedder.start({
    modelId,
    modelsDir: MODELS_DIR,
    dtype,
    allowRemote: false,
    threads,
    maxBatchTexts,
    maxBatchTokens,
    ...(spinning !== undefined ? { spinning } : {}),
  });
}

/** The token batches seamline's embedder forms for these texts (same planner), pre-tokenized for the ceiling. */
export function bucketedBatches(
  tok: Tokens,
  texts: readonly string[],
  counts: readonly number[],
  maxBatchTokens: number,
  maxBatchTexts: number,
): TokenBatch[] {
  return planBuckets(counts, maxBatchTokens, maxBatchTexts).map((b) => tok.batch(b.map((i) => texts[i]!)));
}

/** Input-order batches of B (what the plain loop feeds), pre-tokenized: for its padded-token count. */
export function inputOrderBatches(tok: Tokens, texts: readonly string[], batch: number): TokenBatch[] {
  const out: TokenBatch[] = [];
  for (let i = 0; i < texts.length; i += batch) out.push(tok.batch(texts.slice(i, i + batch)));
  return out;
}

/** Largest absolute component difference between two vector lists (a sanity check that the paths agree). */
export function maxAbsDiff(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let m = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    for (let d = 0; d < x.length; d++) m = Math.max(m, Math.abs(x[d]! - y[d]!));
  }
  return m;
}
