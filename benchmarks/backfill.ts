// Backfill: N generated mixed-length records through seamline's real pipeline in-process (land every
// file, then drain the processor, as `seamline ingest --once` does), then in the same run the raw ONNX
// Runtime ceiling on exactly the texts the pipeline embedded, and a plain loop (read, embed with
// transformers.js, LanceDB add). Each of the three runs in its own child process, one after the other,
// so that each one's peak RSS is its own. Reports records/s and embedded texts/s, ratios, peak RSS with
// a breakdown by stage, the plain loop's silent truncation, max event-loop lag, and the targets.
// Usage: node dist/benchmarks/backfill.js [--quick] [--records N] [--neural-records N] [--threads N|auto] [--models a,b] [--time-box-ms N] [--spinning true|false] [--reps N] [--out DIR]
import { spawnSync } from 'node:child_process';
import {
  createReadStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import * as lancedb from '@lancedb/lancedb';
import { loadConfig } from '../src/config/load.js';
import { buildPipeline } from '../src/daemon/pipeline.js';
import { planBuckets } from '../src/embed/bucket.js';
import type { WorkerEmbedder } from '../src/embed/worker-embedder.js';
import { createLogger, newRunId } from '../src/observability/logger.js';
import type { Embedder, TextChunk } from '../src/ports/embedder.js';
import { noFaults } from '../src/runtime/fault.js';
import { openRuntime, type Runtime } from '../src/runtime/runtime.js';
import { list, num, parseFlags } from './lib/args.js';
import {
  modelTokenLimit,
  MODELS_DIR,
  NEURAL_MODEL,
  OrtCeiling,
  PlainTransformers,
  STATIC_MODEL,
  Tokens,
} from './lib/engines.js';
import { LoopLag, now, RssSampler, round } from './lib/measure.js';
import { machine, table, writeResult } from './lib/report.js';
import { stallDetector, timed, type Timings } from './lib/timed.js';
import { dropWithManifest, records, type GenRecord } from './lib/workload.js';

const FILE_RECORDS = 5000;

/** process.memoryUsage() at one point of a run, MiB. */
export interface MemPoint {
  readonly at: string;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly externalMiB: number;
  readonly arrayBuffersMiB: number;
}

export interface BackfillRun {
  readonly model: string;
  readonly records: number;
  /** Intra-op threads on every path (seamline: what `model.threads` resolved to). */
  readonly threads: number;
  readonly textsEmbedded: number;
  /** seamline embedded with the ids counted at chunking (TokenEncoder's check passed). */
  readonly tokenizeOnce: boolean;
  readonly pipeline: {
    readonly seconds: number;
    /** CPU seconds of the whole process (every thread) over the same window: steadier than wall time under load. */
    readonly cpuSeconds?: number;
    readonly recordsPerS: number;
    readonly textsPerS: number;
    readonly landSeconds: number;
    readonly processSeconds: number;
    /** Where the processing time went (ms): chunk (tokenizer), embed, rowsForIds, merge, other. */
    readonly splitMs: Record<string, number>;
    /**
     * Inside the embedding worker (ms): count = tokenizing new words for chunk(), pack = ids into
     * tensors, run = inside the model call (ONNX Runtime), pool = mean pooling + normalize. Empty
     * for builds before session 4.
     */
    readonly workerSplitMs: Record<string, number>;
    /** Loading the model (not in `seconds`: the other two paths do not time theirs either). */
    readonly modelLoadSeconds: number;
    /** Inference calls the embedder made. */
    readonly calls: number;
    readonly batches: number;
    readonly paddingEfficiency: number;
    /** Peak RSS of the whole process (kernel maxrss: main thread, worker thread, native memory). */
    readonly peakRssMiB: number;
    /** Where the memory is, by stage, and the embedding worker's own heap at the end. */
    readonly memory: { readonly stages: MemPoint[]; readonly worker: Record<string, number> | null };
    readonly loopLag: { maxMs: number; p99Ms: number; meanMs: number };
    /** Max event-loop lag while landing vs while processing (ms): which side blocks the loop. */
    readonly loopLagMaxByPhaseMs: { land: number; process: number };
    /** Worst event-loop stall (ms, > 40) by the step in flight when it happened. */
    readonly stallsByStepMs: Record<string, number>;
  };
  readonly ceiling: {
    readonly seconds: number;
    /** session.run calls (the same buckets as seamline's: equal to pipeline.calls). */
    readonly calls?: number;
    /** CPU seconds inside the timed calls (session.run + pooling, every thread). */
    readonly cpuSeconds?: number;
    readonly recordsPerS: number;
    readonly textsPerS: number;
    readonly peakRssMiB: number;
  };
  readonly plainLoop: {
    readonly seconds: number;
    /** CPU seconds (every thread) of the timed loop. */
    readonly cpuSeconds?: number;
    readonly recordsPerS: number;
    /** One text per record: the plain loop embeds each record's text once, truncated. */
    readonly textsPerS: number;
    readonly batch: number;
    readonly paddingEfficiency: number;
    readonly peakRssMiB: number;
    readonly memory: MemPoint[];
    /** Tokens the model never read: each text cut at `limit` tokens (special tokens included). */
    readonly truncation: {
      readonly limit: number;
      readonly textsTruncated: number;
      readonly tokensDropped: number;
      readonly tokensTotal: number;
    };
  };
  readonly vsCeiling: number;
  readonly vsPlain: number;
  /** seamline peak RSS ÷ the plain loop's. */
  readonly rssVsPlain: number;
  /** With --reps N: each repetition's ratios (the ones above are their medians). */
  readonly reps?: {
    readonly vsCeiling: number[];
    readonly vsPlain: number[];
    readonly rssVsPlain: number[];
  };
}

export interface BackfillResult {
  readonly kind: 'backfill';
  readonly machine: ReturnType<typeof machine>;
  readonly quick: boolean;
  readonly runs: BackfillRun[];
  readonly targets: { readonly name: string; readonly value: string; readonly met: boolean | null }[];
}

const MiB = 1024 * 1024;
const mem = (at: string): MemPoint => {
  const m = process.memoryUsage();
  return {
    at,
    rssMiB: round(m.rss / MiB, 0),
    heapUsedMiB: round(m.heapUsed / MiB, 0),
    externalMiB: round(m.external / MiB, 0),
    arrayBuffersMiB: round(m.arrayBuffers / MiB, 0),
  };
};
/** Kernel peak RSS of this process so far (ru_maxrss), MiB. */
const maxRssMiB = (): number => round(process.resourceUsage().maxRSS / 1024, 0);

/** Writes n records as files of FILE_RECORDS with manifests, without holding them all in memory. */
function generate(landing: string, n: number): void {
  for (let i = 0, f = 0; i < n; i += FILE_RECORDS, f++) {
    dropWithManifest(
      landing,
      `part-${String(f).padStart(4, '0')}`,
      records(MODELS_DIR, `r${f}`, Math.min(FILE_RECORDS, n - i), 1000 + f),
    );
  }
}

interface PipelineOut {
  readonly fig: BackfillRun['pipeline'];
  readonly records: number;
  readonly textsEmbedded: number;
  readonly threads: number;
  readonly tokenizeOnce: boolean;
  readonly maxBatchTokens: number;
  readonly maxBatchTexts: number;
}

async function pipelinePhase(
  dir: string,
  model: string,
  threads: number | 'auto',
  timeBoxMs: number | null,
  spinning: boolean | null,
): Promise<PipelineOut> {
  const stages: MemPoint[] = [mem('start (node + imports)')];
  const configFile = path.join(dir, 'seamline.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      dataDir: path.join(dir, 'data'),
      landingDir: path.join(dir, 'landing'),
      // --spinning sets model.spinning (ORT's intra-op spinning; absent: the config default).
      model: { id: model, threads, ...(spinning !== null ? { spinning } : {}) },
      log: { level: 'warn' },
      landing: { afterLanding: 'keep' },
      http: { enabled: false },
      // As `seamline ingest`: the one-shot time box (processor.backlog.ingestTimeBoxMs); --time-box-ms overrides it.
      ...(timeBoxMs !== null ? { processor: { backlog: { ingestTimeBoxMs: timeBoxMs } } } : {}),
    }),
  );
  const config = loadConfig({ file: configFile, env: {} });
  const logger = createLogger('warn', newRunId(), 'bench');
  const rt0 = await openRuntime(config, logger);
  stages.push(mem('runtime open (SQLite, LanceDB)'));
  const t: Timings = {};
  const calls: TextChunk[][] = [];
  // Time the embedder and the table from the outside: the processor itself stays untouched.
  const rt: Runtime = {
    ...rt0,
    embedder: async (id?: string) =>
      timed(await rt0.embedder(id), ['chunk', 'embed'], t, (m, a) => {
        if (m === 'embed') calls.push(a[0] as TextChunk[]);
      }),
  };
  try {
    // The model loads before the clock starts, as the ceiling's and the plain loop's do (their loads
    // are not timed either); its seconds are reported on their own.
    const sLoad = now();
    await rt.embedder();
    const modelLoadSeconds = (now() - sLoad) / 1000;
    const rss = new RssSampler().start();
    const lag = new LoopLag().start();
    const cpu0 = process.cpuUsage();
    const s = now();
    const table = timed((await rt.servingTable(true))!, ['merge', 'rowsForIds'], t);
    const { landing, processor } = await buildPipeline(
      rt,
      { fault: noFaults, unsafe: new Set() },
      undefined,
      {
        oneShot: true,
      },
    );
    const emb: Embedder = await rt.embedder();
    const worker = (await rt0.embedder()) as unknown as WorkerEmbedder;
    stages.push(mem('model loaded (embedding worker)'));
    const st0 = emb.stats();
    const landLag = new LoopLag().start();
    const sLand = now();
    // Files carry manifests with bytes, so one pass lands them all; a few more passes cover stragglers.
    for (let pass = 0; pass < 100; pass++) {
      const r = await landing.tick();
      if (r.waiting.length === 0) break;
      if (r.landed.length === 0) await new Promise((res) => setTimeout(res, 100));
    }
    const landSeconds = (now() - sLand) / 1000;
    const landLagMax = landLag.stop().maxMs;
    stages.push(mem('landed'));
    const procLag = new LoopLag().start();
    const stalls = stallDetector();
    const sProc = now();
    const batches = await processor.drain(table);
    const processMs = now() - sProc;
    const procLagMax = procLag.stop().maxMs;
    const stallsByStepMs = stalls.stop();
    const seconds = (now() - s) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const loopLag = lag.stop();
    rss.stop();
    stages.push(mem('processed'));
    const workerMem = typeof worker.memory === 'function' ? { ...(await worker.memory()) } : null;
    const st1 = emb.stats();
    const n = batches.reduce((a, b) => a + b.recordsIn, 0);
    const textsEmbedded = calls.reduce((a, c) => a + c.length, 0);
    const known = ['chunk', 'embed', 'rowsForIds', 'merge'].reduce((a, k) => a + (t[k]?.ms ?? 0), 0);
    const splitMs: Record<string, number> = {};
    for (const k of ['chunk', 'embed', 'rowsForIds', 'merge']) splitMs[k] = round(t[k]?.ms ?? 0, 0);
    splitMs.other = round(processMs - known, 0);
    // Inside the worker (its own thread): what `embed` and `chunk` spent where.
    const w0 = st0.workerMs;
    const w1 = st1.workerMs;
    const workerSplitMs: Record<string, number> = {};
    if (w0 && w1)
      for (const k of ['count', 'pack', 'run', 'pool'] as const) workerSplitMs[k] = round(w1[k] - w0[k], 0);
    // The ceiling runs on exactly these texts, in another process.
    writeFileSync(path.join(dir, 'calls.json'), JSON.stringify(calls));
    return {
      records: n,
      textsEmbedded,
      // (worker.threads is absent on builds before issue 17: the config then holds a number.)
      threads:
        worker.threads ??
        (typeof config.model.threads === 'number' ? config.model.threads : availableParallelism()),
      tokenizeOnce: worker.tokenizeOnce ?? false,
      maxBatchTokens: config.embed.maxBatchTokens,
      maxBatchTexts: config.embed.maxBatchTexts,
      fig: {
        seconds: round(seconds, 2),
        cpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
        recordsPerS: round(n / seconds, 1),
        textsPerS: round(textsEmbedded / seconds, 1),
        landSeconds: round(landSeconds, 2),
        processSeconds: round(processMs / 1000, 2),
        splitMs,
        workerSplitMs,
        modelLoadSeconds: round(modelLoadSeconds, 2),
        calls: st1.calls - st0.calls,
        batches: batches.length,
        paddingEfficiency: round(
          (st1.realTokens - st0.realTokens) / Math.max(1, st1.paddedTokens - st0.paddedTokens),
          3,
        ),
        peakRssMiB: maxRssMiB(),
        memory: { stages, worker: workerMem },
        loopLag: {
          maxMs: round(loopLag.maxMs, 1),
          p99Ms: round(loopLag.p99Ms, 1),
          meanMs: round(loopLag.meanMs, 2),
        },
        loopLagMaxByPhaseMs: { land: round(landLagMax, 1), process: round(procLagMax, 1) },
        stallsByStepMs,
      },
    };
  } finally {
    await rt0.close();
  }
}

