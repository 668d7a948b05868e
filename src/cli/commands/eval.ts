import { readFile } from 'node:fs/promises';
import { SeamlineError } from '../../errors/errors.js';
import { openRuntime } from '../../runtime/runtime.js';
import { judgedQueries, parseQrels, parseQueries, runEval, type EvalReport } from '../../search/eval.js';
import { FUSION_METHODS, type FusionMethod, type FusionSettings } from '../../search/fusion.js';
import { SEARCH_MODES, searchLimitsOf, type SearchMode } from '../../search/search.js';
import type { Command } from '../context.js';
import { printOut } from '../output.js';

/** Flags of `seamline eval` (for the parser): name → type. */
export const EVAL_FLAGS = {
  queries: 'string (required)',
  qrels: 'string (required)',
  modes: 'string (comma list; default vector,fts,hybrid)',
  'vector-weight': 'string',
  fusion: 'string',
} as const;

const usage = (msg: string): SeamlineError => new SeamlineError('USAGE', msg);

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw usage(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

/** Parses --modes (comma list), default every mode. */
export function modesOf(v: string | boolean | string[] | undefined): SearchMode[] {
  if (v === undefined) return [...SEARCH_MODES];
  if (typeof v !== 'string') throw usage('--modes takes a comma list: vector,fts,hybrid');
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const m of list)
    if (!(SEARCH_MODES as readonly string[]).includes(m))
      throw usage(`--modes: unknown mode ${JSON.stringify(m)} (known: ${SEARCH_MODES.join(', ')})`);
  if (list.length === 0) throw usage('--modes needs at least one of vector, fts, hybrid');
  return [...new Set(list)] as SearchMode[];
}

export function formatReport(r: EvalReport): string {
  const rows = Object.entries(r).map(
    ([m, x]) =>
      `${m.padEnd(8)} ${x.ndcg10.toFixed(4).padStart(9)} ${x.recall10.toFixed(4).padStart(10)} ${x.recall100.toFixed(4).padStart(11)} ${x.mrr10.toFixed(4).padStart(8)} ${String(x.queries).padStart(8)}`,
  );
  return [
    `${'mode'.padEnd(8)} ${'nDCG@10'.padStart(9)} ${'recall@10'.padStart(10)} ${'recall@100'.padStart(11)} ${'MRR@10'.padStart(8)} ${'queries'.padStart(8)}`,
    ...rows,
  ].join('\n');
}

/**
 * eval --queries FILE --qrels FILE [--modes vector,fts,hybrid] [--vector-weight W] [--fusion rrf|minmax]:
 * BEIR queries (JSONL {_id, text}) and qrels (query-id TAB corpus-id TAB score, header row) against the
 * serving table, every mode through the search code POST /search serves, documents at k = 100.
 */
export const evalCmd: Command = async (ctx) => {
  const qf = ctx.values.queries;
  const rf = ctx.values.qrels;
  if (typeof qf !== 'string' || typeof rf !== 'string')
    throw usage('eval needs --queries FILE (BEIR JSONL) and --qrels FILE (BEIR TSV with a header row)');
  const modes = modesOf(ctx.values.modes);
  const fusion: Partial<FusionSettings> = {};
  if (ctx.values['vector-weight'] !== undefined) {
    const w = Number(ctx.values['vector-weight']);
    if (!Number.isFinite(w) || w < 0 || w > 1) throw usage('--vector-weight must be a number from 0 to 1');
    (fusion as { vectorWeight?: number }).vectorWeight = w;
  }
  if (ctx.values.fusion !== undefined) {
    if (!(FUSION_METHODS as readonly string[]).includes(String(ctx.values.fusion)))
      throw usage(`--fusion must be one of ${FUSION_METHODS.join(', ')}`);
    (fusion as { method?: FusionMethod }).method = ctx.values.fusion as FusionMethod;
  }
  const queries = judgedQueries(
    parseQueries(await readText(qf, 'queries'), qf),
    parseQrels(await readText(rf, 'qrels'), rf),
  );
  if (queries.length === 0) throw usage(`no query of ${qf} has a relevant judgment in ${rf}`);
  const rt = await openRuntime(ctx.config, ctx.logger);
  try {
    const table = await rt.servingTable(false);
    const serving = await rt.tables.serving();
    if (!table || !serving) throw usage(`nothing is indexed yet in ${ctx.config.dataDir}`);
    const report = await runEval({
      table,
      embedder: () => rt.embedder(serving.modelId),
      modelId: serving.modelId,
      queries,
      modes,
      limits: searchLimitsOf(ctx.config),
      fusion,
    });
    printOut(
      ctx.json,
      { table: table.name, modelId: serving.modelId, queries: queries.length, metrics: report },
      () =>
        `table ${table.name} (${serving.modelId}), ${queries.length} judged queries, documents at k=100\n${formatReport(report)}`,
    );
    return 0;
  } finally {
    await rt.close();
  }
};
