import { readFile } from 'node:fs/promises';
import { SeamlineError } from '../errors/errors.js';
import type { Embedder } from '../ports/embedder.js';
import type { VectorTable } from '../ports/vector-store.js';
import { normalizeText } from '../processor/materialize-plan.js';
import type { Runtime } from '../runtime/runtime.js';
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
import { ReindexJobs } from './jobs.js';

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
export async function runGates(rt: Runtime, g: GateInputs): Promise<GateResult[]> {
  const cfg = rt.config.reindex.gates;
  const jobs = new ReindexJobs(rt.db);
  const out: GateResult[] = [];

  const keys = new Map<string, KeyEntry>();
  for (let after = ''; ;) {
    const page = jobs.keyPage(after, 5000);
    if (page.length === 0) break;
    for (const k of page) keys.set(k.id, { seq: k.seq, deleted: k.deleted });
    after = page[page.length - 1]!.id;
  }

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

  if (!g.sameModel)
    out.push(skippedGate('overlap', `model changed (${g.oldModelId} → ${g.embedder.modelId})`));
  else if (cfg.overlapSample === 0)
    out.push(skippedGate('overlap', 'disabled (reindex.gates.overlapSample = 0)'));
  else {
    // Queries are texts of live records spread evenly over the id space: deterministic, no extra input.
    const live = [...keys.entries()].filter(([, k]) => !k.deleted);
    const step = Math.max(1, Math.floor(live.length / cfg.overlapSample));
    const seqs = live
      .filter((_, i) => i % step === 0)
      .slice(0, cfg.overlapSample)
      .map(([, k]) => k.seq);
    const texts = (await rt.bronze.eventsBySeq(seqs))
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
    out.push(overlapGate(overlaps, cfg.overlapK, cfg.minOverlap));
  }

  if (g.evaluationFile === null)
    out.push(skippedGate('ndcg', 'no evaluation file (reindex.gates.evaluationFile)'));
  else {
    let queries;
    try {
      queries = parseEvaluation(await readFile(g.evaluationFile, 'utf8'));
    } catch (e) {
      throw new SeamlineError(
        'CONFIG_INVALID',
        `evaluation file ${g.evaluationFile}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    queries = queries.filter((q) => [...q.relevant.values()].some((v) => v > 0));
    if (queries.length === 0)
      throw new SeamlineError(
        'CONFIG_INVALID',
        `evaluation file ${g.evaluationFile} has no query with a relevant id`,
      );
    // The same search code the daemon serves, in the serving mode (or reindex.gates.ndcgMode), at document level.
    const limits = searchLimitsOf(rt.config);
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
      () => (g.sameModel ? Promise.resolve(g.embedder) : rt.embedder(g.oldModelId)),
      g.oldModelId,
    );
    const gate = ndcgGate(oldScore, newScore, queries.length, cfg.maxNdcgDrop, cfg.minNdcg);
    out.push({ ...gate, figure: `${mode}: ${gate.figure}`, details: { ...gate.details, mode } });
  }
  return out;
}
