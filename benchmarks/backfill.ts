// Backfill: N generated mixed-length records through seamline's real pipeline in-process (land every
// file, then drain the processor, as `seamline ingest --once` does), then in the same run the raw ONNX
// Runtime ceiling on exactly the texts the pipeline embedded, and a plain loop (read, embed with
// transformers.js, LanceDB add). Reports records/s, ratios, peak RSS and max event-loop lag.
// Usage: node dist/benchmarks/backfill.js [--quick] [--records N] [--neural-records N] [--threads N] [--models a,b] [--out DIR]
import { createReadStream, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import * as lancedb from '@lancedb/lancedb';
import { loadConfig } from '../src/config/load.js';
import { buildPipeline } from '../src/daemon/pipeline.js';
import { planBuckets } from '../src/embed/bucket.js';
import { createLogger, newRunId } from '../src/observability/logger.js';
import type { Embedder, TextChunk } from '../src/ports/embedder.js';
import { noFaults } from '../src/runtime/fault.js';
import { openRuntime, type Runtime } from '../src/runtime/runtime.js';
import { list, num, parseFlags } from './lib/args.js';
import {
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

export interface BackfillRun {
  readonly model: string;
  readonly records: number;
  readonly threads: number;
  readonly textsEmbedded: number;
  readonly pipeline: {
    readonly seconds: number;
    readonly recordsPerS: number;
    readonly landSeconds: number;
    readonly processSeconds: number;
    /** Where the processing time went (ms): chunk (tokenizer), embed, rowsForIds, merge, other. */
    readonly splitMs: Record<string, number>;
    readonly batches: number;
    readonly paddingEfficiency: number;
    readonly peakRssMiB: number;
    readonly loopLag: { maxMs: number; p99Ms: number; meanMs: number };
    /** Max event-loop lag while landing vs while processing (ms): which side blocks the loop. */
    readonly loopLagMaxByPhaseMs: { land: number; process: number };
    /** Worst event-loop stall (ms, > 40) by the step in flight when it happened. */
    readonly stallsByStepMs: Record<string, number>;
  };
  readonly ceiling: { readonly seconds: number; readonly recordsPerS: number };
  readonly plainLoop: {
    readonly seconds: number;
    readonly recordsPerS: number;
    readonly batch: number;
    readonly paddingEfficiency: number;
  };
  readonly vsCeiling: number;
  readonly vsPlain: number;
}

export interface BackfillResult {
  readonly kind: 'backfill';
  readonly machine: ReturnType<typeof machine>;
  readonly quick: boolean;
  readonly runs: BackfillRun[];
}

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

async function pipelinePhase(
  dir: string,
  model: string,
  threads: number,
): Promise<{ fig: BackfillRun['pipeline']; calls: TextChunk[][]; rt: Runtime }> {
  const configFile = path.join(dir, 'seamline.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      dataDir: path.join(dir, 'data'),
      landingDir: path.join(dir, 'landing'),
      model: { id: model, threads },
      log: { level: 'warn' },
      landing: { afterLanding: 'keep' },
      http: { enabled: false },
    }),
  );
  const config = loadConfig({ file: configFile, env: {} });
  const logger = createLogger('warn', newRunId(), 'bench');
  const rt0 = await openRuntime(config, logger);
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
  const rss = new RssSampler().start();
  const lag = new LoopLag().start();
  const s = now();
  const table = timed((await rt.servingTable(true))!, ['merge', 'rowsForIds'], t);
  const { landing, processor } = await buildPipeline(rt, { fault: noFaults, unsafe: new Set() });
  const emb: Embedder = await rt.embedder();
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
  const procLag = new LoopLag().start();
  const stalls = stallDetector();
  const sProc = now();
  const batches = await processor.drain(table);
  const processMs = now() - sProc;
  const procLagMax = procLag.stop().maxMs;
  const stallsByStepMs = stalls.stop();
  const seconds = (now() - s) / 1000;
  const loopLag = lag.stop();
  const peak = rss.stop();
  const st1 = emb.stats();
  const n = batches.reduce((a, b) => a + b.recordsIn, 0);
  const known = ['chunk', 'embed', 'rowsForIds', 'merge'].reduce((a, k) => a + (t[k]?.ms ?? 0), 0);
  const splitMs: Record<string, number> = {};
  for (const k of ['chunk', 'embed', 'rowsForIds', 'merge']) splitMs[k] = round(t[k]?.ms ?? 0, 0);
  splitMs.other = round(processMs - known, 0);
  return {
    rt: rt0,
    calls,
    fig: {
      seconds: round(seconds, 2),
      recordsPerS: round(n / seconds, 1),
      landSeconds: round(landSeconds, 2),
      processSeconds: round(processMs / 1000, 2),
      splitMs,
      batches: batches.length,
      paddingEfficiency: round(
        (st1.realTokens - st0.realTokens) / Math.max(1, st1.paddedTokens - st0.paddedTokens),
        3,
      ),
      peakRssMiB: round(peak, 0),
      loopLag: {
        maxMs: round(loopLag.maxMs, 1),
        p99Ms: round(loopLag.p99Ms, 1),
        meanMs: round(loopLag.meanMs, 2),
      },
      loopLagMaxByPhaseMs: { land: round(landLagMax, 1), process: round(procLagMax, 1) },
      stallsByStepMs,
    },
  };
}