/** The ceiling on the same texts, in the same token batches the embedder formed (tokenizing is not timed). */
async function ceilingPhase(
  dir: string,
  model: string,
  threads: number,
  maxTokens: number,
  maxTexts: number,
): Promise<{ seconds: number; cpuSeconds: number; peakRssMiB: number; calls: number }> {
  const calls = JSON.parse(readFileSync(path.join(dir, 'calls.json'), 'utf8')) as TextChunk[][];
  const tok = await Tokens.load(model);
  const ort = await OrtCeiling.load(model, model === STATIC_MODEL ? 'q8' : 'fp32', threads);
  let ms = 0;
  let cpuUs = 0;
  let n = 0;
  try {
    for (const call of calls) {
      for (const b of planBuckets(
        call.map((c) => c.tokens + 2),
        maxTokens,
        maxTexts,
      )) {
        const batch = tok.batch(b.map((i) => call[i]!.text));
        const s = now();
        const c0 = process.cpuUsage();
        await ort.run(batch);
        const c = process.cpuUsage(c0);
        ms += now() - s;
        cpuUs += c.user + c.system;
        n += 1;
      }
    }
  } finally {
    await ort.close();
  }
  return { seconds: ms / 1000, cpuSeconds: cpuUs / 1e6, peakRssMiB: maxRssMiB(), calls: n };
}

