import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { SeamlineError } from '../errors/errors.js';
import type { Embedder, EmbedStats, TextChunk } from '../ports/embedder.js';
import { planBuckets } from './bucket.js';
import { chunkText, splitWords } from './chunk.js';
import type { WorkerInit, WorkerRequest, WorkerResponse } from './protocol.js';

export interface WorkerEmbedderOptions extends WorkerInit {
  readonly maxBatchTokens: number;
  readonly maxBatchTexts: number;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Pending = { resolve: (m: WorkerResponse) => void; reject: (e: Error) => void };

/** Embedder backed by transformers.js in a worker thread, with length-bucketed, token-budgeted calls. */
export class WorkerEmbedder implements Embedder {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private counters = { texts: 0, realTokens: 0, paddedTokens: 0, calls: 0 };

  private constructor(
    private readonly worker: Worker,
    private readonly opts: WorkerEmbedderOptions,
    readonly dim: number,
  ) {
    worker.on('message', (m: WorkerResponse) => {
      if ('reqId' in m) {
        const p = this.pending.get(m.reqId);
        if (p) {
          this.pending.delete(m.reqId);
          p.resolve(m);
        }
      }
    });
    worker.on('error', (e) => this.failAll(e));
    worker.on('exit', (code) => this.failAll(new Error(`embedding worker exited with code ${code}`)));
  }

  get modelId(): string {
    return this.opts.modelId;
  }

  /** Starts the worker and waits until the model is loaded. Errors name the model and the fix. */
  static async start(opts: WorkerEmbedderOptions): Promise<WorkerEmbedder> {
    const local = path.join(opts.modelsDir, opts.modelId);
    if (!opts.allowRemote && !existsSync(local)) {
      throw new SeamlineError(
        'MODEL_NOT_FOUND',
        `model "${opts.modelId}" is not in ${opts.modelsDir} and remote loading is off. Put the model there in transformers.js layout (config.json, tokenizer.json, onnx/), point model.modelsDir at the folder holding it, or set model.allowRemote=true on a machine that can reach the Hugging Face hub.`,
      );
    }
    const workerFile = new URL('./worker.js', import.meta.url);
    const worker = new Worker(workerFile, {
      workerData: {
        modelId: opts.modelId,
        modelsDir: opts.modelsDir,
        dtype: opts.dtype,
        allowRemote: opts.allowRemote,
        threads: opts.threads,
      } satisfies WorkerInit,
    });
    const first = await new Promise<WorkerResponse>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) =>
        reject(new Error(`embedding worker exited with code ${code} while loading`)),
      );
    }).catch((e: unknown) => {
      throw new SeamlineError(
        'MODEL_NOT_FOUND',
        `loading model "${opts.modelId}" failed: ${(e as Error).message}`,
        { cause: e },
      );
    });
    if (first.type === 'initError') {
      await worker.terminate();
      const hint = first.notFound
        ? opts.allowRemote
          ? ' The Hugging Face hub could not be reached or has no such model: check the id and the network, or vendor the model into model.modelsDir.'
          : ` Put the model under ${opts.modelsDir} in transformers.js layout, or set model.allowRemote=true where the hub is reachable.`
        : '';
      throw new SeamlineError(
        'MODEL_NOT_FOUND',
        `model "${opts.modelId}" could not be loaded: ${first.message}.${hint}`,
      );
    }
    if (first.type !== 'ready')
      throw new SeamlineError(
        'INTERNAL',
        `unexpected first message from the embedding worker: ${first.type}`,
      );
    return new WorkerEmbedder(worker, opts, first.dim);
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values())
      p.reject(new SeamlineError('EMBED_FAILED', `embedding worker failed: ${e.message}`, { cause: e }));
    this.pending.clear();
  }

  private request(req: DistributiveOmit<WorkerRequest, 'reqId'>): Promise<WorkerResponse> {
    if (this.closed) return Promise.reject(new SeamlineError('EMBED_FAILED', 'the embedder is closed'));
    const reqId = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(reqId, { resolve, reject });
      this.worker.postMessage({ ...req, reqId });
    });
  }

  async chunk(texts: readonly string[], maxTokens: number, overlapTokens: number): Promise<TextChunk[][]> {
    const wordsPer = texts.map(splitWords);
    const all = wordsPer.flat();
    const res = await this.request({ type: 'tokenCounts', words: all });
    if (res.type !== 'tokenCounts')
      throw new SeamlineError(
        'EMBED_FAILED',
        res.type === 'error' ? res.message : 'bad token count response',
      );
    let at = 0;
    return texts.map((t, i) => {
      const words = wordsPer[i]!;
      const counts = res.counts.slice(at, at + words.length);
      at += words.length;
      return chunkText(t, counts, words, maxTokens, overlapTokens);
    });
  }

  async embed(texts: readonly TextChunk[], signal?: AbortSignal): Promise<Float32Array[]> {
    const out: Float32Array[] = new Array<Float32Array>(texts.length);
    const buckets = planBuckets(
      texts.map((t) => t.tokens + 2),
      this.opts.maxBatchTokens,
      this.opts.maxBatchTexts,
    );
    for (const b of buckets) {
      signal?.throwIfAborted();
      const res = await this.request({ type: 'embed', texts: b.map((i) => texts[i]!.text) });
      if (res.type === 'error') throw new SeamlineError('EMBED_FAILED', `embedding failed: ${res.message}`);
      if (res.type !== 'embed') throw new SeamlineError('EMBED_FAILED', 'bad embed response');
      b.forEach((idx, j) => {
        out[idx] = res.data.slice(j * res.dim, (j + 1) * res.dim);
      });
      this.counters.calls += 1;
      this.counters.texts += b.length;
      this.counters.realTokens += b.reduce((a, i) => a + texts[i]!.tokens + 2, 0);
      this.counters.paddedTokens += res.paddedTokens;
    }
    return out;
  }

  stats(): EmbedStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new Error('embedder closed'));
    await this.worker.terminate();
  }
}