/** The ceiling on the same texts, in the same token batches the embedder formed (tokenizing is not timed). */
async function ceilingPhase(
  model: string,
  threads: number,
  calls: readonly TextChunk[][],
  maxTokens: number,
  maxTexts: number,
): Promise<number> {
  const tok = await Tokens.load(model);
  const ort = await OrtCeiling.load(model, model === STATIC_MODEL ? 'q8' : 'fp32', threads);
  let ms = 0;
  try {
    for (const call of calls) {
      for (const b of planBuckets(
        call.map((c) => c.tokens + 2),
        maxTokens,
        maxTexts,
      )) {
        const batch = tok.batch(b.map((i) => call[i]!.text));
        const s = now();
        await ort.run(batch);
        ms += now() - s;
      }
    }
  } finally {
    await ort.close();
  }
  return ms / 1000;
}

/** What a user would write: read the JSONL, embed each batch in input order, add it to a LanceDB table. */
async function plainLoopPhase(
  dir: string,
  model: string,
  threads: number,
  batch: number,
): Promise<{ seconds: number; padEff: number; n: number }> {
  const tok = await Tokens.load(model);
  const plain = await PlainTransformers.load(model, model === STATIC_MODEL ? 'q8' : 'fp32', threads);
  const dbDir = path.join(dir, 'plain-lance');
  mkdirSync(dbDir, { recursive: true });
  const conn = await lancedb.connect(dbDir);
  let tbl: lancedb.Table | null = null;
  let real = 0;
  let padded = 0;
  let n = 0;
  let padMs = 0;
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
      const tb = tok.batch(texts);
      real += tb.real;
      padded += tb.rows * tb.width;
      padMs += now() - p0;
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
  // The padding count is bookkeeping of this benchmark, not of the plain loop: its time is taken out.
  return { seconds: (now() - s - padMs) / 1000, padEff: real / Math.max(1, padded), n };
}

async function main(): Promise<void> {
  const f = parseFlags({
    records: { type: 'string' },
    'neural-records': { type: 'string' },
    threads: { type: 'string' },
    models: { type: 'string' },
  });
  const quick = f.quick;
  const threads = num(f.threads, 2, 'threads');
  const models = list(f.models, [NEURAL_MODEL, STATIC_MODEL]);
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
      process.stderr.write(`backfill ${model}: ${n} records: pipeline…\n`);
      const p = await pipelinePhase(dir, model, threads);
      const cfg = p.rt.config;
      await p.rt.close();
      const textsEmbedded = p.calls.reduce((a, c) => a + c.length, 0);
      process.stderr.write(`  ceiling on the same ${textsEmbedded} texts…\n`);
      const ceilSec = await ceilingPhase(
        model,
        threads,
        p.calls,
        cfg.embed.maxBatchTokens,
        cfg.embed.maxBatchTexts,
      );
      p.calls.length = 0;
      process.stderr.write('  plain loop…\n');
      const pl = await plainLoopPhase(dir, model, threads, cfg.embed.maxBatchTexts);
      runs.push({
        model,
        records: n,
        threads,
        textsEmbedded,
        pipeline: p.fig,
        ceiling: { seconds: round(ceilSec, 2), recordsPerS: round(n / ceilSec, 1) },
        plainLoop: {
          seconds: round(pl.seconds, 2),
          recordsPerS: round(pl.n / pl.seconds, 1),
          batch: cfg.embed.maxBatchTexts,
          paddingEfficiency: round(pl.padEff, 3),
        },
        vsCeiling: round(p.fig.recordsPerS / (n / ceilSec), 3),
        vsPlain: round(p.fig.recordsPerS / (pl.n / pl.seconds), 3),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const result: BackfillResult = { kind: 'backfill', machine: machine(), quick, runs };
  const file = writeResult(f.out, 'backfill', result);
  if (f.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(renderBackfill(result) + `\nresults: ${file}\n`);
}

export function renderBackfill(r: BackfillResult): string {
  const rows = r.runs.map((x) => [
    x.model.replace('local/', ''),
    x.records,
    x.threads,
    x.pipeline.recordsPerS,
    x.ceiling.recordsPerS,
    x.plainLoop.recordsPerS,
    `${x.vsCeiling}×`,
    `${x.vsPlain}×`,
    x.pipeline.paddingEfficiency,
    x.plainLoop.paddingEfficiency,
    x.pipeline.peakRssMiB,
    x.pipeline.loopLag.maxMs,
  ]);
  const split = r.runs.map(
    (x) =>
      `${x.model}: ${x.pipeline.seconds} s = land ${x.pipeline.landSeconds} s + process ${x.pipeline.processSeconds} s (${x.pipeline.batches} batches; ms: ${Object.entries(
        x.pipeline.splitMs,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )}); max loop lag landing ${x.pipeline.loopLagMaxByPhaseMs.land} ms, processing ${x.pipeline.loopLagMaxByPhaseMs.process} ms; worst stalls by step in flight: ${JSON.stringify(x.pipeline.stallsByStepMs)}`,
  );
  return [
    `backfill${r.quick ? ' (QUICK)' : ''}: records/s end to end (land + process), side by side in one run; machine load ${r.machine.loadAvgAtStart} at start`,
    table(
      [
        'model',
        'records',
        'thr',
        'seamline rec/s',
        'ort ceiling rec/s',
        'plain loop rec/s',
        'vs ceiling',
        'vs plain',
        'seam pad',
        'plain pad',
        'peak RSS MiB',
        'max loop lag ms',
      ],
      rows,
    ),
    'where the time went:',
    ...split,
  ].join('\n');
}

await main();