interface PlainOut {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly padEff: number;
  readonly n: number;
  readonly peakRssMiB: number;
  readonly memory: MemPoint[];
  readonly truncation: BackfillRun['plainLoop']['truncation'];
}

/** What a user would write: read the JSONL, embed each batch in input order, add it to a LanceDB table. */
async function plainLoopPhase(dir: string, model: string, threads: number, batch: number): Promise<PlainOut> {
  const memory: MemPoint[] = [mem('start (node + imports)')];
  const tok = await Tokens.load(model);
  const limit = modelTokenLimit(model);
  const plain = await PlainTransformers.load(model, model === STATIC_MODEL ? 'q8' : 'fp32', threads);
  memory.push(mem('model loaded (main thread)'));
  const dbDir = path.join(dir, 'plain-lance');
  mkdirSync(dbDir, { recursive: true });
  const conn = await lancedb.connect(dbDir);
  let tbl: lancedb.Table | null = null;
  let real = 0;
  let padded = 0;
  let n = 0;
  let bookMs = 0;
  const trunc = { limit, textsTruncated: 0, tokensDropped: 0, tokensTotal: 0 };
  const cpu0 = process.cpuUsage();
  let bookCpuUs = 0;
  const s = now();
  try {
    const landing = path.join(dir, 'landing');
    const files = readdirSync(landing)
      .filter((f) => f.endsWith('.jsonl'))
      .sort();
    let buf: GenRecord[] = [];
    const flush = async (): Promise<void> => {
      if (buf.length === 0) return;
      const texts = buf.map((r) => r.text);
      const p0 = now();
      const pc0 = process.cpuUsage();
      const tb = tok.batch(texts);
      real += tb.real;
      padded += tb.rows * tb.width;
      for (const c of tok.rawCounts(texts)) {
        trunc.tokensTotal += c;
        if (c > limit) {
          trunc.textsTruncated += 1;
          trunc.tokensDropped += c - limit;
        }
      }
      bookMs += now() - p0;
      const pc = process.cpuUsage(pc0);
      bookCpuUs += pc.user + pc.system;
      const vecs = await plain.embed(texts, batch);
      const rows = buf.map((r, i) => ({ id: r.id, text: r.text, vector: Array.from(vecs[i]!) }));
      if (!tbl) tbl = await conn.createTable('plain', rows);
      else await tbl.add(rows);
      n += buf.length;
      buf = [];
    };
    for (const f of files) {
      for await (const line of createInterface({ input: createReadStream(path.join(landing, f)) })) {
        if (!line) continue;
        buf.push(JSON.parse(line) as GenRecord);
        if (buf.length >= batch) await flush();
      }
    }
    await flush();
  } finally {
    conn.close();
    await plain.close();
  }
  const cpu = process.cpuUsage(cpu0);
  memory.push(mem('embedded and added'));
  // Padding and truncation counts are bookkeeping of this benchmark, not of the plain loop: time taken out.
  return {
    seconds: (now() - s - bookMs) / 1000,
    cpuSeconds: (cpu.user + cpu.system - bookCpuUs) / 1e6,
    padEff: real / Math.max(1, padded),
    n,
    peakRssMiB: maxRssMiB(),
    memory,
    truncation: trunc,
  };
}

