import type { MetadataFieldType } from '../config/schema.js';
import { SeamlineError } from '../errors/errors.js';
import type { Embedder } from '../ports/embedder.js';
import type { SearchHit, TableFilter, VectorRow, VectorTable } from '../ports/vector-store.js';
import { normalizeText } from '../processor/materialize-plan.js';
import { collapseChunks, page, type DocGroup } from './collapse.js';
import { fusionFor, type FusionOverrides } from './defaults.js';
import { compileFilterSpecs, type FilterSpec } from './filter.js';
import { fuse, FUSION_METHODS, type FusionMethod, type FusionSettings, type SideRank } from './fusion.js';

export type SearchMode = 'vector' | 'fts' | 'hybrid';
export const SEARCH_MODES: readonly SearchMode[] = ['vector', 'fts', 'hybrid'];
export type Granularity = 'document' | 'chunk';
export const GRANULARITIES: readonly Granularity[] = ['document', 'chunk'];

export interface SearchRequest {
  readonly query: string;
  /** Hits per page: documents (granularity document, the default) or chunks. */
  readonly k: number;
  /** Hits to skip (pagination); offset + k ≤ limits.maxWindow. Default 0. */
  readonly offset?: number;
  readonly mode: SearchMode;
  readonly filters: readonly FilterSpec[];
  /** Default 'document'. */
  readonly granularity?: Granularity;
  /** Best-matching chunks returned per document (0 = none; default limits.passages). */
  readonly passages?: number;
  /** Hybrid only: relative side weights (default: the model's documented default). */
  readonly weights?: { readonly vector: number; readonly fts: number };
  /** Hybrid only: fusion method (default: the model's documented default). */
  readonly fusion?: FusionMethod;
}

export interface SearchLimits {
  /** RRF constant (config search.rrfK). */
  readonly rrfK: number;
  /** Candidates per side in hybrid mode: max(offset + k, this) (config search.hybridCandidates). */
  readonly hybridCandidates: number;
  readonly maxK: number;
  /** Largest offset + k (config search.maxWindow). */
  readonly maxWindow: number;
  readonly maxQueryChars: number;
  /** Most chunk rows read per side to assemble documents (config search.maxCandidates). */
  readonly maxCandidates: number;
  /** Default passages per document hit (config search.passages). */
  readonly passages: number;
  /** Default mode when a request names none (config search.defaultMode). */
  readonly defaultMode: SearchMode;
  /** Config overrides of the per-model fusion default (search.fusion, search.vectorWeight; null = model default). */
  readonly fusion: FusionOverrides;
  /** Typed metadata fields of the contract (filterable as metadata.NAME). */
  readonly metadata: Readonly<Record<string, MetadataFieldType>>;
}

export interface Provenance {
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
}

/** Each side's score and 1-based rank (hybrid), absent for a side that did not return the hit. */
export interface SideScores {
  readonly vector?: SideRank;
  readonly fts?: SideRank;
}

/** A chunk hit (granularity "chunk"). */
export interface SearchResult {
  readonly id: string;
  readonly chunk: number;
  readonly score: number;
  /** Per-side ranks (1-based) in hybrid mode; absent on the side that did not return the row. */
  readonly ranks?: { readonly vector?: number; readonly fts?: number };
  readonly sides?: SideScores;
  readonly text: string;
  readonly metadata: unknown;
  readonly provenance: Provenance;
}

export interface Passage {
  readonly chunk: number;
  readonly text: string;
  /** The chunk's own score: cosine similarity (by vector) or chunk BM25 (by fts); null when no side matched it. */
  readonly score: number | null;
  readonly by: 'vector' | 'fts' | null;
}

/** A document hit (granularity "document", the default). */
export interface DocumentResult {
  readonly id: string;
  /** vector: best chunk cosine; fts: BM25 of the whole document; hybrid: the fused score. */
  readonly score: number;
  readonly sides?: SideScores;
  readonly chunkCount: number;
  readonly passages: readonly Passage[];
  readonly metadata: unknown;
  readonly provenance: Provenance;
}

