// Runs in a worker_thread: ONNX Runtime's run() blocks its thread for the whole batch, so the
// daemon's event loop (HTTP, watcher, ledger) must not be the one that calls it.
import { parentPort, workerData } from 'node:worker_threads';
import {
  env,
  mean_pooling,
  pipeline,
  Tensor,
  type FeatureExtractionPipeline,
} from '@huggingface/transformers';
import type { WorkerInit, WorkerRequest, WorkerResponse } from './protocol.js';
import { meanPoolNormalize } from './pool.js';
import { sessionOptions } from './session-options.js';
import { TokenEncoder, type PackedBatch } from './token-encoder.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const send = (m: WorkerResponse, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer ?? []);

type ModelOut = Record<string, Tensor | undefined>;

/**
 * Runs inference calls one at a time, in arrival order, and starts the next one the moment the
 * previous one returns (before its caller pools): while ONNX Runtime computes call N on its own
 * threads, this thread tokenizes and packs call N+1 and pools call N−1.
 */
class RunQueue {
  private readonly queue: {
    feeds: Record<string, Tensor>;
    resolve: (o: { out: ModelOut; runMs: number }) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private busy = false;

  constructor(private readonly run: (feeds: Record<string, Tensor>) => Promise<ModelOut>) {}

  /** Resolves with the model's output and the time the call itself took (queue wait excluded). */
  submit(feeds: Record<string, Tensor>): Promise<{ out: ModelOut; runMs: number }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ feeds, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy) return;
    const job = this.queue.shift();
    if (!job) return;
    this.busy = true;
    const started = performance.now();
    this.run(job.feeds).then(
      (o) => {
        const runMs = performance.now() - started;
        this.busy = false;
        this.pump();
        job.resolve({ out: o, runMs });
      },
      (e: unknown) => {
        this.busy = false;
        this.pump();
        job.reject(e);
      },
    );
  }
}

function feedsOf(b: PackedBatch): Record<string, Tensor> {
  const dims = [b.rows, b.width];
  const feeds: Record<string, Tensor> = {
    input_ids: new Tensor('int64', b.inputIds, dims),
    attention_mask: new Tensor('int64', b.attentionMask, dims),
  };
  if (b.tokenTypeIds) feeds.token_type_ids = new Tensor('int64', b.tokenTypeIds, dims);
  return feeds;
}

async function main(): Promise<void> {
  env.localModelPath = init.modelsDir.endsWith('/') ? init.modelsDir : `${init.modelsDir}/`;
  env.allowLocalModels = true;
  env.allowRemoteModels = init.allowRemote;
  let extractor: FeatureExtractionPipeline;
  try {
    const opts: Record<string, unknown> = {
      session_options: sessionOptions({
        threads: init.threads,
        spinning: init.spinning ?? false,
        ...(init.ortLogSeverity !== undefined ? { logSeverity: init.ortLogSeverity } : {}),
      }),
    };
    if (init.dtype !== 'auto') opts.dtype = init.dtype;
    extractor = await pipeline('feature-extraction', init.modelId, opts);
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    const notFound =
      /not found|could not locate|local_files_only|allowRemoteModels|ENOENT|Unauthorized|fetch failed|ENOTFOUND/i.test(
        message,
      );
    send({ type: 'initError', message, notFound });
    return;
  }
  const encoder = new TokenEncoder(extractor.tokenizer);
  const model = extractor.model as unknown as (feeds: Record<string, Tensor>) => Promise<ModelOut>;
  const runs = new RunQueue((feeds) => model(feeds));

  // The same steps as the feature-extraction pipeline with { pooling: 'mean', normalize: true },
  // on ids packed from the encoder instead of a second tokenization.
  const embed = async (
    texts: readonly string[],
  ): Promise<{
    data: Float32Array;
    dim: number;
    b: PackedBatch;
    packMs: number;
    runMs: number;
    poolMs: number;
  }> => {
    const t0 = performance.now();
    const b = encoder.pack(texts);
    const feeds = feedsOf(b);
    const packMs = performance.now() - t0;
    const { out, runMs } = await runs.submit(feeds);
    const t1 = performance.now();
    const hidden = out.last_hidden_state ?? out.logits ?? out.token_embeddings;
    if (!hidden) throw new Error('the model returned no last_hidden_state, logits or token_embeddings');
    const [rows, width, dim] = hidden.dims;
    let data: Float32Array;
    let outDim: number;
    if (
      hidden.data instanceof Float32Array &&
      hidden.dims.length === 3 &&
      rows === b.rows &&
      width === b.width
    ) {
      outDim = dim!;
      data = meanPoolNormalize(hidden.data, b.attentionMask, b.rows, b.width, outDim);
    } else {
      // Other output types (fp16) or shapes: transformers.js' own functions.
      const pooled = mean_pooling(hidden, feeds.attention_mask!).normalize_(2, -1);
      outDim = pooled.dims[pooled.dims.length - 1]!;
      data =
        pooled.data instanceof Float32Array
          ? pooled.data
          : Float32Array.from(pooled.data as ArrayLike<number>);
    }
    const poolMs = performance.now() - t1;
    return { data, dim: outDim, b, packMs, runMs, poolMs };
  };

  const probe = await embed(['dimension probe']);
  send({ type: 'ready', dim: probe.dim, tokenizeOnce: encoder.tokenizeOnce });

  port.on('message', (req: WorkerRequest) => {
    void (async () => {
      try {
        if (req.type === 'memory') {
          const m = process.memoryUsage();
          const mib = (x: number): number => Math.round((x / 1048576) * 10) / 10;
          send({
            type: 'memory',
            reqId: req.reqId,
            heapUsedMiB: mib(m.heapUsed),
            heapTotalMiB: mib(m.heapTotal),
            externalMiB: mib(m.external),
            cachedWords: encoder.cachedWords,
          });
        } else if (req.type === 'tokenCounts') {
          const t0 = performance.now();
          const counts = encoder.wordCounts(req.words);
          const countMs = performance.now() - t0;
          send({ type: 'tokenCounts', reqId: req.reqId, counts, countMs }, [counts.buffer as ArrayBuffer]);
        } else {
          const { data, dim, b, packMs, runMs, poolMs } = await embed(req.texts);
          send(
            {
              type: 'embed',
              reqId: req.reqId,
              data,
              dim,
              paddedTokens: b.rows * b.width,
              realTokens: b.real,
              packMs,
              runMs,
              poolMs,
            },
            [data.buffer as ArrayBuffer],
          );
        }
      } catch (e) {
        send({ type: 'error', reqId: req.reqId, message: (e as Error).message ?? String(e) });
      }
    })();
  });
}

void main();
