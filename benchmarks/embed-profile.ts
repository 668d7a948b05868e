// Embedding throughput profile: model × dtype × intra-op threads × batch size × text length, three
// paths side by side in one process (raw ONNX Runtime = ceiling, plain transformers.js, seamline's
// WorkerEmbedder). Usage: node dist/benchmarks/embed-profile.js [--quick] [--models a,b] [--threads 1,2]
// [--batch 1,8,32,128] [--lengths short,medium,long,mixed] [--reps N] [--out DIR]
import { list, num, parseFlags } from './lib/args.js';
import {
  availableDtypes,
  bucketedBatches,
  inputOrderBatches,
  maxAbsDiff,
  MODELS_DIR,
  NEURAL_MODEL,
  OrtCeiling,
  PlainTransformers,
  startWorkerEmbedder,
  STATIC_MODEL,
  Tokens,
} from './lib/engines.js';
import { now, RssSampler, round } from './lib/measure.js';
import { lineChartSvg, machine, table, writeResult, writeText, type Series } from './lib/report.js';
import { LENGTH_CLASSES, makeTexts, type LengthClass } from './lib/texts.js';

export type PathName = 'ort' | 'plain' | 'seamline';
export const PATHS: readonly PathName[] = ['ort', 'plain', 'seamline'];

export interface PathFigures {
  readonly seconds: number;
  readonly textsPerS: number;
  readonly realTokensPerS: number;
  readonly paddingEfficiency: number;
  readonly calls: number;
}

export interface ProfileCell {
  readonly model: string;
  readonly dtype: string;
  readonly threads: number;
  readonly batch: number;
  readonly length: LengthClass;
  readonly texts: number;
  readonly realTokens: number;
  readonly meanTokens: number;
  readonly peakRssMiB: number;
  readonly paths: Record<PathName, PathFigures>;
  /** seamline ÷ ort texts/s */
  readonly seamlineVsCeiling: number;
  /** seamline ÷ plain texts/s */
  readonly seamlineVsPlain: number;
}

export interface ProfileResult {
  readonly kind: 'embed-profile';
  readonly machine: ReturnType<typeof machine>;
  readonly quick: boolean;
  readonly reps: number;
  readonly tokenBudgetPerText: number;
  /** Largest vector difference between the three paths on the same texts (they must agree). */
  readonly agreement: { model: string; dtype: string; ortVsPlain: number; seamlineVsPlain: number }[];
  readonly cells: ProfileCell[];
  readonly wallSeconds: number;
}

/** Padded-token budget per text handed to the worker: the default chunk (128 tokens) plus specials. */
const TOKENS_PER_TEXT = 130;

const COUNTS: Record<LengthClass, number> = { short: 384, medium: 160, long: 80, mixed: 192 };

