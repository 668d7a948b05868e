import { readFile } from 'node:fs/promises';
import { SeamlineError } from '../errors/errors.js';
import type { Embedder } from '../ports/embedder.js';
import type { VectorTable } from '../ports/vector-store.js';
import { normalizeText } from '../processor/materialize-plan.js';
import { ndcgAt } from '../search/eval.js';
import { search, searchLimitsOf } from '../search/search.js';
import {
  badVector,
  ndcgGate,
  overlapGate,
  ParityCheck,
  parseEvaluation,
  skippedGate,
  topkOverlap,
  vectorsGate,
  type GateResult,
  type KeyEntry,
} from './gates.js';
import type { ReindexDeps } from './deps.js';

export interface GateInputs {
  readonly oldTable: VectorTable;
  readonly newTable: VectorTable;
  readonly oldModelId: string;
  readonly embedder: Embedder;
  readonly sameModel: boolean;
  readonly caughtUpSeq: number;
  readonly evaluationFile: string | null;
  readonly signal?: AbortSignal | undefined;
}

/** Runs the configured gates against the new table; each result carries its figure. */
export async function runGates(
  deps: Pick<ReindexDeps, 'config' | 'bronze' | 'jobs' | 'embedder'>,
  g: GateInputs,
): Promise<GateResult[]> {
  const keys = new Map<string, KeyEntry>();
  for (let after = ''; ;) {
    const page = await deps.jobs.keyPage(after, 5000);
    if (page.length === 0) break;
    for (const k of page) keys.set(k.id, { seq: k.seq, deleted: k.deleted });
    after = page[page.length - 1]!.id;
  }
  return [
    ...(await tableGates(deps, g, keys)),
    await overlap(deps, g, keys),
    g.evaluationFile === null
      ? skippedGate('ndcg', 'no evaluation file (reindex.gates.evaluationFile)')
      : await ndcg(deps, g, g.evaluationFile),
  ];
}

type GateDeps = Pick<ReindexDeps, 'config' | 'bronze' | 'jobs' | 'embedder'>;

/** Parity and vectors: one scan of the new table feeds both. */
async function tableGates(deps: GateDeps, g: GateInputs, keys: Map<string, KeyEntry>): Promise<GateResult[]> {
  const cfg = deps.config.reindex.gates;
  const out: GateResult[] = [];
  // One scan of the new table feeds both the parity and the vector gate.
  if (cfg.parity || cfg.vectors) {
    const parity = new ParityCheck();
    let rows = 0;
    let bad = 0;
    for await (const batch of g.newTable.scanAll('all')) {
      g.signal?.throwIfAborted();
      rows += batch.length;
      if (cfg.parity) parity.add(batch);
      if (cfg.vectors) for (const r of batch) if (badVector(r.vector, g.newTable.dim)) bad += 1;
    }
    out.push(
      cfg.parity
        ? parity.finish(keys, g.caughtUpSeq)
        : skippedGate('parity', 'disabled (reindex.gates.parity)'),
    );
    out.push(
      cfg.vectors
        ? vectorsGate(rows, bad, g.newTable.dim)
        : skippedGate('vectors', 'disabled (reindex.gates.vectors)'),
    );
  } else {
    out.push(
      skippedGate('parity', 'disabled (reindex.gates.parity)'),
      skippedGate('vectors', 'disabled (reindex.gates.vectors)'),
    );
  }
  return out;
}

/** Top-k overlap between old and new tables (same model only). */
async function overlap(deps: GateDeps, g: GateInputs, keys: Map<string, KeyEntry>): Promise<GateResult> {
  const cfg = deps.config.reindex.gates;
  if (!g.sameModel) return skippedGate('overlap', `model changed (${g.oldModelId} → ${g.embedder.modelId})`);
  if (cfg.overlapSample === 0) return skippedGate('overlap', 'disabled (reindex.gates.overlapSample = 0)');
  // Queries are texts of live records spread evenly over the id space: deterministic, no extra input.
  const live = [...keys.entries()].filter(([, k]) => !k.deleted);
  const step = Math.max(1, Math.floor(live.length / cfg.overlapSample));
  const seqs = live
    .filter((_, i) => i % step === 0)
    .slice(0, cfg.overlapSample)
    .map(([, k]) => k.seq);
  const texts = (await deps.bronze.eventsBySeq(seqs))
    .map((e) => normalizeText(e.text).slice(0, 400))
    .filter((t) => t !== '');
  const vecs = texts.length
    ? await g.embedder.embed(
        texts.map((text) => ({ text, tokens: Math.ceil(text.length / 4) })),
        g.signal,
      )
    : [];
  const overlaps: number[] = [];
  for (const v of vecs) {
    const a = (await g.oldTable.vectorSearch(v, cfg.overlapK)).map((h) => ({
      key: h.row.rowKey,
      score: h.score,
    }));
    const b = (await g.newTable.vectorSearch(v, cfg.overlapK)).map((h) => ({
      key: h.row.rowKey,
      score: h.score,
    }));
    overlaps.push(topkOverlap(a, b, cfg.overlapK));
  }
  return overlapGate(overlaps, cfg.overlapK, cfg.minOverlap);
}

/** nDCG@10 of old and new tables on the evaluation file, through the search code the daemon serves. */
async function ndcg(deps: GateDeps, g: GateInputs, evaluationFile: string): Promise<GateResult> {
  const cfg = deps.config.reindex.gates;
  let queries;
  try {
    queries = parseEvaluation(await readFile(evaluationFile, 'utf8'));
  } catch (e) {
    throw new SeamlineError('CONFIG_INVALID', `evaluation file ${evaluationFile}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  queries = queries.filter((q) => [...q.relevant.values()].some((v) => v > 0));
  if (queries.length === 0)
    throw new SeamlineError(
      'CONFIG_INVALID',
      `evaluation file ${evaluationFile} has no query with a relevant id`,
    );
  // The same search code the daemon serves, in the serving mode (or reindex.gates.ndcgMode), at document level.
  const limits = searchLimitsOf(deps.config);
  const mode = cfg.ndcgMode ?? limits.defaultMode;
  const score = async (
    table: VectorTable,
    embedder: () => Promise<Embedder>,
    modelId: string,
  ): Promise<number> => {
    let sum = 0;
    for (const q of queries) {
      g.signal?.throwIfAborted();
      const res = await search(
        table,
        embedder,
        { query: q.query, k: 10, mode, filters: [], granularity: 'document', passages: 0 },
        limits,
        { modelId },
      );
      sum += ndcgAt(
        res.results.map((r) => r.id),
        q.relevant,
        10,
      );
    }
    return sum / queries.length;
  };
  const newScore = await score(g.newTable, () => Promise.resolve(g.embedder), g.embedder.modelId);
  const oldScore = await score(
    g.oldTable,
    () => (g.sameModel ? Promise.resolve(g.embedder) : deps.embedder(g.oldModelId)),
    g.oldModelId,
  );
  const gate = ndcgGate(oldScore, newScore, queries.length, cfg.maxNdcgDrop, cfg.minNdcg);
  return { ...gate, figure: `${mode}: ${gate.figure}`, details: { ...gate.details, mode } };
}