export interface SearchResponse {
  readonly granularity: Granularity;
  readonly mode: SearchMode;
  readonly offset: number;
  readonly results: readonly (DocumentResult | SearchResult)[];
  /** Offset of the next page, or null when there is none (or the window max is reached). */
  readonly nextOffset: number | null;
  /** True when a candidate cap cut the answer short: fewer or other hits than an uncapped search. */
  readonly partial: boolean;
  /** Why partial, or which fallback ran (e.g. a table that predates doc-level full-text search). */
  readonly notes: readonly string[];
  /** Hybrid: the fusion that ranked the page. */
  readonly fusion?: FusionSettings;
}

const REQUEST_FIELDS = [
  'query',
  'k',
  'offset',
  'mode',
  'filters',
  'granularity',
  'passages',
  'weights',
  'fusion',
] as const;
const FILTER_FIELDS = ['field', 'op', 'value'] as const;
export const MAX_PASSAGES = 5;

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

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Checks the request fields that both the HTTP parser and the in-process callers must respect. Pure. */
export function validateRequest(req: SearchRequest, limits: Pick<SearchLimits, 'maxK' | 'maxWindow'>): void {
  if (!isInt(req.k) || req.k < 1 || req.k > limits.maxK)
    throw usage(`k must be an integer from 1 to ${limits.maxK}, got ${String(req.k)}`);
  const offset = req.offset ?? 0;
  if (!isInt(offset) || offset < 0)
    throw usage(`offset must be a non-negative integer, got ${String(offset)}`);
  if (offset + req.k > limits.maxWindow)
    throw usage(`offset + k must be at most ${limits.maxWindow} (search.maxWindow), got ${offset + req.k}`);
  if (!SEARCH_MODES.includes(req.mode)) throw usage(`mode must be one of ${SEARCH_MODES.join(', ')}`);
  if (req.granularity !== undefined && !GRANULARITIES.includes(req.granularity))
    throw usage(`granularity must be one of ${GRANULARITIES.join(', ')}`);
  if (req.passages !== undefined && (!isInt(req.passages) || req.passages < 0 || req.passages > MAX_PASSAGES))
    throw usage(`passages must be an integer from 0 to ${MAX_PASSAGES}`);
  if (req.fusion !== undefined && !FUSION_METHODS.includes(req.fusion))
    throw usage(`fusion must be one of ${FUSION_METHODS.join(', ')}`);
  if (req.weights !== undefined) {
    const { vector, fts } = req.weights;
    const ok = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x >= 0;
    if (!ok(vector) || !ok(fts) || vector + fts <= 0)
      throw usage('weights must be {vector, fts}: non-negative numbers, not both 0');
  }
}

/**
 * Validates an untrusted request body (POST /search) into a SearchRequest. Unknown fields are
 * rejected by name; nothing in the body is used as a path or pasted into a filter string. Pure.
 */
