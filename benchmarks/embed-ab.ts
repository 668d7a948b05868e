// Why do the same token buckets take longer inside seamline's embedding worker than in the ceiling's
// process? One process, the same recorded token batches, each way of calling ONNX Runtime in turn
// (alternated repetitions): raw session on the main thread (the ceiling), the transformers.js model
// wrapper, the raw session in a worker_thread, ORT's intra-op spinning off, seamline's WorkerEmbedder,
// and each of those beside a thread doing JavaScript work (what seamline's token counting, packing,
// pooling and merging are while a call runs).
// Usage: node dist/benchmarks/embed-ab.js [--records N] [--reps N] [--threads N] [--variants a,b] [--busy-ms N]
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { env, pipeline, Tensor } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import path from 'node:path';
import { planBuckets } from '../src/embed/bucket.js';
import type { WorkerEmbedder } from '../src/embed/worker-embedder.js';
import type { TextChunk } from '../src/ports/embedder.js';
import { list, num, parseFlags } from './lib/args.js';
import { MODELS_DIR, NEURAL_MODEL, startWorkerEmbedder, Tokens, type TokenBatch } from './lib/engines.js';
import { now, round } from './lib/measure.js';
import { records } from './lib/workload.js';

const MODEL_FILE = path.join(MODELS_DIR, NEURAL_MODEL, 'onnx', 'model.onnx');
const NO_SPIN = { session: { intra_op: { allow_spinning: '0' } } };

function ortOptions(threads: number, spin: boolean): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    ...(spin ? {} : { extra: NO_SPIN }),
  };
}

interface Plain {
  ids: BigInt64Array;
  mask: BigInt64Array;
  rows: number;
  width: number;
}

/** Sum of the calls' own times (ms) over all batches, one after the other. */
async function runAll(
  batches: readonly Plain[],
  call: (b: Plain) => Promise<unknown>,
): Promise<{ runMs: number; cpuS: number }> {
  const c0 = process.cpuUsage();
  let runMs = 0;
  for (const b of batches) {
    const s = now();
    await call(b);
    runMs += now() - s;
  }
  const c = process.cpuUsage(c0);
  return { runMs, cpuS: (c.user + c.system) / 1e6 };
}

const rawCall =
  (session: ort.InferenceSession) =>
  (b: Plain): Promise<unknown> =>
    session.run({
      input_ids: new ort.Tensor('int64', b.ids, [b.rows, b.width]),
      attention_mask: new ort.Tensor('int64', b.mask, [b.rows, b.width]),
    });

// ---- worker side: the raw session in a worker_thread, or a JavaScript busy loop ----
if (!isMainThread) {
  const wd = workerData as { kind: 'ort'; threads: number; spin: boolean } | { kind: 'busy'; dutyMs: number };
  const port = parentPort!;
  if (wd.kind === 'busy') {
    // Busy dutyMs of every 100 ms until told to stop: a stand-in for seamline's JavaScript during a call.
    let on = false;
    port.on('message', (m: string) => {
      on = m === 'start';
      if (m === 'exit') process.exit(0);
    });
    const tick = (): void => {
      if (on) {
        const end = now() + wd.dutyMs;
        let x = 0;
        while (now() < end) x += Math.sqrt(x + 1);
        if (x < 0) port.postMessage(x);
      }
      setTimeout(tick, on ? 100 - wd.dutyMs : 20);
    };
    tick();
  } else {
    const session = await ort.InferenceSession.create(MODEL_FILE, ortOptions(wd.threads, wd.spin));
    const call = rawCall(session);
    port.on('message', (batches: Plain[]) => {
      void runAll(batches, call).then((r) => port.postMessage(r));
    });
    port.postMessage('ready');
  }
}

// ---- main side ----
interface Variant {
  readonly name: string;
  run(): Promise<{ runMs: number; cpuS: number; extra?: Record<string, number> }>;
  close(): Promise<void>;
}

