import { SeamlineError } from '../errors/errors.js';
import type { Embedder } from '../ports/embedder.js';
import type { VectorTable } from '../ports/vector-store.js';
import { normalizeText } from '../processor/materialize-plan.js';
import { fuse, type FusionSettings } from './fusion.js';
import {
  ftsDocs,
  fusionOf,
  search,
  vectorDocs,
  type EmbedderSource,
  type SearchLimits,
  type SearchMode,
} from './search.js';

/** One query with its judged documents (grade > 0 = relevant). */
export interface EvalQuery {
  readonly id: string;
  readonly text: string;
  readonly relevant: ReadonlyMap<string, number>;
}

export interface Metrics {
  readonly ndcg10: number;
  readonly recall10: number;
  readonly recall100: number;
  readonly mrr10: number;
  readonly queries: number;
}

const bad = (file: string, line: number, msg: string): SeamlineError =>
  new SeamlineError('USAGE', `${file}:${line}: ${msg}`);

/**
 * BEIR qrels: `query-id<TAB>corpus-id<TAB>score` with a header row (CRLF tolerated). Returns
 * query id → (corpus id → grade). Throws USAGE naming file and line on anything else. Pure.
 */
export function parseQrels(text: string, file = 'qrels'): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const cols = line.split('\t');
    if (i === 0 && /^query[-_ ]?id$/i.test(cols[0]!.trim())) return; // header
    if (cols.length !== 3)
      throw bad(file, i + 1, `expected query-id<TAB>corpus-id<TAB>score, got ${cols.length} column(s)`);
    const [q, d, s] = cols.map((c) => c.trim()) as [string, string, string];
    const g = Number(s);
    if (q === '' || d === '') throw bad(file, i + 1, 'empty query-id or corpus-id');
    if (s === '' || !Number.isFinite(g)) throw bad(file, i + 1, `score ${JSON.stringify(s)} is not a number`);
    let m = out.get(q);
    if (!m) out.set(q, (m = new Map<string, number>()));
    m.set(d, g);
  });
  if (out.size === 0) throw new SeamlineError('USAGE', `${file}: no judgments`);
  return out;
}

/** BEIR queries: JSONL of {"_id", "text"} (`id` accepted too). Pure; errors name file and line. */
export function parseQueries(text: string, file = 'queries'): { id: string; text: string }[] {
  const out: { id: string; text: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let o: unknown;
    try {
      o = JSON.parse(raw);
    } catch (e) {
      throw bad(file, i + 1, `not JSON (${(e as Error).message})`);
    }
    const r = (o ?? {}) as { _id?: unknown; id?: unknown; text?: unknown };
    const id = r._id ?? r.id;
    if (typeof id !== 'string' && typeof id !== 'number') throw bad(file, i + 1, 'needs "_id" (string)');
    if (typeof r.text !== 'string' || r.text.trim() === '')
      throw bad(file, i + 1, 'needs a non-empty "text"');
    out.push({ id: String(id), text: r.text });
  });
  return out;
}

/** Queries that have at least one relevant judgment (BEIR scores only those). */
export function judgedQueries(
  queries: readonly { id: string; text: string }[],
  qrels: ReadonlyMap<string, ReadonlyMap<string, number>>,
): EvalQuery[] {
  return queries
    .map((q) => ({ ...q, relevant: qrels.get(q.id) ?? new Map<string, number>() }))
    .filter((q) => [...q.relevant.values()].some((g) => g > 0));
}

/** nDCG@k, BEIR style: gain = grade, discount log2(rank + 1), each document once. Pure. */
export function ndcgAt(ranked: readonly string[], relevant: ReadonlyMap<string, number>, k = 10): number {
  const ideal = [...relevant.values()]
    .filter((g) => g > 0)
    .sort((a, b) => b - a)
    .slice(0, k);
  if (ideal.length === 0) return 0;
  const idcg = ideal.reduce((s, g, i) => s + g / Math.log2(i + 2), 0);
  const seen = new Set<string>();
  let dcg = 0;
  ranked.slice(0, k).forEach((id, i) => {
    if (seen.has(id)) return;
    seen.add(id);
    const g = relevant.get(id) ?? 0;
    if (g > 0) dcg += g / Math.log2(i + 2);
  });
  return dcg / idcg;
}

export function recallAt(
  ranked: readonly string[],
  relevant: ReadonlyMap<string, number>,
  k: number,
): number {
  const rel = [...relevant.entries()].filter(([, g]) => g > 0).map(([id]) => id);
  if (rel.length === 0) return 0;
  const top = new Set(ranked.slice(0, k));
  return rel.filter((id) => top.has(id)).length / rel.length;
}

export function mrrAt(ranked: readonly string[], relevant: ReadonlyMap<string, number>, k = 10): number {
  const i = ranked.slice(0, k).findIndex((id) => (relevant.get(id) ?? 0) > 0);
  return i < 0 ? 0 : 1 / (i + 1);
}