export function parseSearchRequest(
  body: unknown,
  limits: Pick<SearchLimits, 'maxK' | 'maxQueryChars'> & {
    readonly maxWindow?: number;
    readonly defaultMode?: SearchMode;
  },
): SearchRequest {
  if (!isPlainObject(body)) throw usage('the request body must be a JSON object');
  rejectUnknown(body, REQUEST_FIELDS, 'the request');
  const {
    query,
    k = 10,
    offset = 0,
    mode = limits.defaultMode ?? 'hybrid',
    filters = [],
    granularity = 'document',
    passages,
    weights,
    fusion,
  } = body;
  if (typeof query !== 'string' || query.trim() === '') throw usage('query must be a non-empty string');
  if (query.length > limits.maxQueryChars)
    throw usage(`query is longer than ${limits.maxQueryChars} characters`);
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > limits.maxK)
    throw usage(`k must be an integer from 1 to ${limits.maxK}`);
  if (typeof mode !== 'string' || !(SEARCH_MODES as readonly string[]).includes(mode))
    throw usage(`mode must be one of ${SEARCH_MODES.join(', ')}`);
  if (typeof granularity !== 'string' || !(GRANULARITIES as readonly string[]).includes(granularity))
    throw usage(`granularity must be one of ${GRANULARITIES.join(', ')}`);
  if (
    fusion !== undefined &&
    (typeof fusion !== 'string' || !(FUSION_METHODS as readonly string[]).includes(fusion))
  )
    throw usage(`fusion must be one of ${FUSION_METHODS.join(', ')}`);
  let w: SearchRequest['weights'];
  if (weights !== undefined) {
    if (!isPlainObject(weights)) throw usage('weights must be an object {vector, fts}');
    rejectUnknown(weights, ['vector', 'fts'], 'weights');
    w = { vector: weights.vector as number, fts: weights.fts as number };
  }
  if (!Array.isArray(filters)) throw usage('filters must be an array of {field, op, value}');
  const specs = filters.map((f: unknown, i): FilterSpec => {
    if (!isPlainObject(f)) throw usage(`filters[${i}] must be an object {field, op, value}`);
    rejectUnknown(f, FILTER_FIELDS, `filters[${i}]`);
    if (typeof f.field !== 'string' || typeof f.op !== 'string' || !('value' in f))
      throw usage(`filters[${i}] needs string field, string op and a value`);
    return { field: f.field, op: f.op as FilterSpec['op'], value: f.value };
  });
  const req: SearchRequest = {
    query,
    k,
    offset: offset as number,
    mode: mode as SearchMode,
    filters: specs,
    granularity: granularity as Granularity,
    ...(passages !== undefined ? { passages: passages as number } : {}),
    ...(w ? { weights: w } : {}),
    ...(fusion !== undefined ? { fusion: fusion as FusionMethod } : {}),
  };
  validateRequest(req, { maxK: limits.maxK, maxWindow: limits.maxWindow ?? Infinity });
  return req;
}

const parseMeta = (json: string): unknown => {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return null;
  }
};

function provenanceOf(r: VectorRow): Provenance {
  return {
    sourceVersion: r.sourceVersion,
    eventTime: r.eventTime,
    bronzeSeq: r.bronzeSeq,
    file: r.file,
    line: r.line,
    batchId: r.batchId,
    contentHash: r.contentHash,
    modelId: r.modelId,
    dim: r.dim,
    pipelineVersion: r.pipelineVersion,
    embeddedAt: r.embeddedAt,
  };
}

function chunkResult(h: SearchHit, score: number, sides?: SideScores): SearchResult {
  return {
    id: h.row.id,
    chunk: h.row.chunk,
    score,
    ...(sides
      ? {
          ranks: {
            ...(sides.vector ? { vector: sides.vector.rank } : {}),
            ...(sides.fts ? { fts: sides.fts.rank } : {}),
          },
          sides,
        }
      : {}),
    text: h.row.text,
    metadata: parseMeta(h.row.metadataJson),
    provenance: provenanceOf(h.row),
  };
}

/** A lazily loaded embedder: fts-only searches never load the model. */
export type EmbedderSource = Embedder | (() => Promise<Embedder>);
const embedderOf = async (e: EmbedderSource): Promise<Embedder> => (typeof e === 'function' ? e() : e);

export interface SearchOptions {
  /** The query's vector when the caller embedded it already (eval embeds all queries in one go). */
  readonly queryVector?: Float32Array;
  /** The model the table's vectors come from (picks the fusion default); default: the embedder's. */
  readonly modelId?: string;
}

/** One side's ranked documents (best first) with the chunk hits that support each. */
export interface SideDocs {
  readonly docs: readonly DocGroup<SearchHit>[];
  /** True when the candidate cap stopped the side before it had `depth` documents. */
  readonly capped: boolean;
  /** Rows exist beyond what was read (more documents may follow). */
  readonly more: boolean;
}

const ftsReady = new WeakSet<VectorTable>();
async function ensureFts(table: VectorTable): Promise<void> {
  if (ftsReady.has(table)) return;
  await table.ensureFtsIndex();
  ftsReady.add(table);
}

async function queryVectorOf(
  embedder: EmbedderSource,
  query: string,
  opts: SearchOptions,
): Promise<Float32Array | null> {
  const vec =
    opts.queryVector ??
    (
      await (
        await embedderOf(embedder)
      ).embed([{ text: normalizeText(query), tokens: Math.ceil(query.length / 4) }])
    )[0];
  // A query with no known word embeds to a zero vector: cosine is undefined, so the vector side has nothing.
  if (!vec || !vec.every(Number.isFinite) || !vec.some((x) => x !== 0)) return null;
  return vec;
}

