import { SeamlineError } from '../../errors/errors.js';
import { openRuntime } from '../../runtime/runtime.js';
import { search, type SearchMode } from '../../search/search.js';
import type { Command } from '../context.js';
import { printOut } from '../output.js';

export const searchCmd: Command = async (ctx) => {
  const text = ctx.args.join(' ');
  if (text.trim() === '') throw new SeamlineError('USAGE', 'search needs a query text: seamline search "TEXT" [-k N]');
  const k = ctx.values.k === undefined ? 10 : Number(ctx.values.k);
  const mode = (ctx.values.mode ?? 'vector') as SearchMode;
  if (!['vector', 'fts', 'hybrid'].includes(mode)) throw new SeamlineError('USAGE', `--mode must be vector, fts or hybrid, got "${String(mode)}"`);
  const rt = await openRuntime(ctx.config, ctx.logger);
  try {
    const table = await rt.servingTable(false);
    const serving = rt.tables.serving();
    if (!table || !serving) throw new SeamlineError('USAGE', `nothing is indexed yet in ${ctx.config.dataDir}: drop files into ${ctx.config.landingDir} and run seamline ingest --once`);
    const embedder = await rt.embedder(serving.modelId);
    const results = await search(table, embedder, { text, k, mode });
    printOut(ctx.json, { query: text, k, mode, table: table.name, results }, () =>
      results.length === 0
        ? 'no results'
        : results.map((r, i) => `${i + 1}. ${r.id}#${r.chunk}  score=${r.score.toFixed(4)}  v${r.provenance.sourceVersion}  ${r.provenance.file}:${r.provenance.line}\n   ${r.text.length > 160 ? `${r.text.slice(0, 157)}...` : r.text}`).join('\n'),
    );
    return 0;
  } finally {
    await rt.close();
  }
};

