import type { Config } from '../../config/load.js';
import { WRITER_LEASE } from '../../runtime/lock.js';
import { openExistingStores } from '../../store/open.js';
import type { Stores } from '../../ports/stores.js';
import { SeamlineError } from '../../errors/errors.js';
import { openRuntime } from '../../runtime/runtime.js';
import { parseWhere } from '../../search/filter.js';
import {
  search,
  SEARCH_MODES,
  searchLimitsOf,
  validateRequest,
  type SearchMode,
  type SearchRequest,
  type SearchResponse,
} from '../../search/search.js';
import type { Command, CommandContext } from '../context.js';
import { printOut } from '../output.js';

/** Flags of `seamline search` (for the parser): name → type. */
export const SEARCH_FLAGS = {
  k: 'string (-k)',
  offset: 'string',
  mode: 'string',
  where: 'string, multiple',
  granularity: 'string',
  passages: 'string',
  'vector-weight': 'string',
  fusion: 'string',
  local: 'boolean',
} as const;

const usage = (msg: string): SeamlineError => new SeamlineError('USAGE', msg);

function intFlag(v: unknown, name: string, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isInteger(n))
    throw usage(`--${name} must be an integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Builds the request from argv, validated exactly as POST /search validates its body. */
export function searchRequestOf(ctx: Pick<CommandContext, 'args' | 'values' | 'config'>): SearchRequest {
  const text = ctx.args.join(' ');
  if (text.trim() === '')
    throw usage(
      'search needs a query text: seamline search "TEXT" [-k N] [--offset N] [--mode vector|fts|hybrid] [--where "FIELD OP VALUE"]... [--granularity document|chunk]',
    );
  const limits = searchLimitsOf(ctx.config);
  const mode = (ctx.values.mode ?? limits.defaultMode) as SearchMode;
  if (!SEARCH_MODES.includes(mode))
    throw usage(`--mode must be vector, fts or hybrid, got "${String(mode)}"`);
  const where = ctx.values.where;
  const filters = (Array.isArray(where) ? where : typeof where === 'string' ? [where] : []).map((w) =>
    parseWhere(w, limits.metadata),
  );
  const vw = ctx.values['vector-weight'];
  let weights: SearchRequest['weights'];
  if (vw !== undefined) {
    const w = Number(vw);
    if (typeof vw !== 'string' || !Number.isFinite(w) || w < 0 || w > 1)
      throw usage(`--vector-weight must be a number from 0 to 1, got ${JSON.stringify(vw)}`);
    weights = { vector: w, fts: 1 - w };
  }
  const req: SearchRequest = {
    query: text,
    k: intFlag(ctx.values.k, 'k', 10),
    offset: intFlag(ctx.values.offset, 'offset', 0),
    mode,
    filters,
    granularity: (ctx.values.granularity ?? 'document') as SearchRequest['granularity'] & string,
    ...(ctx.values.passages !== undefined ? { passages: intFlag(ctx.values.passages, 'passages', 1) } : {}),
    ...(weights ? { weights } : {}),
    ...(ctx.values.fusion !== undefined
      ? { fusion: ctx.values.fusion as SearchRequest['fusion'] & string }
      : {}),
  };
  validateRequest(req, limits);
  if (req.query.length > limits.maxQueryChars)
    throw usage(`query is longer than ${limits.maxQueryChars} characters`);
  return req;
}

/** True when a live process holds this data folder's writer lease (a daemon, or an ingest). */
async function writerAlive(config: Config): Promise<boolean> {
  let stores: Stores | null = null;
  try {
    // Read-only: no lock, no migration (beside a live daemon); no database yet means no writer.
    stores = await openExistingStores(config);
    return stores !== null && (await stores.leases.liveHolder(WRITER_LEASE, Date.now())) !== null;
  } catch {
    return false;
  } finally {
    await stores?.close();
  }
}

/**
 * Asks a running daemon (same config: http.host/port/token) so the CLI does not load the model again.
 * Only when a live writer holds this data folder (so a daemon of another folder on the same port is
 * never asked). Returns null when no daemon answers (connection refused, HTTP off, not ours).
 */
async function askDaemon(
  config: Config,
  req: SearchRequest,
): Promise<(SearchResponse & { table: string }) | null> {
  const h = config.http;
  if (!h.enabled || h.port === 0 || !(await writerAlive(config))) return null;
  const host = h.host === '0.0.0.0' || h.host === '::' ? '127.0.0.1' : h.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${h.port}/search`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(h.token ? { authorization: `Bearer ${h.token}` } : {}),
      },
      body: JSON.stringify(req),
      signal: AbortSignal.timeout(h.requestTimeoutMs + 1000),
    });
  } catch {
    return null; // nobody listening: search in-process
  }
  const body = (await res.json().catch(() => null)) as
    (SearchResponse & { table: string; error?: { code?: string; message?: string } }) | null;
  if (res.ok && body && Array.isArray(body.results)) return body;
  if (body?.error && res.status >= 400 && res.status < 500 && res.status !== 404 && res.status !== 401)
    throw new SeamlineError('USAGE', `daemon at ${url}: ${body.error.message ?? res.statusText}`);
  return null; // not ours, not ready, or refusing: fall back to in-process
}

