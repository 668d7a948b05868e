import type { MetadataFieldType } from '../config/schema.js';
import { SeamlineError } from '../errors/errors.js';
import type { Embedder } from '../ports/embedder.js';
import type { ColumnFilter, SearchHit, VectorTable } from '../ports/vector-store.js';
import { normalizeText } from '../processor/materialize-plan.js';
import { compileFilterSpecs, matchesMetadata, type FilterSpec, type MetadataPredicate } from './filter.js';
import { reciprocalRankFusion } from './rrf.js';

export type SearchMode = 'vector' | 'fts' | 'hybrid';
export const SEARCH_MODES: readonly SearchMode[] = ['vector', 'fts', 'hybrid'];

export interface SearchRequest {
  readonly query: string;
  readonly k: number;
  readonly mode: SearchMode;
  readonly filters: readonly FilterSpec[];
}

export interface SearchLimits {
  /** RRF constant (config search.rrfK, default 60). */
  readonly rrfK: number;
  /** Candidates per side in hybrid mode (config search.hybridCandidates, default 50). */
  readonly hybridCandidates: number;
  readonly maxK: number;
  readonly maxQueryChars: number;
  /** Cap on candidates read per side when metadata filters apply (default 2000). */
  readonly maxCandidates: number;
  /** Typed metadata fields of the contract (filterable as metadata.NAME). */
  readonly metadata: Readonly<Record<string, MetadataFieldType>>;
}

export interface SearchResult {
  readonly id: string;
  readonly chunk: number;
  readonly score: number;
  /** Per-side ranks (1-based) in hybrid mode; absent on the side that did not return the row. */
  readonly ranks?: { readonly vector?: number; readonly fts?: number };
  readonly text: string;
  readonly metadata: unknown;
  readonly provenance: {
    readonly sourceVersion: number;
    readonly eventTime: string;
    readonly bronzeSeq: number;
    readonly file: string;
    readonly line: number;
    readonly batchId: string;
    readonly contentHash: string;
    readonly modelId: string;
    readonly dim: number;
    readonly pipelineVersion: string;
    readonly embeddedAt: string;
  };
}

const REQUEST_FIELDS = ['query', 'k', 'mode', 'filters'] as const;
const FILTER_FIELDS = ['field', 'op', 'value'] as const;

const usage = (msg: string): SeamlineError => new SeamlineError('USAGE', msg);

function rejectUnknown(o: Record<string, unknown>, known: readonly string[], where: string): void {
  const unknown = Object.keys(o).filter((k) => !known.includes(k));
  if (unknown.length > 0)
    throw usage(
      `unknown field(s) in ${where}: ${unknown.map((k) => JSON.stringify(k)).join(', ')} (allowed: ${known.join(', ')})`,
    );
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Validates an untrusted request body (POST /search) into a SearchRequest. Unknown fields are
 * rejected by name; nothing in the body is used as a path or pasted into a filter string. Pure.
 */
export function parseSearchRequest(
  body: unknown,
  limits: Pick<SearchLimits, 'maxK' | 'maxQueryChars'>,
): SearchRequest {
  if (!isPlainObject(body)) throw usage('the request body must be a JSON object');
  rejectUnknown(body, REQUEST_FIELDS, 'the request');
  const { query, k = 10, mode = 'vector', filters = [] } = body;
  if (typeof query !== 'string' || query.trim() === '') throw usage('query must be a non-empty string');
  if (query.length > limits.maxQueryChars)
    throw usage(`query is longer than ${limits.maxQueryChars} characters`);
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > limits.maxK)
    throw usage(`k must be an integer from 1 to ${limits.maxK}`);
  if (typeof mode !== 'string' || !(SEARCH_MODES as readonly string[]).includes(mode))
    throw usage(`mode must be one of ${SEARCH_MODES.join(', ')}`);
  if (!Array.isArray(filters)) throw usage('filters must be an array of {field, op, value}');
  const specs = filters.map((f: unknown, i): FilterSpec => {
    if (!isPlainObject(f)) throw usage(`filters[${i}] must be an object {field, op, value}`);
    rejectUnknown(f, FILTER_FIELDS, `filters[${i}]`);
    if (typeof f.field !== 'string' || typeof f.op !== 'string' || !('value' in f))
      throw usage(`filters[${i}] needs string field, string op and a value`);
    return { field: f.field, op: f.op as FilterSpec['op'], value: f.value };
  });
  return { query, k, mode: mode as SearchMode, filters: specs };
}