/** Runs one phase in a child process (this script, --phase): its own heap, its own peak RSS. */
function child<T>(phase: string, args: Record<string, string | number>): T {
  const argv = [process.argv[1]!, '--phase', phase];
  for (const [k, v] of Object.entries(args)) argv.push(`--${k}`, String(v));
  const r = spawnSync(process.execPath, argv, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * MiB,
  });
  const line = r.stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('PHASE '));
  if (r.status !== 0 || !line) throw new Error(`backfill phase ${phase} failed (exit ${r.status})`);
  return JSON.parse(line.slice('PHASE '.length)) as T;
}

async function runPhase(f: Record<string, string | boolean | undefined>): Promise<void> {
  const dir = String(f.dir);
  const model = String(f.model);
  const threads = f.threads === 'auto' || f.threads === undefined ? 'auto' : num(f.threads, 1, 'threads');
  const resolved = threads === 'auto' ? availableParallelism() : threads;
  let out: unknown;
  const timeBox = f['time-box-ms'] === undefined ? null : num(f['time-box-ms'], 250, 'time-box-ms');
  const spinning = f.spinning === undefined ? null : f.spinning === 'true';
  if (f.phase === 'pipeline') out = await pipelinePhase(dir, model, threads, timeBox, spinning);
  else if (f.phase === 'ceiling')
    out = await ceilingPhase(
      dir,
      model,
      resolved,
      num(f['max-tokens'], 8192, 'max-tokens'),
      num(f['max-texts'], 64, 'max-texts'),
    );
  else out = await plainLoopPhase(dir, model, resolved, num(f['max-texts'], 64, 'max-texts'));
  process.stdout.write(`PHASE ${JSON.stringify(out)}\n`);
}