async function profile(): Promise<void> {
  const f = parseFlags({
    models: { type: 'string' },
    threads: { type: 'string' },
    batch: { type: 'string' },
    lengths: { type: 'string' },
    reps: { type: 'string' },
    scale: { type: 'string' },
  });
  const quick = f.quick;
  const models = list(f.models, [NEURAL_MODEL, STATIC_MODEL]);
  const threadsList = list(f.threads, quick ? ['1'] : ['1', '2']).map(Number);
  const batches = list(f.batch, quick ? ['1', '16'] : ['1', '8', '32', '128']).map(Number);
  const lengths = list(f.lengths, quick ? ['short', 'mixed'] : LENGTH_CLASSES) as LengthClass[];
  const reps = num(f.reps, 1, 'reps');
  // The static model is ~20× faster: give it more texts so each cell lasts long enough to time.
  const scale = num(f.scale, quick ? 0.125 : 0.5, 'scale');
  const t0 = now();
  const cells: ProfileCell[] = [];
  const agreement: ProfileResult['agreement'] = [];

  for (const model of models) {
    const tok = await Tokens.load(model);
    const factor = model === STATIC_MODEL ? 4 : 1;
    for (const dtype of availableDtypes(model)) {
      // Agreement: the same 24 texts through all three paths must give the same vectors.
      {
        const probe = makeTexts(MODELS_DIR, 'mixed', 24, 3);
        const ceil = await OrtCeiling.load(model, dtype, 1);
        const plain = await PlainTransformers.load(model, dtype, 1);
        const w = await startWorkerEmbedder(model, dtype, 1, 8, 8 * TOKENS_PER_TEXT);
        try {
          const b = tok.batch(probe);
          const o = await ceil.run(b);
          const ortVecs = probe.map((_, i) => o.data.slice(i * o.dim, (i + 1) * o.dim));
          const plainVecs = await plain.embed(probe, 24);
          const counts = tok.counts(probe);
          const seamVecs = await w.embed(probe.map((text, i) => ({ text, tokens: counts[i]! - 2 })));
          agreement.push({
            model,
            dtype,
            ortVsPlain: maxAbsDiff(ortVecs, plainVecs),
            seamlineVsPlain: maxAbsDiff(seamVecs, plainVecs),
          });
        } finally {
          await w.close();
          await plain.close();
          await ceil.close();
        }
      }
      for (const threads of threadsList) {
        const ceil = await OrtCeiling.load(model, dtype, threads);
        const plain = await PlainTransformers.load(model, dtype, threads);
        try {
          for (const batch of batches) {
            const budget = batch * TOKENS_PER_TEXT;
            const worker = await startWorkerEmbedder(model, dtype, threads, batch, budget);
            try {
              for (const length of lengths) {
                const n = Math.max(batch, Math.round(COUNTS[length] * factor * scale));
                const texts = makeTexts(MODELS_DIR, length, n, 11);
                const counts = tok.counts(texts);
                const real = counts.reduce((a, c) => a + c, 0);
                const ceilBatches = bucketedBatches(tok, texts, counts, budget, batch);
                const ceilPadded = ceilBatches.reduce((a, b) => a + b.rows * b.width, 0);
                const plainPadded = inputOrderBatches(tok, texts, batch).reduce(
                  (a, b) => a + b.rows * b.width,
                  0,
                );
                const chunks = texts.map((text, i) => ({ text, tokens: Math.max(1, counts[i]! - 2) }));
                // Warm-up: first calls allocate arenas and JIT the pooling loops.
                await ceil.run(ceilBatches[0]!);
                await plain.embed(texts.slice(0, batch), batch);
                await worker.embed(chunks.slice(0, batch));
                const best: Partial<Record<PathName, PathFigures>> = {};
                const rss = new RssSampler().start();
                for (let rep = 0; rep < reps; rep++) {
                  // Rotate the order each repetition so drift in machine load hits every path alike.
                  const order = PATHS.map((_, i) => PATHS[(i + rep) % PATHS.length]!);
                  for (const p of order) {
                    let fig: PathFigures;
                    if (p === 'ort') {
                      const s = now();
                      for (const b of ceilBatches) await ceil.run(b);
                      const sec = (now() - s) / 1000;
                      fig = {
                        seconds: sec,
                        textsPerS: n / sec,
                        realTokensPerS: real / sec,
                        paddingEfficiency: real / ceilPadded,
                        calls: ceilBatches.length,
                      };
                    } else if (p === 'plain') {
                      const s = now();
                      await plain.embed(texts, batch);
                      const sec = (now() - s) / 1000;
                      fig = {
                        seconds: sec,
                        textsPerS: n / sec,
                        realTokensPerS: real / sec,
                        paddingEfficiency: real / plainPadded,
                        calls: Math.ceil(n / batch),
                      };
                    } else {
                      const before = worker.stats();
                      const s = now();
                      await worker.embed(chunks);
                      const sec = (now() - s) / 1000;
                      const after = worker.stats();
                      fig = {
                        seconds: sec,
                        textsPerS: n / sec,
                        realTokensPerS: real / sec,
                        paddingEfficiency: real / Math.max(1, after.paddedTokens - before.paddedTokens),
                        calls: after.calls - before.calls,
                      };
                    }
                    const prev = best[p];
                    if (!prev || fig.textsPerS > prev.textsPerS) best[p] = fig;
                    rss.sample();
                  }
                }
                const paths = best as Record<PathName, PathFigures>;
                const cell: ProfileCell = {
                  model,
                  dtype,
                  threads,
                  batch,
                  length,
                  texts: n,
                  realTokens: real,
                  meanTokens: round(real / n, 1),
                  peakRssMiB: round(rss.stop(), 0),
                  paths,
                  seamlineVsCeiling: round(paths.seamline.textsPerS / paths.ort.textsPerS, 3),
                  seamlineVsPlain: round(paths.seamline.textsPerS / paths.plain.textsPerS, 3),
                };
                cells.push(cell);
                if (!f.json)
                  process.stderr.write(
                    `  ${model} ${dtype} t=${threads} b=${batch} ${length}: ort ${round(paths.ort.textsPerS)} plain ${round(paths.plain.textsPerS)} seamline ${round(paths.seamline.textsPerS)} texts/s\n`,
                  );
              }
            } finally {
              await worker.close();
            }
          }
        } finally {
          await plain.close();
          await ceil.close();
        }
      }
    }
  }

  const result: ProfileResult = {
    kind: 'embed-profile',
    machine: machine(),
    quick,
    reps,
    tokenBudgetPerText: TOKENS_PER_TEXT,
    agreement,
    cells,
    wallSeconds: round((now() - t0) / 1000, 1),
  };
  const file = writeResult(f.out, 'embed-profile', result);
  const svgs = chartsFor(result).map(([name, svg]) => writeText(f.out, name, svg));
  if (f.json) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  process.stdout.write(renderProfile(result) + `\nresults: ${file}\ncharts: ${svgs.join(', ')}\n`);
}