function human(r: SearchResponse): string {
  const lines: string[] = [];
  if (r.partial) lines.push(`partial answer: ${r.notes.join('; ')}`);
  else for (const n of r.notes) lines.push(`note: ${n}`);
  if (r.results.length === 0) lines.push('no results');
  r.results.forEach((x, i) => {
    const n = r.offset + i + 1;
    if ('passages' in x) {
      const d = x;
      const sides = d.sides
        ? `  (${d.sides.vector ? `vector #${d.sides.vector.rank} ${d.sides.vector.score.toFixed(4)}` : 'vector -'}, ${d.sides.fts ? `fts #${d.sides.fts.rank} ${d.sides.fts.score.toFixed(4)}` : 'fts -'})`
        : '';
      lines.push(
        `${n}. ${d.id}  score=${d.score.toFixed(4)}${sides}  v${d.provenance.sourceVersion}  ${d.provenance.file}:${d.provenance.line}`,
      );
      for (const p of d.passages)
        lines.push(
          `   [chunk ${p.chunk}/${d.chunkCount}] ${p.text.length > 160 ? `${p.text.slice(0, 157)}...` : p.text}`,
        );
    } else {
      const c = x;
      lines.push(
        `${n}. ${c.id}#${c.chunk}  score=${c.score.toFixed(4)}  v${c.provenance.sourceVersion}  ${c.provenance.file}:${c.provenance.line}\n   ${c.text.length > 160 ? `${c.text.slice(0, 157)}...` : c.text}`,
      );
    }
  });
  if (r.nextOffset !== null) lines.push(`more: --offset ${r.nextOffset}`);
  return lines.join('\n');
}

/**
 * search "TEXT" [-k N] [--offset N] [--mode vector|fts|hybrid] [--where 'FIELD OP VALUE']...
 * [--granularity document|chunk] [--passages N] [--vector-weight W] [--fusion rrf|minmax] [--local]:
 * the same implementation as POST /search. Asks a running daemon first (unless --local); in-process,
 * an fts search never loads the model.
 */
export const searchCmd: Command = async (ctx) => {
  const req = searchRequestOf(ctx);
  const limits = searchLimitsOf(ctx.config);
  const out = (source: 'daemon' | 'local', table: string, res: SearchResponse): number => {
    printOut(ctx.json, { query: req.query, k: req.k, filters: req.filters, source, table, ...res }, () =>
      human(res),
    );
    return 0;
  };
  if (ctx.values.local !== true) {
    const remote = await askDaemon(ctx.config, req);
    if (remote) {
      const { table, ...res } = remote;
      return out('daemon', table, res);
    }
  }
  const rt = await openRuntime(ctx.config, ctx.logger);
  try {
    const table = await rt.servingTable(false);
    const serving = await rt.tables.serving();
    if (!table || !serving)
      throw new SeamlineError(
        'USAGE',
        `nothing is indexed yet in ${ctx.config.dataDir}: drop files into ${ctx.config.landingDir} and run seamline ingest --once`,
      );
    const res = await search(table, () => rt.embedder(serving.modelId), req, limits, {
      modelId: serving.modelId,
    });
    return out('local', table.name, res);
  } finally {
    await rt.close();
  }
};