const TARGET_CEILING = 0.9;
const TARGET_PLAIN = 1.3;
const TARGET_RSS_RATIO = 1.2;
const TARGET_RSS_MIB = 1024;
const FULL_SIZE = 100_000;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : round((s[m - 1]! + s[m]!) / 2, 3);
};

/**
 * With --reps N the three paths run N times in turn (pipeline, ceiling, plain loop, pipeline, …) and
 * each ratio is the median of the N ratios measured next to each other in time: on a shared machine
 * the load moves between processes, and one trio's ratio can be off by ±0.5. The figures shown are
 * those of the repetition whose ratio to the ceiling is the median.
 */
export function medianTrial(trials: readonly BackfillRun[]): BackfillRun {
  if (trials.length === 1) return trials[0]!;
  const vsCeiling = median(trials.map((t) => t.vsCeiling));
  const byCeiling = [...trials].sort((a, b) => a.vsCeiling - b.vsCeiling);
  const mid = byCeiling[Math.floor((byCeiling.length - 1) / 2)]!;
  return {
    ...mid,
    vsCeiling,
    vsPlain: median(trials.map((t) => t.vsPlain)),
    rssVsPlain: median(trials.map((t) => t.rssVsPlain)),
    reps: {
      vsCeiling: trials.map((t) => t.vsCeiling),
      vsPlain: trials.map((t) => t.vsPlain),
      rssVsPlain: trials.map((t) => t.rssVsPlain),
    },
  };
}

