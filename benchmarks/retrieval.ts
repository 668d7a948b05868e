// Retrieval quality on the BEIR SciFact train split (5,183 abstracts, 809 judged claims), for both
// vendored models, through the same search code POST /search serves (src/search/eval.ts):
//  - lands the corpus with `seamline ingest --once` (default chunking: abstracts become several chunks),
//  - LanceDB's own BM25 over whole documents (a separate one-row-per-document table), the reference
//    the fts target is measured against in the same run,
//  - a fusion sweep (method × vector weight) on the train split: the documented defaults come from it,
//  - every mode (vector, fts, hybrid at the documented default) scored like `seamline eval`,
//  - exact vector search vs an independent brute-force cosine, and ANN recall@10 vs exact.
// Writes benchmarks/results/retrieval-latest.json and the figures into docs/retrieval.md (+ docs/retrieval.json).
// Usage: node dist/benchmarks/retrieval.js [--data DIR] [--work DIR] [--fresh] [--models a,b] [--quick] [--no-docs]
// The data defaults to ../shared/data/scifact-train beside the repo (SEAMLINE_SCIFACT_DIR overrides);
// when it is missing the benchmark says so and exits 0. Tune on this train split only.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/observability/logger.js';
import { openRuntime } from '../src/runtime/runtime.js';
import { FUSION_DEFAULTS } from '../src/search/defaults.js';
import {
  embedQueries,
  judgedQueries,
  parseQrels,
  parseQueries,
  runEval,
  score,
  scoreFusion,
  sideRuns,
  type EvalQuery,
  type Metrics,
} from '../src/search/eval.js';
import type { FusionMethod, FusionSettings } from '../src/search/fusion.js';
import { searchLimitsOf } from '../src/search/search.js';
import { parseFlags } from './lib/args.js';
import { writeResult } from './lib/report.js';
import { landScifact, REPO_ROOT, scifactDir } from './lib/scifact.js';

const MODELS = ['local/glove-sif-100d', 'local/use-lite-512d'];
const WEIGHTS = Array.from({ length: 21 }, (_, i) => Math.round(i * 5) / 100);
const RRF_KS = [10, 30, 60];

interface SweepRow {
  readonly method: FusionMethod;
  readonly rrfK: number;
  readonly vectorWeight: number;
  readonly ndcg10: number;
}

export interface ModelResult {
  readonly modelId: string;
  readonly rows: number;
  readonly ingestS: number;
  readonly modes: Record<'vector' | 'fts' | 'hybrid', Metrics>;
  readonly documentedDefault: Omit<FusionSettings, 'rrfK'>;
  readonly sweepBest: SweepRow;
  readonly sweep: readonly SweepRow[];
  /** Whether the vector side of the modes table ran on an ANN index (a reused folder keeps the last run's). */
  readonly annAtEval: boolean;
  readonly exact: { queries: number; sameTop10: number; maxScoreDiff: number };
  readonly ann: { queries: number; recall10: number; settings: string; vectorNdcg10: number };
}

function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : d / Math.sqrt(na * nb);
}

/** LanceDB's own BM25 over whole documents (title + " " + text, BEIR style), one row per document. */
async function lanceBm25(dir: string, work: string, queries: readonly EvalQuery[]): Promise<Metrics> {
  const conn = await lancedb.connect(path.join(work, 'bm25-reference'));
  try {
    const docs = readFileSync(path.join(dir, 'corpus.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        const d = JSON.parse(l) as { _id: string; title: string; text: string };
        return { id: d._id, text: `${d.title} ${d.text}` };
      });
    const t = await conn.createTable('docs', docs, { mode: 'overwrite' });
    await t.createIndex('text', { config: lancedb.Index.fts() });
    const rankings: string[][] = [];
    for (const q of queries) {
      const rows = (await t
        .query()
        .fullTextSearch(q.text, { columns: ['text'] })
        .limit(100)
        .toArray()) as {
        id: string;
      }[];
      rankings.push(rows.map((r) => r.id));
    }
    return score(rankings, queries);
  } finally {
    conn.close();
  }
}