/** Mean metrics of ranked id lists against their queries' judgments. Pure. */
export function score(rankings: readonly (readonly string[])[], queries: readonly EvalQuery[]): Metrics {
  const n = queries.length;
  let ndcg = 0;
  let r10 = 0;
  let r100 = 0;
  let mrr = 0;
  queries.forEach((q, i) => {
    const r = rankings[i] ?? [];
    ndcg += ndcgAt(r, q.relevant, 10);
    r10 += recallAt(r, q.relevant, 10);
    r100 += recallAt(r, q.relevant, 100);
    mrr += mrrAt(r, q.relevant, 10);
  });
  const m = (x: number): number => (n === 0 ? 0 : x / n);
  return { ndcg10: m(ndcg), recall10: m(r10), recall100: m(r100), mrr10: m(mrr), queries: n };
}

export interface EvalOptions {
  readonly table: VectorTable;
  /** Loaded only when a mode needs vectors. */
  readonly embedder: EmbedderSource;
  /** The model of the table's vectors (picks the documented fusion default). */
  readonly modelId: string;
  readonly queries: readonly EvalQuery[];
  readonly modes: readonly SearchMode[];
  readonly limits: SearchLimits;
  /** Hybrid fusion override (default: config / the model's documented default). */
  readonly fusion?: Partial<FusionSettings>;
  readonly signal?: AbortSignal;
}

export type EvalReport = Partial<Record<SearchMode, Metrics>>;

/** Embeds all query texts in one go (the embedder batches them). */
export async function embedQueries(
  embedder: Embedder,
  queries: readonly { text: string }[],
  signal?: AbortSignal,
): Promise<Float32Array[]> {
  return embedder.embed(
    queries.map((q) => ({ text: normalizeText(q.text), tokens: Math.ceil(q.text.length / 4) })),
    signal,
  );
}

/**
 * Runs every asked mode through `search()` — the code POST /search serves — at document level with
 * k = 100, and scores nDCG@10, recall@10, recall@100 and MRR@10.
 */
export async function runEval(o: EvalOptions): Promise<EvalReport> {
  const needVectors = o.modes.some((m) => m !== 'fts');
  const emb = needVectors ? await (typeof o.embedder === 'function' ? o.embedder() : o.embedder) : null;
  const vecs = emb ? await embedQueries(emb, o.queries, o.signal) : [];
  const out: EvalReport = {};
  for (const mode of o.modes) {
    const rankings: string[][] = [];
    for (let i = 0; i < o.queries.length; i++) {
      o.signal?.throwIfAborted();
      const q = o.queries[i]!;
      const res = await search(
        o.table,
        emb ?? o.embedder,
        {
          query: q.text,
          k: 100,
          mode,
          filters: [],
          granularity: 'document',
          passages: 0,
          ...(mode === 'hybrid' && o.fusion?.vectorWeight !== undefined
            ? { weights: { vector: o.fusion.vectorWeight, fts: 1 - o.fusion.vectorWeight } }
            : {}),
          ...(mode === 'hybrid' && o.fusion?.method ? { fusion: o.fusion.method } : {}),
        },
        o.fusion?.rrfK !== undefined ? { ...o.limits, rrfK: o.fusion.rrfK } : o.limits,
        { ...(vecs[i] ? { queryVector: vecs[i] } : {}), modelId: o.modelId },
      );
      rankings.push(res.results.map((r) => r.id));
    }
    out[mode] = score(rankings, o.queries);
  }
  return out;
}

/** Both sides of every query at document level (depth documents each): the input of a fusion sweep. */
export interface SideRuns {
  readonly vector: { key: string; score: number }[][];
  readonly fts: { key: string; score: number }[][];
}

export async function sideRuns(o: EvalOptions & { readonly depth: number }): Promise<SideRuns> {
  const emb = await (typeof o.embedder === 'function' ? o.embedder() : o.embedder);
  const vecs = await embedQueries(emb, o.queries, o.signal);
  const vector: SideRuns['vector'] = [];
  const fts: SideRuns['fts'] = [];
  for (let i = 0; i < o.queries.length; i++) {
    const v = await vectorDocs(
      o.table,
      vecs[i]!.some((x) => x !== 0) ? vecs[i]! : null,
      o.depth,
      [],
      o.limits.maxCandidates,
    );
    const f = await ftsDocs(o.table, o.queries[i]!.text, o.depth, [], o.limits.maxCandidates, []);
    vector.push(v.docs.map((d) => ({ key: d.id, score: d.score })));
    fts.push(f.docs.map((d) => ({ key: d.id, score: d.score })));
  }
  return { vector, fts };
}

/** Scores one fusion setting over precomputed side runs (what search() does for hybrid, offline). Pure. */
export function scoreFusion(runs: SideRuns, queries: readonly EvalQuery[], s: FusionSettings): Metrics {
  return score(
    queries.map((_, i) => fuse(runs.vector[i]!, runs.fts[i]!, s).map((x) => x.key)),
    queries,
  );
}

export { fusionOf };