/** The issue-17 targets, met / not met, from this run's figures. */
export function backfillTargets(runs: readonly BackfillRun[]): BackfillResult['targets'] {
  const t: { name: string; value: string; met: boolean | null }[] = [];
  for (const x of runs) {
    const m = x.model.replace('local/', '');
    if (x.model === NEURAL_MODEL)
      t.push({
        name: `${m}: backfill ≥ ${TARGET_CEILING} × raw ORT ceiling (${x.records} records)`,
        value: `${x.vsCeiling}×`,
        met: x.vsCeiling >= TARGET_CEILING,
      });
    t.push({
      name: `${m}: records/s ≥ ${TARGET_PLAIN} × plain loop, every token embedded (plain loop dropped ${x.plainLoop.truncation.tokensDropped} tokens)`,
      value: `${x.vsPlain}×`,
      met: x.vsPlain >= TARGET_PLAIN,
    });
    t.push({
      name: `${m}: peak RSS ≤ ${TARGET_RSS_RATIO} × plain loop`,
      value: `${x.pipeline.peakRssMiB} vs ${x.plainLoop.peakRssMiB} MiB = ${x.rssVsPlain}×`,
      met: x.rssVsPlain <= TARGET_RSS_RATIO,
    });
  }
  const big = [...runs].sort((a, b) => b.records - a.records)[0];
  if (big)
    t.push({
      name: `peak RSS ≤ 1 GB for the ${FULL_SIZE.toLocaleString('en')}-record backfill (${big.model.replace('local/', '')}, ran ${big.records})`,
      value: `${big.pipeline.peakRssMiB} MiB`,
      met: big.records >= FULL_SIZE ? big.pipeline.peakRssMiB <= TARGET_RSS_MIB : null,
    });
  return t;
}