/** The human table (also pasted into docs/performance.md). */
export function renderProfile(r: ProfileResult): string {
  const rows = r.cells.map((c) => [
    c.model.replace('local/', ''),
    c.dtype,
    c.threads,
    c.batch,
    c.length,
    c.meanTokens,
    round(c.paths.ort.textsPerS, 0),
    round(c.paths.plain.textsPerS, 0),
    round(c.paths.seamline.textsPerS, 0),
    round(c.paths.ort.realTokensPerS, 0),
    round(c.paths.plain.realTokensPerS, 0),
    round(c.paths.seamline.realTokensPerS, 0),
    round(c.paths.plain.paddingEfficiency, 2),
    round(c.paths.seamline.paddingEfficiency, 2),
    `${round(c.seamlineVsCeiling, 2)}×`,
    `${round(c.seamlineVsPlain, 2)}×`,
    c.peakRssMiB,
  ]);
  const agree = r.agreement
    .map(
      (a) =>
        `${a.model} ${a.dtype}: max |ort − plain| = ${a.ortVsPlain.toExponential(1)}, max |seamline − plain| = ${a.seamlineVsPlain.toExponential(1)}`,
    )
    .join('\n');
  return [
    `embedding profile (${r.machine.cpus} cores, load ${r.machine.loadAvgAtStart} at start, ${r.wallSeconds} s${r.quick ? ', QUICK' : ''}); texts/s, real tokens/s, padding efficiency = real ÷ padded tokens`,
    table(
      [
        'model',
        'dtype',
        'thr',
        'batch',
        'length',
        'tok/text',
        'ort t/s',
        'plain t/s',
        'seam t/s',
        'ort tok/s',
        'plain tok/s',
        'seam tok/s',
        'plain pad',
        'seam pad',
        'seam/ort',
        'seam/plain',
        'peak RSS MiB',
      ],
      rows,
    ),
    'path agreement (same texts, same vectors):',
    agree,
  ].join('\n');
}

/** One SVG per model: texts/s vs batch size, mixed-length text (or the first length run), each path and thread count. */
export function chartsFor(r: ProfileResult): [string, string][] {
  const out: [string, string][] = [];
  for (const model of [...new Set(r.cells.map((c) => c.model))]) {
    const mine = r.cells.filter((c) => c.model === model);
    const length = mine.some((c) => c.length === 'mixed') ? 'mixed' : mine[0]!.length;
    const series: Series[] = [];
    for (const threads of [...new Set(mine.map((c) => c.threads))]) {
      for (const p of PATHS) {
        const pts = mine
          .filter((c) => c.length === length && c.threads === threads)
          .map((c) => [c.batch, c.paths[p].textsPerS] as const);
        series.push({ name: `${p}, ${threads} thr`, points: pts });
      }
    }
    const short = model.replace(/^.*\//, '');
    out.push([
      `embed-profile-${short}.svg`,
      lineChartSvg(
        `${short}: texts/s vs batch size (${length} text)`,
        'batch size (texts per inference call)',
        'texts / s',
        series,
      ),
    ]);
  }
  return out;
}

await profile();
