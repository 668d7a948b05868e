import { SeamlineError } from '../../errors/errors.js';
import { openRuntime } from '../../runtime/runtime.js';
import { parseWhere } from '../../search/filter.js';
import { search, SEARCH_MODES, searchLimitsOf, type SearchMode } from '../../search/search.js';
import type { Command } from '../context.js';
import { printOut } from '../output.js';

/** search "TEXT" [-k N] [--mode vector|fts|hybrid] [--where 'FIELD OP VALUE']...: the same implementation as POST /search. */
export const searchCmd: Command = async (ctx) => {
  const text = ctx.args.join(' ');
  if (text.trim() === '')
    throw new SeamlineError(
      'USAGE',
      'search needs a query text: seamline search "TEXT" [-k N] [--mode vector|fts|hybrid] [--where "FIELD OP VALUE"]',
    );
  const k = ctx.values.k === undefined ? 10 : Number(ctx.values.k);
  const mode = (ctx.values.mode ?? 'vector') as SearchMode;
  if (!SEARCH_MODES.includes(mode))
    throw new SeamlineError('USAGE', `--mode must be vector, fts or hybrid, got "${String(mode)}"`);
  const limits = searchLimitsOf(ctx.config);
  const where = ctx.values.where;
  const filters = (Array.isArray(where) ? where : typeof where === 'string' ? [where] : []).map((w) =>
    parseWhere(w, limits.metadata),
  );
  const rt = await openRuntime(ctx.config, ctx.logger);
  try {
    const table = await rt.servingTable(false);
    const serving = rt.tables.serving();
    if (!table || !serving)
      throw new SeamlineError(
        'USAGE',
        `nothing is indexed yet in ${ctx.config.dataDir}: drop files into ${ctx.config.landingDir} and run seamline ingest --once`,
      );
    const embedder = await rt.embedder(serving.modelId);
    const results = await search(table, embedder, { query: text, k, mode, filters }, limits);
    printOut(ctx.json, { query: text, k, mode, filters, table: table.name, results }, () =>
      results.length === 0
        ? 'no results'
        : results
            .map(
              (r, i) =>
                `${i + 1}. ${r.id}#${r.chunk}  score=${r.score.toFixed(4)}  v${r.provenance.sourceVersion}  ${r.provenance.file}:${r.provenance.line}\n   ${r.text.length > 160 ? `${r.text.slice(0, 157)}...` : r.text}`,
            )
            .join('\n'),
    );
    return 0;
  } finally {
    await rt.close();
  }
};