/**
 * Reads chunk rows best-first until they make `depth` documents, the table runs out, or `cap` rows
 * were read (then `capped`). Filters are a prefilter inside the store, so every row read matches them.
 */
async function collectDocs(
  fetch: (n: number) => Promise<SearchHit[]>,
  depth: number,
  cap: number,
): Promise<SideDocs> {
  let n = Math.min(cap, Math.max(depth * 3, 30));
  for (;;) {
    const hits = await fetch(n);
    const docs = collapseChunks(
      hits,
      (h) => h.row.id,
      (h) => h.score,
    );
    const exhausted = hits.length < n;
    if (docs.length >= depth || exhausted) return { docs, capped: false, more: !exhausted };
    if (n >= cap) return { docs, capped: true, more: true };
    n = Math.min(cap, n * 2);
  }
}

/** The vector side at document level: documents ranked by their best chunk's cosine similarity. */
export async function vectorDocs(
  table: VectorTable,
  vec: Float32Array | null,
  depth: number,
  filters: readonly TableFilter[],
  cap: number,
): Promise<SideDocs> {
  if (!vec) return { docs: [], capped: false, more: false };
  return collectDocs((n) => table.searchVector(vec, n, filters), depth, cap);
}

/**
 * The full-text side at document level: BM25 over whole documents (the doc_text index, one row per
 * document). A table built before doc_text existed falls back to best-chunk BM25 (noted).
 */
export async function ftsDocs(
  table: VectorTable,
  query: string,
  depth: number,
  filters: readonly TableFilter[],
  cap: number,
  notes: string[],
): Promise<SideDocs> {
  await ensureFts(table);
  if (table.features.docText) {
    const hits = await table.searchText(query, depth, filters, 'document');
    return {
      docs: hits.map((h) => ({ id: h.row.id, score: h.score, chunks: [] })),
      capped: false,
      more: hits.length === depth,
    };
  }
  notes.push(
    `table ${table.name} predates document-level full-text search: fts ranks documents by their best chunk's BM25; run seamline reindex`,
  );
  return collectDocs((n) => table.searchText(query, n, filters, 'chunk'), depth, cap);
}

/** The fusion a hybrid request runs with: request fields, else config, else the model's documented default. */
export function fusionOf(req: SearchRequest, limits: SearchLimits, modelId: string): FusionSettings {
  const base = fusionFor(modelId, limits.fusion, limits.rrfK);
  return {
    method: req.fusion ?? base.method,
    vectorWeight: req.weights
      ? req.weights.vector / (req.weights.vector + req.weights.fts)
      : base.vectorWeight,
    rrfK: base.rrfK,
  };
}

interface DocRanked {
  readonly id: string;
  readonly score: number;
  readonly sides?: SideScores;
  /** Supporting chunk hits from the vector side (cosine), best first. */
  readonly vectorChunks: readonly SearchHit[];
  /** A row of the document (any chunk), for metadata and provenance. */
  readonly row: VectorRow | null;
}

/**
 * The one search implementation behind the CLI, POST /search, `seamline eval` and the reindex gates.
 * Documents by default (k documents, each with its best chunks as passages); granularity "chunk"
 * returns chunk rows as before. Filters are pushed down as a prefilter. Scores: vector = cosine
 * similarity of the best chunk; fts = BM25 of the whole document; hybrid = weighted fusion (see fusion.ts).
 */