async function runModel(
  dir: string,
  work: string,
  modelId: string,
  queries: readonly EvalQuery[],
  fresh: boolean,
): Promise<ModelResult> {
  const root = path.join(work, modelId.replace(/[^A-Za-z0-9]+/g, '-'));
  const t0 = performance.now();
  const landed = landScifact(dir, root, modelId, !fresh);
  const ingestS = (performance.now() - t0) / 1000;
  const config = loadConfig({ file: landed.configFile });
  const rt = await openRuntime(config, createLogger('warn', 'bench', 'bench.retrieval'));
  try {
    const table = (await rt.servingTable(false))!;
    const limits = searchLimitsOf(config);
    const embedder = await rt.embedder(modelId);
    const log = (m: string): void => void process.stderr.write(`[${modelId}] ${m}\n`);
    // The ANN index (if a previous run built one) is dropped from the picture by rebuilding it last.
    const base = { table, embedder, modelId, queries, limits };

    log('side runs for the fusion sweep');
    const depth = Math.max(100, limits.hybridCandidates);
    const runs = await sideRuns({ ...base, modes: ['hybrid'], depth });
    const sweep: SweepRow[] = [];
    for (const vectorWeight of WEIGHTS) {
      for (const rrfK of RRF_KS)
        sweep.push({
          method: 'rrf',
          rrfK,
          vectorWeight,
          ndcg10: scoreFusion(runs, queries, { method: 'rrf', rrfK, vectorWeight }).ndcg10,
        });
      sweep.push({
        method: 'minmax',
        rrfK: limits.rrfK,
        vectorWeight,
        ndcg10: scoreFusion(runs, queries, { method: 'minmax', rrfK: limits.rrfK, vectorWeight }).ndcg10,
      });
    }
    const sweepBest = [...sweep].sort((a, b) => b.ndcg10 - a.ndcg10)[0]!;

    const annAtEval = (await table.indexes()).some((i) => i.columns.includes('vector'));
    log('eval: vector, fts, hybrid at the documented default');
    const report = await runEval({ ...base, modes: ['vector', 'fts', 'hybrid'] });

    log('exact vs brute force');
    const n = Math.min(queries.length, 100);
    const vecs = await embedQueries(embedder, queries.slice(0, n));
    const all: { key: string; v: Float32Array }[] = [];
    for await (const b of table.scanAll('all')) for (const r of b) all.push({ key: r.rowKey, v: r.vector });
    let same = 0;
    let maxDiff = 0;
    const exactTop: string[][] = [];
    for (const q of vecs) {
      const brute = all
        .map((r) => ({ key: r.key, s: cosine(q, r.v) }))
        .sort((a, b) => b.s - a.s)
        .slice(0, 10);
      const exact = await table.searchVector(q, 10, [], true);
      exactTop.push(exact.map((h) => h.row.rowKey));
      const floor = brute[9]!.s - 1e-6;
      const agree = exact.every(
        (h, i) =>
          h.row.rowKey === brute[i]!.key || Math.abs(h.score - brute[i]!.s) < 1e-6 || h.score >= floor,
      );
      if (agree && exact.length === brute.length) same += 1;
      exact.forEach((h, i) => (maxDiff = Math.max(maxDiff, Math.abs(h.score - brute[i]!.s))));
    }

    log('ANN index (hnsw_sq) recall@10 vs exact');
    const m = (await rt.store.openMaintenance(table.name))!;
    try {
      await m.createVectorIndex('hnsw_sq');
    } finally {
      m.close();
    }
    const annTable = (await rt.store.openTable(table.name))!;
    let hit = 0;
    for (let i = 0; i < n; i++) {
      const ann = await annTable.searchVector(vecs[i]!, 10, []);
      const ex = new Set(exactTop[i]);
      hit += ann.filter((h) => ex.has(h.row.rowKey)).length / Math.max(1, exactTop[i]!.length);
    }
    const annVector = await runEval({ ...base, table: annTable, modes: ['vector'] });
    return {
      modelId,
      rows: await table.countRows(),
      ingestS,
      modes: report as ModelResult['modes'],
      documentedDefault: FUSION_DEFAULTS[modelId] ?? { method: 'rrf', vectorWeight: 0.5 },
      sweepBest,
      sweep,
      annAtEval,
      exact: { queries: n, sameTop10: same, maxScoreDiff: maxDiff },
      ann: {
        queries: n,
        recall10: hit / n,
        settings:
          'IVF_HNSW_SQ, 1 partition, cosine; ef = max(100, 4k), refineFactor 2 (src/store/lance.ts ANN_QUERY)',
        vectorNdcg10: annVector.vector!.ndcg10,
      },
    };
  } finally {
    await rt.close();
  }
}

const f4 = (x: number): string => x.toFixed(4);

