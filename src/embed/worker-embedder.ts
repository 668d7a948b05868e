import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { SeamlineError } from '../errors/errors.js';
import type { Embedder, EmbedStats, TextChunk } from '../ports/embedder.js';
import { planBuckets } from './bucket.js';
import { chunkText, splitWords } from './chunk.js';
import type { WorkerInit, WorkerMemory, WorkerRequest, WorkerResponse } from './protocol.js';

export interface WorkerEmbedderOptions extends Omit<WorkerInit, 'threads'> {
  /** ONNX Runtime intra-op threads; `auto` (the config default) = the machine's cores. */
  readonly threads: number | 'auto';
  readonly maxBatchTokens: number;
  readonly maxBatchTexts: number;
}

/** Inference calls kept in flight: the worker packs call N+1 while ONNX Runtime runs call N. */
const IN_FLIGHT = 2;

/** `auto` → the cores Node may use (os.availableParallelism), else the number given. */
export function resolveThreads(threads: number | 'auto'): number {
  return threads === 'auto' ? Math.max(1, availableParallelism()) : threads;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Pending = { resolve: (m: WorkerResponse) => void; reject: (e: Error) => void };

/** Embedder backed by transformers.js in a worker thread, with length-bucketed, token-budgeted calls. */
export class WorkerEmbedder implements Embedder {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private counters = { texts: 0, realTokens: 0, paddedTokens: 0, calls: 0 };
  private workerMs = { pack: 0, run: 0, pool: 0, count: 0 };

  private constructor(
    private readonly worker: Worker,
    private readonly opts: WorkerEmbedderOptions,
    readonly dim: number,
    /** True when embedding reuses the token ids counted at chunking (see TokenEncoder). */
    readonly tokenizeOnce: boolean,
    /** The intra-op thread count in use (`auto` resolved). */
    readonly threads: number,
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
        threads: resolveThreads(opts.threads),
        ...(opts.spinning !== undefined ? { spinning: opts.spinning } : {}),
        ...(opts.ortLogSeverity !== undefined ? { ortLogSeverity: opts.ortLogSeverity } : {}),
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
    return new WorkerEmbedder(worker, opts, first.dim, first.tokenizeOnce, resolveThreads(opts.threads));
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
    this.workerMs.count += res.countMs;
    let at = 0;
    return texts.map((t, i) => {
      const words = wordsPer[i]!;
      const counts = Array.from(res.counts.subarray(at, at + words.length));
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
    const collect = async (b: readonly number[], p: Promise<WorkerResponse>): Promise<void> => {
      const res = await p;
      if (res.type === 'error') throw new SeamlineError('EMBED_FAILED', `embedding failed: ${res.message}`);
      if (res.type !== 'embed') throw new SeamlineError('EMBED_FAILED', 'bad embed response');
      b.forEach((idx, j) => {
        out[idx] = res.data.subarray(j * res.dim, (j + 1) * res.dim);
      });
      this.counters.calls += 1;
      this.counters.texts += b.length;
      this.counters.realTokens += res.realTokens;
      this.counters.paddedTokens += res.paddedTokens;
      this.workerMs.pack += res.packMs;
      this.workerMs.run += res.runMs;
      this.workerMs.pool += res.poolMs;
    };
    // Keep IN_FLIGHT calls queued in the worker so ONNX Runtime never waits for the next batch.
    const inFlight: Promise<void>[] = [];
    for (const b of buckets) {
      signal?.throwIfAborted();
      const p = this.request({ type: 'embed', texts: b.map((i) => texts[i]!.text) });
      const c = collect(b, p);
      // Marked handled at once: it may reject while an earlier call is awaited (rethrown below).
      c.catch(() => undefined);
      inFlight.push(c);
      if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    }
    while (inFlight.length > 0) await inFlight.shift();
    return out;
  }

  /** The worker thread's heap and word cache (for the benchmarks' memory breakdown). */
  async memory(): Promise<WorkerMemory> {
    const res = await this.request({ type: 'memory' });
    if (res.type !== 'memory') throw new SeamlineError('EMBED_FAILED', 'bad memory response');
    const { heapUsedMiB, heapTotalMiB, externalMiB, cachedWords } = res;
    return { heapUsedMiB, heapTotalMiB, externalMiB, cachedWords };
  }

  stats(): EmbedStats {
    return { ...this.counters, workerMs: { ...this.workerMs } };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new Error('embedder closed'));
    await this.worker.terminate();
  }
}