export async function search(
  table: VectorTable,
  embedder: EmbedderSource,
  req: SearchRequest,
  limits: SearchLimits,
  opts: SearchOptions = {},
): Promise<SearchResponse> {
  validateRequest(req, limits);
  const offset = req.offset ?? 0;
  const granularity = req.granularity ?? 'document';
  const filters = compileFilterSpecs(req.filters, limits.metadata).filters;
  const window = offset + req.k;
  const notes: string[] = [];
  if (granularity === 'chunk') return chunkSearch(table, embedder, req, limits, opts, filters, notes);

  const depth = req.mode === 'hybrid' ? Math.max(window, limits.hybridCandidates) : window;
  const needVector = req.mode !== 'fts';
  const needFts = req.mode !== 'vector';
  const [v, f] = await Promise.all([
    needVector
      ? queryVectorOf(embedder, req.query, opts).then((vec) =>
          vectorDocs(table, vec, depth, filters, limits.maxCandidates),
        )
      : null,
    needFts ? ftsDocs(table, req.query, depth, filters, limits.maxCandidates, notes) : null,
  ]);
  let ranked: DocRanked[];
  let fusion: FusionSettings | undefined;
  let more = false;
  if (req.mode === 'vector' || req.mode === 'fts') {
    const side = (v ?? f)!;
    more = side.more;
    ranked = side.docs.map((d) => ({
      id: d.id,
      score: d.score,
      vectorChunks: req.mode === 'vector' ? d.chunks : [],
      row: d.chunks[0]?.row ?? null,
    }));
  } else {
    fusion = fusionOf(req, limits, opts.modelId ?? (await embedderOf(embedder)).modelId);
    more = v!.more || f!.more;
    const vById = new Map(v!.docs.map((d) => [d.id, d]));
    const fused = fuse(
      v!.docs.map((d) => ({ key: d.id, score: d.score })),
      f!.docs.map((d) => ({ key: d.id, score: d.score })),
      fusion,
    );
    ranked = fused.map((x) => ({
      id: x.key,
      score: x.score,
      sides: { ...(x.vector ? { vector: x.vector } : {}), ...(x.fts ? { fts: x.fts } : {}) },
      vectorChunks: vById.get(x.key)?.chunks ?? [],
      row: vById.get(x.key)?.chunks[0]?.row ?? null,
    }));
  }
  for (const s of [v, f])
    if (s?.capped)
      notes.push(
        `partial: reading ${limits.maxCandidates} chunk rows (search.maxCandidates) gave only ${s.docs.length} documents`,
      );
  const pg = page(ranked, offset, req.k, more);
  const passagesWanted = req.passages ?? limits.passages;
  const results = await withPassages(table, req, pg.items, passagesWanted, filters);
  return {
    granularity,
    mode: req.mode,
    offset,
    results,
    nextOffset: pg.nextOffset !== null && pg.nextOffset + 1 <= limits.maxWindow ? pg.nextOffset : null,
    partial: Boolean(v?.capped || f?.capped),
    notes,
    ...(fusion ? { fusion } : {}),
  };
}

/** Attaches passages (best chunks) and metadata/provenance to a page of ranked documents. */
async function withPassages(
  table: VectorTable,
  req: SearchRequest,
  docs: readonly DocRanked[],
  want: number,
  filters: readonly TableFilter[],
): Promise<DocumentResult[]> {
  if (docs.length === 0) return [];
  // Documents the vector side did not support get their passages from a chunk-level BM25 query
  // restricted to them; documents without any row in hand are read by id.
  const needText = docs.filter((d) => d.vectorChunks.length === 0 && (want > 0 || d.row === null));
  const ftsChunks = new Map<string, SearchHit[]>();
  if (needText.length > 0) {
    const ids = needText.map((d) => d.id);
    const hits = await table.searchText(
      req.query,
      Math.max(ids.length * (want + 2), 20),
      [...filters, { column: 'id', op: 'in', value: ids }],
      'chunk',
    );
    for (const h of hits) {
      const l = ftsChunks.get(h.row.id);
      if (l) l.push(h);
      else ftsChunks.set(h.row.id, [h]);
    }
  }
  const missingRow = docs.filter(
    (d) => d.row === null && d.vectorChunks.length === 0 && !ftsChunks.has(d.id),
  );
  const fallbackRows = new Map<string, VectorRow>();
  if (missingRow.length > 0)
    for (const r of await table.rowsForIds(missingRow.map((d) => d.id)))
      if (r.chunk === 0 || !fallbackRows.has(r.id)) fallbackRows.set(r.id, r);
  return docs.map((d) => {
    const vc = d.vectorChunks;
    const fc = ftsChunks.get(d.id) ?? [];
    const row = d.row ?? vc[0]?.row ?? fc[0]?.row ?? fallbackRows.get(d.id)!;
    const passages: Passage[] =
      want === 0
        ? []
        : vc.length > 0
          ? vc
              .slice(0, want)
              .map((h) => ({ chunk: h.row.chunk, text: h.row.text, score: h.score, by: 'vector' }))
          : fc.length > 0
            ? fc
                .slice(0, want)
                .map((h) => ({ chunk: h.row.chunk, text: h.row.text, score: h.score, by: 'fts' }))
            : [{ chunk: row.chunk, text: row.text, score: null, by: null }];
    return {
      id: d.id,
      score: d.score,
      ...(d.sides ? { sides: d.sides } : {}),
      chunkCount: row.chunkCount,
      passages,
      metadata: parseMeta(row.metadataJson),
      provenance: provenanceOf(row),
    };
  });
}