function markdown(res: { bm25: Metrics; models: ModelResult[]; queries: number; when: string }): string {
  const out: string[] = [];
  out.push(
    `Measured ${res.when} by \`npm run bench:retrieval\` on the SciFact **train** split (${res.queries} judged claims, 5,183 abstracts, default chunking), documents at k = 100, scored like \`seamline eval\`. The machine was shared (2 cores, other engineers' builds and tests running).`,
    '',
    '| mode | model | nDCG@10 | recall@10 | recall@100 | MRR@10 |',
    '|---|---|---|---|---|---|',
    `| LanceDB BM25, whole documents (reference) | — | ${f4(res.bm25.ndcg10)} | ${f4(res.bm25.recall10)} | ${f4(res.bm25.recall100)} | ${f4(res.bm25.mrr10)} |`,
  );
  for (const m of res.models)
    for (const mode of ['vector', 'fts', 'hybrid'] as const) {
      const x = m.modes[mode];
      const label =
        mode === 'hybrid'
          ? `hybrid (default: ${m.documentedDefault.method}, vector weight ${m.documentedDefault.vectorWeight})`
          : mode === 'vector'
            ? `vector (${m.annAtEval ? 'HNSW index' : 'exact'})`
            : mode;
      out.push(
        `| ${label} | ${m.modelId} | ${f4(x.ndcg10)} | ${f4(x.recall10)} | ${f4(x.recall100)} | ${f4(x.mrr10)} |`,
      );
    }
  out.push('', '**Targets**', '');
  for (const m of res.models) {
    const fts = m.modes.fts.ndcg10;
    const best = Math.max(m.modes.fts.ndcg10, m.modes.vector.ndcg10);
    out.push(
      `- ${m.modelId}: fts ${f4(fts)} vs LanceDB BM25 ${f4(res.bm25.ndcg10)} − 0.005 → ${fts >= res.bm25.ndcg10 - 0.005 ? 'met' : 'NOT met'}; hybrid ${f4(m.modes.hybrid.ndcg10)} vs max(fts, vector) ${f4(best)} → ${m.modes.hybrid.ndcg10 >= best ? 'met' : 'NOT met'}; exact vs brute-force cosine: ${m.exact.sameTop10}/${m.exact.queries} queries same top-10, max score difference ${m.exact.maxScoreDiff.toExponential(1)} (≤ 1e-3: ${m.exact.maxScoreDiff <= 1e-3 ? 'met' : 'NOT met'}); ANN recall@10 vs exact ${f4(m.ann.recall10)} over ${m.ann.queries} queries (≥ 0.95: ${m.ann.recall10 >= 0.95 ? 'met' : 'NOT met'}; vector nDCG@10 with the ANN index ${f4(m.ann.vectorNdcg10)}).`,
    );
  }
  out.push(
    '',
    '**Fusion sweep** (hybrid nDCG@10 on train by method and vector weight; fts = weight 0, vector = weight 1)',
    '',
  );
  const methods = [...RRF_KS.map((k) => ['rrf', k] as const), ['minmax', null] as const];
  for (const m of res.models) {
    out.push(
      `${m.modelId}: best ${m.sweepBest.method}${m.sweepBest.method === 'rrf' ? ` (k = ${m.sweepBest.rrfK})` : ''}, vector weight ${m.sweepBest.vectorWeight} → ${f4(m.sweepBest.ndcg10)}; documented default ${m.documentedDefault.method}, vector weight ${m.documentedDefault.vectorWeight}`,
      '',
      `| vector weight | ${methods.map(([x, k]) => (k === null ? x : `${x} k=${k}`)).join(' | ')} |`,
      `|---|${methods.map(() => '---').join('|')}|`,
    );
    for (const w of WEIGHTS) {
      const cells = methods.map(([method, k]) => {
        const r = m.sweep.find(
          (x) => x.method === method && x.vectorWeight === w && (k === null || x.rrfK === k),
        )!;
        const v = f4(r.ndcg10);
        return r === m.sweepBest ? `**${v}**` : v;
      });
      out.push(`| ${w} | ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const flags = parseFlags({
    data: { type: 'string' },
    work: { type: 'string' },
    fresh: { type: 'boolean', default: false },
    models: { type: 'string' },
    'no-docs': { type: 'boolean', default: false },
  });
  const dir = scifactDir(flags.data as string | undefined);
  if (!dir) {
    process.stdout.write(
      `bench:retrieval: the SciFact train split is not there (looked in ${String(flags.data ?? process.env.SEAMLINE_SCIFACT_DIR ?? path.resolve(REPO_ROOT, '..', 'shared', 'data', 'scifact-train'))}); skipping.\n`,
    );
    return;
  }
  const work = (flags.work as string | undefined) ?? path.join(tmpdir(), 'seamline-retrieval');
  const models = typeof flags.models === 'string' ? flags.models.split(',') : MODELS;
  let queries = judgedQueries(
    parseQueries(readFileSync(path.join(dir, 'queries.jsonl'), 'utf8')),
    parseQrels(readFileSync(path.join(dir, 'qrels', 'train.tsv'), 'utf8')),
  );
  if (flags.quick) queries = queries.slice(0, 50);
  const bm25 = await lanceBm25(dir, work, queries);
  process.stderr.write(`LanceDB BM25 over whole documents: nDCG@10 ${f4(bm25.ndcg10)}\n`);
  const results: ModelResult[] = [];
  for (const m of models) results.push(await runModel(dir, work, m, queries, flags.fresh === true));
  const when = new Date().toISOString().slice(0, 10);
  const res = { when, queries: queries.length, bm25, models: results };
  const file = writeResult(flags.out, 'retrieval', res);
  const md = markdown(res);
  process.stdout.write(`${md}\n\nJSON: ${file}\n`);
  const doc = path.join(REPO_ROOT, 'docs', 'retrieval.md');
  if (!flags['no-docs'] && !flags.quick && existsSync(doc)) {
    const text = readFileSync(doc, 'utf8');
    const start = '<!-- bench:retrieval:start -->';
    const end = '<!-- bench:retrieval:end -->';
    const a = text.indexOf(start);
    const b = text.indexOf(end);
    if (a >= 0 && b > a) writeFileSync(doc, `${text.slice(0, a + start.length)}\n${md}\n${text.slice(b)}`);
    // The figures behind the doc, committed beside it (benchmarks/results is not).
    writeFileSync(path.join(REPO_ROOT, 'docs', 'retrieval.json'), `${JSON.stringify(res, null, 2)}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:retrieval failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