async function main(): Promise<void> {
  const f = parseFlags({
    records: { type: 'string' },
    'neural-records': { type: 'string' },
    threads: { type: 'string' },
    models: { type: 'string' },
    phase: { type: 'string' },
    dir: { type: 'string' },
    model: { type: 'string' },
    'max-tokens': { type: 'string' },
    'max-texts': { type: 'string' },
    'time-box-ms': { type: 'string' },
    spinning: { type: 'string' },
    reps: { type: 'string' },
  });
  if (f.phase) return runPhase({ ...f });
  const quick = f.quick;
  const threads = f.threads === undefined || f.threads === 'auto' ? 'auto' : num(f.threads, 1, 'threads');
  const models = list(f.models, [NEURAL_MODEL, STATIC_MODEL]);
  const reps = Math.max(1, Math.round(num(f.reps, 1, 'reps')));
  const sizes: Record<string, number> = {
    [STATIC_MODEL]: num(f.records, quick ? 1000 : 100_000, 'records'),
    [NEURAL_MODEL]: num(f['neural-records'], quick ? 200 : 4000, 'neural-records'),
  };
  const runs: BackfillRun[] = [];
  for (const model of models) {
    const n = sizes[model] ?? num(f.records, quick ? 1000 : 100_000, 'records');
    const dir = mkdtempSync(path.join(tmpdir(), 'seamline-bench-backfill-'));
    try {
      mkdirSync(path.join(dir, 'landing'), { recursive: true });
      generate(path.join(dir, 'landing'), n);
      const trials: BackfillRun[] = [];
      for (let rep = 0; rep < reps; rep++) {
        // Each repetition starts from an empty data folder and table, on the same landed files.
        rmSync(path.join(dir, 'data'), { recursive: true, force: true });
        rmSync(path.join(dir, 'plain-lance'), { recursive: true, force: true });
        process.stderr.write(
          `backfill ${model}: ${n} records (repetition ${rep + 1} of ${reps}): pipeline…\n`,
        );
        const p = child<PipelineOut>('pipeline', {
          dir,
          model,
          threads,
          ...(f['time-box-ms'] !== undefined ? { 'time-box-ms': String(f['time-box-ms']) } : {}),
          ...(f.spinning !== undefined ? { spinning: String(f.spinning) } : {}),
        });
        process.stderr.write(`  ceiling on the same ${p.textsEmbedded} texts (${p.threads} threads)…\n`);
        const c = child<{ seconds: number; cpuSeconds: number; peakRssMiB: number; calls: number }>(
          'ceiling',
          {
            dir,
            model,
            threads: p.threads,
            'max-tokens': p.maxBatchTokens,
            'max-texts': p.maxBatchTexts,
          },
        );
        process.stderr.write('  plain loop…\n');
        const pl = child<PlainOut>('plain', { dir, model, threads: p.threads, 'max-texts': p.maxBatchTexts });
        trials.push({
          model,
          records: n,
          threads: p.threads,
          textsEmbedded: p.textsEmbedded,
          tokenizeOnce: p.tokenizeOnce,
          pipeline: p.fig,
          ceiling: {
            seconds: round(c.seconds, 2),
            recordsPerS: round(n / c.seconds, 1),
            textsPerS: round(p.textsEmbedded / c.seconds, 1),
            peakRssMiB: c.peakRssMiB,
            calls: c.calls,
            cpuSeconds: round(c.cpuSeconds, 2),
          },
          plainLoop: {
            seconds: round(pl.seconds, 2),
            cpuSeconds: round(pl.cpuSeconds, 2),
            recordsPerS: round(pl.n / pl.seconds, 1),
            textsPerS: round(pl.n / pl.seconds, 1),
            batch: p.maxBatchTexts,
            paddingEfficiency: round(pl.padEff, 3),
            peakRssMiB: pl.peakRssMiB,
            memory: pl.memory,
            truncation: pl.truncation,
          },
          vsCeiling: round(p.fig.recordsPerS / (n / c.seconds), 3),
          vsPlain: round(p.fig.recordsPerS / (pl.n / pl.seconds), 3),
          rssVsPlain: round(p.fig.peakRssMiB / Math.max(1, pl.peakRssMiB), 2),
        });
      }
      runs.push(medianTrial(trials));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const result: BackfillResult = {
    kind: 'backfill',
    machine: machine(),
    quick,
    runs,
    targets: backfillTargets(runs),
  };
  const file = writeResult(f.out, 'backfill', result);
  if (f.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(renderBackfill(result) + `\nresults: ${file}\n`);
}

export function renderBackfill(r: BackfillResult): string {
  const rows = r.runs.map((x) => [
    x.model.replace('local/', ''),
    x.records,
    x.threads,
    `${x.pipeline.recordsPerS} / ${x.pipeline.textsPerS}`,
    `${x.ceiling.recordsPerS} / ${x.ceiling.textsPerS}`,
    `${x.plainLoop.recordsPerS} / ${x.plainLoop.textsPerS}`,
    `${x.vsCeiling}×`,
    `${x.vsPlain}×`,
    x.pipeline.paddingEfficiency,
    x.plainLoop.paddingEfficiency,
    `${x.pipeline.peakRssMiB} / ${x.plainLoop.peakRssMiB} / ${x.ceiling.peakRssMiB}`,
    x.pipeline.loopLag.maxMs,
  ]);
  const split = r.runs.map(
    (x) =>
      `${x.model}: ${x.pipeline.seconds} s = land ${x.pipeline.landSeconds} s + process ${x.pipeline.processSeconds} s (${x.pipeline.batches} batches; ms: ${Object.entries(
        x.pipeline.splitMs,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}; inside the worker ms: ${Object.entries(x.pipeline.workerSplitMs ?? {})
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}; ${x.pipeline.calls} calls (ceiling ${x.ceiling.calls ?? '?'}), ceiling ${round(
        x.ceiling.seconds * 1000,
        0,
      )} ms; model load ${x.pipeline.modelLoadSeconds} s, not timed); tokenize once: ${x.tokenizeOnce}; max loop lag landing ${x.pipeline.loopLagMaxByPhaseMs.land} ms, processing ${x.pipeline.loopLagMaxByPhaseMs.process} ms; worst stalls by step in flight: ${JSON.stringify(x.pipeline.stallsByStepMs)}`,
  );
  const repLines = r.runs
    .filter((x) => x.reps)
    .map(
      (x) =>
        `${x.model}: ${x.reps!.vsCeiling.length} repetitions, medians above; vs ceiling ${x.reps!.vsCeiling.join(', ')}; vs plain ${x.reps!.vsPlain.join(', ')}; RSS vs plain ${x.reps!.rssVsPlain.join(', ')}`,
    );
  const truncation = r.runs.map((x) => {
    const t = x.plainLoop.truncation;
    return `${x.model}: the plain loop embedded ${x.records} texts cut at ${t.limit} tokens: ${t.textsTruncated} texts truncated, ${t.tokensDropped} of ${t.tokensTotal} tokens never read (${round((100 * t.tokensDropped) / Math.max(1, t.tokensTotal), 1)}%); seamline embedded ${x.textsEmbedded} chunks, every token`;
  });
  const memory = r.runs.map(
    (x) =>
      `${x.model}: seamline RSS by stage (MiB rss/heap/external): ${x.pipeline.memory.stages
        .map((m) => `${m.at} ${m.rssMiB}/${m.heapUsedMiB}/${m.externalMiB}`)
        .join(
          '; ',
        )}; worker ${JSON.stringify(x.pipeline.memory.worker)} | plain loop: ${x.plainLoop.memory.map((m) => `${m.at} ${m.rssMiB}/${m.heapUsedMiB}/${m.externalMiB}`).join('; ')}`,
  );
  return [
    `backfill${r.quick ? ' (QUICK)' : ''}: end to end (land + process), each path in its own process, one after the other; machine load ${r.machine.loadAvgAtStart} at start`,
    table(
      [
        'model',
        'records',
        'thr',
        'seamline rec/s / texts/s',
        'ort ceiling rec/s / texts/s',
        'plain loop rec/s / texts/s',
        'vs ceiling',
        'vs plain',
        'seam pad',
        'plain pad',
        'peak RSS MiB seam / plain / ceiling',
        'max loop lag ms',
      ],
      rows,
    ),
    ...(repLines.length ? ['ratios of each repetition (side by side in time):', ...repLines] : []),
    'CPU seconds, every thread (steadier than wall time on a shared machine):',
    ...r.runs.map(
      (x) =>
        `${x.model}: seamline ${x.pipeline.cpuSeconds ?? '?'} s, ceiling ${x.ceiling.cpuSeconds ?? '?'} s, plain loop ${x.plainLoop.cpuSeconds ?? '?'} s; ceiling ÷ seamline ${x.pipeline.cpuSeconds && x.ceiling.cpuSeconds ? round(x.ceiling.cpuSeconds / x.pipeline.cpuSeconds, 3) : '?'}, plain ÷ seamline ${x.pipeline.cpuSeconds && x.plainLoop.cpuSeconds ? round(x.plainLoop.cpuSeconds / x.pipeline.cpuSeconds, 3) : '?'}`,
    ),
    'where the time went:',
    ...split,
    'truncation (what the plain loop silently drops):',
    ...truncation,
    'where the memory is:',
    ...memory,
    'targets (issue 17):',
    ...r.targets.map((t) => `  ${t.met === null ? 'n/a' : t.met ? 'MET' : 'NOT MET'}  ${t.name}: ${t.value}`),
  ].join('\n');
}

await main();