/** Granularity "chunk": today's behaviour (chunk rows), with offset and weighted fusion. */
async function chunkSearch(
  table: VectorTable,
  embedder: EmbedderSource,
  req: SearchRequest,
  limits: SearchLimits,
  opts: SearchOptions,
  filters: readonly TableFilter[],
  notes: string[],
): Promise<SearchResponse> {
  const offset = req.offset ?? 0;
  const window = offset + req.k;
  const depth = req.mode === 'hybrid' ? Math.max(window, limits.hybridCandidates) : window;
  const vectorSide = async (): Promise<SearchHit[]> => {
    const vec = await queryVectorOf(embedder, req.query, opts);
    return vec ? table.searchVector(vec, depth, filters) : [];
  };
  const textSide = async (): Promise<SearchHit[]> => {
    await ensureFts(table);
    return table.searchText(req.query, depth, filters, 'chunk');
  };
  let results: SearchResult[];
  let fusion: FusionSettings | undefined;
  let more: boolean;
  if (req.mode !== 'hybrid') {
    const hits = req.mode === 'vector' ? await vectorSide() : await textSide();
    more = hits.length === depth;
    results = hits.map((h) => chunkResult(h, h.score));
  } else {
    const [v, t] = await Promise.all([vectorSide(), textSide()]);
    more = v.length === depth || t.length === depth;
    fusion = fusionOf(req, limits, opts.modelId ?? (await embedderOf(embedder)).modelId);
    const byKey = new Map<string, SearchHit>();
    for (const h of [...v, ...t]) if (!byKey.has(h.row.rowKey)) byKey.set(h.row.rowKey, h);
    results = fuse(
      v.map((h) => ({ key: h.row.rowKey, score: h.score })),
      t.map((h) => ({ key: h.row.rowKey, score: h.score })),
      fusion,
    ).map((x) =>
      chunkResult(byKey.get(x.key)!, x.score, {
        ...(x.vector ? { vector: x.vector } : {}),
        ...(x.fts ? { fts: x.fts } : {}),
      }),
    );
  }
  const pg = page(results, offset, req.k, more);
  return {
    granularity: 'chunk',
    mode: req.mode,
    offset,
    results: pg.items,
    nextOffset: pg.nextOffset !== null && pg.nextOffset + 1 <= limits.maxWindow ? pg.nextOffset : null,
    partial: false,
    notes,
    ...(fusion ? { fusion } : {}),
  };
}

/** SearchLimits from the frozen config. */
export function searchLimitsOf(c: {
  readonly search: {
    readonly rrfK: number;
    readonly hybridCandidates: number;
    readonly maxK: number;
    readonly maxWindow: number;
    readonly maxQueryChars: number;
    readonly maxCandidates: number;
    readonly passages: number;
    readonly defaultMode: SearchMode;
    readonly fusion: FusionMethod | null;
    readonly vectorWeight: number | null;
  };
  readonly contract: { readonly metadata: Readonly<Record<string, MetadataFieldType>> };
}): SearchLimits {
  const s = c.search;
  return {
    rrfK: s.rrfK,
    hybridCandidates: s.hybridCandidates,
    maxK: s.maxK,
    maxWindow: s.maxWindow,
    maxQueryChars: s.maxQueryChars,
    maxCandidates: s.maxCandidates,
    passages: s.passages,
    defaultMode: s.defaultMode,
    fusion: { method: s.fusion, vectorWeight: s.vectorWeight },
    metadata: c.contract.metadata,
  };
}
