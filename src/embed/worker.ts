// Runs in a worker_thread: ONNX Runtime's run() blocks its thread for the whole batch, so the
// daemon's event loop (HTTP, watcher, ledger) must not be the one that calls it.
import { parentPort, workerData } from 'node:worker_threads';
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import type { WorkerInit, WorkerRequest, WorkerResponse } from './protocol.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const send = (m: WorkerResponse, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer ?? []);

const WORD_CACHE_MAX = 200_000;
const wordCache = new Map<string, number>();

async function main(): Promise<void> {
  env.localModelPath = init.modelsDir.endsWith('/') ? init.modelsDir : `${init.modelsDir}/`;
  env.allowLocalModels = true;
  env.allowRemoteModels = init.allowRemote;
  let extractor: FeatureExtractionPipeline;
  try {
    const opts: Record<string, unknown> = {
      session_options: { intraOpNumThreads: init.threads, interOpNumThreads: 1 },
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
  const probe = await extractor(['dimension probe'], { pooling: 'mean', normalize: true });
  const dim = probe.dims[probe.dims.length - 1]!;
  send({ type: 'ready', dim });

  const countWords = (words: readonly string[]): number[] => {
    const missing = [...new Set(words.filter((w) => !wordCache.has(w)))];
    if (missing.length > 0) {
      const enc = extractor.tokenizer(missing, {
        add_special_tokens: false,
        padding: true,
        truncation: false,
      }) as { attention_mask: { data: ArrayLike<number | bigint>; dims: number[] } };
      const width = enc.attention_mask.dims[1] ?? 0;
      if (wordCache.size + missing.length > WORD_CACHE_MAX) wordCache.clear();
      for (let i = 0; i < missing.length; i++) {
        let n = 0;
        for (let j = 0; j < width; j++) n += Number(enc.attention_mask.data[i * width + j]);
        wordCache.set(missing[i]!, Math.max(1, n));
      }
    }
    return words.map((w) => wordCache.get(w) ?? 1);
  };

  port.on('message', (req: WorkerRequest) => {
    void (async () => {
      try {
        if (req.type === 'tokenCounts') {
          send({ type: 'tokenCounts', reqId: req.reqId, counts: countWords(req.words) });
        } else {
          const enc = extractor.tokenizer(req.texts as string[], { padding: true, truncation: true }) as {
            input_ids: { dims: number[] };
          };
          const padded = (enc.input_ids.dims[0] ?? 0) * (enc.input_ids.dims[1] ?? 0);
          const out = await extractor(req.texts as string[], { pooling: 'mean', normalize: true });
          const data = Float32Array.from(out.data as Float32Array);
          send(
            {
              type: 'embed',
              reqId: req.reqId,
              data,
              dim: out.dims[out.dims.length - 1]!,
              paddedTokens: padded,
            },
            [data.buffer],
          );
        }
      } catch (e) {
        send({ type: 'error', reqId: req.reqId, message: (e as Error).message ?? String(e) });
      }
    })();
  });
}

void main();