function toResult(h: SearchHit, score: number, ranks?: SearchResult['ranks']): SearchResult {
  let metadata: unknown = null;
  try {
    metadata = JSON.parse(h.row.metadataJson) as unknown;
  } catch {
    metadata = null;
  }
  return {
    id: h.row.id,
    chunk: h.row.chunk,
    score,
    ...(ranks ? { ranks } : {}),
    text: h.row.text,
    metadata,
    provenance: {
      sourceVersion: h.row.sourceVersion,
      eventTime: h.row.eventTime,
      bronzeSeq: h.row.bronzeSeq,
      file: h.row.file,
      line: h.row.line,
      batchId: h.row.batchId,
      contentHash: h.row.contentHash,
      modelId: h.row.modelId,
      dim: h.row.dim,
      pipelineVersion: h.row.pipelineVersion,
      embeddedAt: h.row.embeddedAt,
    },
  };
}

const metaOf = (h: SearchHit): unknown => {
  try {
    return JSON.parse(h.row.metadataJson) as unknown;
  } catch {
    return null;
  }
};

/**
 * Top `want` hits of one side that pass the metadata predicates: the store prefilters provenance
 * columns; metadata is checked here, reading more candidates (doubling, up to maxCandidates) while too few pass.
 */
async function side(
  fetch: (limit: number) => Promise<SearchHit[]>,
  want: number,
  preds: readonly MetadataPredicate[],
  maxCandidates: number,
): Promise<SearchHit[]> {
  if (preds.length === 0) return fetch(want);
  let limit = Math.min(maxCandidates, Math.max(want * 4, 32));
  for (;;) {
    const hits = await fetch(limit);
    const kept = hits.filter((h) => matchesMetadata(metaOf(h), preds));
    if (kept.length >= want || hits.length < limit || limit >= maxCandidates) return kept.slice(0, want);
    limit = Math.min(maxCandidates, limit * 2);
  }
}

const ftsReady = new WeakSet<VectorTable>();

/**
 * The one search implementation behind the CLI and POST /search. vector: cosine similarity; fts:
 * BM25 over `text` (the full-text index is created on first use when missing); hybrid: both sides,
 * fused with reciprocal rank fusion (score = Σ 1/(rrfK + rank)).
 */
export async function search(
  table: VectorTable,
  embedder: Embedder,
  req: SearchRequest,
  limits: SearchLimits,
): Promise<SearchResult[]> {
  if (!Number.isInteger(req.k) || req.k < 1 || req.k > limits.maxK)
    throw usage(`k must be an integer from 1 to ${limits.maxK}, got ${req.k}`);
  if (!SEARCH_MODES.includes(req.mode)) throw usage(`mode must be one of ${SEARCH_MODES.join(', ')}`);
  const compiled = compileFilterSpecs(req.filters, limits.metadata);
  const cols: readonly ColumnFilter[] = compiled.columns;
  const want = req.mode === 'hybrid' ? Math.max(req.k, limits.hybridCandidates) : req.k;

  const vectorSide = async (): Promise<SearchHit[]> => {
    const [vec] = await embedder.embed([
      { text: normalizeText(req.query), tokens: Math.ceil(req.query.length / 4) },
    ]);
    // A query with no known word embeds to a zero vector: cosine is undefined, so the vector side has nothing.
    if (!vec || !vec.every(Number.isFinite) || !vec.some((x) => x !== 0)) return [];
    return side((n) => table.searchVector(vec, n, cols), want, compiled.metadata, limits.maxCandidates);
  };
  const textSide = async (): Promise<SearchHit[]> => {
    if (!ftsReady.has(table)) {
      await table.ensureFtsIndex();
      ftsReady.add(table);
    }
    return side((n) => table.searchText(req.query, n, cols), want, compiled.metadata, limits.maxCandidates);
  };

  if (req.mode === 'vector') return (await vectorSide()).map((h) => toResult(h, h.score));
  if (req.mode === 'fts') return (await textSide()).map((h) => toResult(h, h.score));
  const [v, t] = await Promise.all([vectorSide(), textSide()]);
  return reciprocalRankFusion([v, t], (h) => h.row.rowKey, limits.rrfK)
    .slice(0, req.k)
    .map((f) =>
      toResult(f.item, f.score, {
        ...(f.ranks[0] !== undefined ? { vector: f.ranks[0] } : {}),
        ...(f.ranks[1] !== undefined ? { fts: f.ranks[1] } : {}),
      }),
    );
}

/** SearchLimits from the frozen config. */
export function searchLimitsOf(c: {
  readonly search: Omit<SearchLimits, 'metadata'>;
  readonly contract: { readonly metadata: Readonly<Record<string, MetadataFieldType>> };
}): SearchLimits {
  return { ...c.search, metadata: c.contract.metadata };
}