async function recordCalls(n: number, threads: number): Promise<TextChunk[][]> {
  const texts = records(MODELS_DIR, 'r', n, 1000).map((r) => r.text);
  const emb = await startWorkerEmbedder(NEURAL_MODEL, 'fp32', threads, 64, 8192);
  try {
    // The backlog lane's batch sizes under its time box: 32, then doubling (B18/B19's 1,000-record run).
    const calls: TextChunk[][] = [];
    let at = 0;
    let size = 32;
    while (at < texts.length) {
      const part = texts.slice(at, at + size);
      at += part.length;
      calls.push((await emb.chunk(part, 128, 16)).flat());
      size *= 2;
    }
    return calls;
  } finally {
    await emb.close();
  }
}

async function main(): Promise<void> {
  const f = parseFlags({
    records: { type: 'string' },
    reps: { type: 'string' },
    threads: { type: 'string' },
    variants: { type: 'string' },
    'busy-ms': { type: 'string' },
  });
  const n = num(f.records, 1000, 'records');
  const reps = num(f.reps, 3, 'reps');
  const threads = num(f.threads, availableParallelism(), 'threads');
  const busyMs = num(f['busy-ms'], 20, 'busy-ms');
  const wanted = list(f.variants, [
    'raw-main',
    'raw-main-nospin',
    'tjs-model',
    'raw-worker',
    'seam-embedder',
    'raw-main+busy',
    'raw-main-nospin+busy',
  ]);

  const calls = await recordCalls(n, threads);
  const tok = await Tokens.load(NEURAL_MODEL);
  const bucketTexts: string[][] = [];
  for (const call of calls)
    for (const b of planBuckets(
      call.map((c) => c.tokens + 2),
      8192,
      64,
    ))
      bucketTexts.push(b.map((i) => call[i]!.text));
  const batches: Plain[] = bucketTexts.map((t) => {
    const b: TokenBatch = tok.batch(t);
    return { ids: b.ids, mask: b.mask, rows: b.rows, width: b.width };
  });
  process.stderr.write(
    `${n} records → ${calls.length} calls, ${calls.reduce((a, c) => a + c.length, 0)} chunks, ${batches.length} buckets; ${threads} intra-op threads\n`,
  );

  // What transformers.js hands to InferenceSession.create (it spreads our session_options over its own).
  const seen: unknown[] = [];
  const IS = ort.InferenceSession as unknown as { create: (...a: unknown[]) => Promise<unknown> };
  const origCreate = IS.create.bind(IS);
  try {
    IS.create = (...a: unknown[]) => {
      seen.push(a[1]);
      return origCreate(...a);
    };
  } catch {
    seen.push('(InferenceSession.create not patchable)');
  }

  env.localModelPath = `${MODELS_DIR}/`;
  env.allowLocalModels = true;
  env.allowRemoteModels = false;

  const busyWorker = (): { start(): void; stop(): void; close(): Promise<number> } => {
    const w = new Worker(new URL(import.meta.url), { workerData: { kind: 'busy', dutyMs: busyMs } });
    return {
      start: () => w.postMessage('start'),
      stop: () => w.postMessage('stop'),
      close: () => w.terminate(),
    };
  };

  const variants: Variant[] = [];
  for (const name of wanted) {
    if (name === 'raw-main' || name === 'raw-main-nospin' || name.endsWith('+busy')) {
      const spin = !name.includes('nospin');
      const session = await ort.InferenceSession.create(MODEL_FILE, ortOptions(threads, spin));
      const busy = name.endsWith('+busy') ? busyWorker() : null;
      variants.push({
        name,
        run: async () => {
          busy?.start();
          try {
            return await runAll(batches, rawCall(session));
          } finally {
            busy?.stop();
          }
        },
        close: async () => {
          await busy?.close();
          await session.release();
        },
      });
    } else if (name === 'tjs-model') {
      const ex = await pipeline('feature-extraction', NEURAL_MODEL, {
        dtype: 'fp32',
        session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
      });
      const model = ex.model as unknown as (feeds: Record<string, Tensor>) => Promise<unknown>;
      variants.push({
        name,
        run: () =>
          runAll(batches, (b) =>
            model({
              input_ids: new Tensor('int64', b.ids, [b.rows, b.width]),
              attention_mask: new Tensor('int64', b.mask, [b.rows, b.width]),
              token_type_ids: new Tensor('int64', new BigInt64Array(b.rows * b.width), [b.rows, b.width]),
            }),
          ),
        close: () => ex.dispose(),
      });
    } else if (name === 'raw-worker' || name === 'raw-worker-nospin') {
      const w = new Worker(new URL(import.meta.url), {
        workerData: { kind: 'ort', threads, spin: name === 'raw-worker' },
      });
      await new Promise((res) => w.once('message', res));
      variants.push({
        name,
        run: async () => {
          const c0 = process.cpuUsage();
          const r = await new Promise<{ runMs: number }>((res) => {
            w.once('message', res);
            w.postMessage(batches);
          });
          const c = process.cpuUsage(c0);
          return { runMs: r.runMs, cpuS: (c.user + c.system) / 1e6 };
        },
        close: () => w.terminate().then(() => undefined),
      });
    } else if (name === 'seam-embedder' || name === 'seam-embedder-spin') {
      const emb: WorkerEmbedder = await startWorkerEmbedder(
        NEURAL_MODEL,
        'fp32',
        threads,
        64,
        8192,
        name === 'seam-embedder-spin',
      );
      variants.push({
        name,
        run: async () => {
          const c0 = process.cpuUsage();
          const w0 = emb.stats().workerMs!;
          const s = now();
          for (const call of calls) await emb.embed(call);
          const wall = now() - s;
          const w1 = emb.stats().workerMs!;
          const c = process.cpuUsage(c0);
          return {
            runMs: w1.run - w0.run,
            cpuS: (c.user + c.system) / 1e6,
            extra: { wallMs: wall, packMs: w1.pack - w0.pack, poolMs: w1.pool - w0.pool },
          };
        },
        close: () => emb.close(),
      });
    } else throw new Error(`unknown variant ${name}`);
  }
  process.stderr.write(`session options transformers.js passed: ${JSON.stringify(seen)}\n`);

  // Warm-up: every variant once over all batches (arena growth, first-shape costs), not counted.
  for (const v of variants) await v.run();
  const got = new Map<string, { runMs: number; cpuS: number; extra?: Record<string, number> }[]>();
  for (let r = 0; r < reps; r++) {
    // Alternate the order each repetition so no variant always follows the same one.
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const x = await v.run();
      got.set(v.name, [...(got.get(v.name) ?? []), x]);
      process.stderr.write(
        `  rep ${r + 1} ${v.name}: run ${round(x.runMs, 0)} ms, cpu ${round(x.cpuS, 2)} s${x.extra ? ` ${JSON.stringify(Object.fromEntries(Object.entries(x.extra).map(([k, y]) => [k, round(y, 0)])))}` : ''}\n`,
      );
    }
  }
  for (const v of variants) await v.close();
  const med = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor((s.length - 1) / 2)]!;
  };
  const base = med(got.get(variants[0]!.name)!.map((x) => x.runMs));
  const rows = variants.map((v) => {
    const xs = got.get(v.name)!;
    const runMs = med(xs.map((x) => x.runMs));
    return {
      variant: v.name,
      runMsMedian: round(runMs, 0),
      runMsEach: xs.map((x) => round(x.runMs, 0)),
      vsFirst: round(runMs / base, 3),
      cpuSMedian: round(med(xs.map((x) => x.cpuS)), 2),
      ...(xs[0]!.extra ? { wallMsMedian: round(med(xs.map((x) => x.extra!.wallMs ?? 0)), 0) } : {}),
    };
  });
  process.stdout.write(
    `${JSON.stringify({ records: n, buckets: batches.length, threads, busyMs, rows }, null, 1)}\n`,
  );
}

if (isMainThread) await main();
