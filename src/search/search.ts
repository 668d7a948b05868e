import { SeamlineError } from '../errors/errors.js';
import type { Embedder } from '../ports/embedder.js';
import type { VectorTable } from '../ports/vector-store.js';
import { normalizeText } from '../processor/materialize-plan.js';

export type SearchMode = 'vector' | 'fts' | 'hybrid';

export interface SearchRequest {
  readonly text: string;
  readonly k: number;
  readonly mode: SearchMode;
}

export interface SearchResult {
  readonly id: string;
  readonly chunk: number;
  readonly score: number;
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

export const MAX_K = 1000;

/** The one search implementation behind the CLI and POST /search. */
export async function search(table: VectorTable, embedder: Embedder, req: SearchRequest): Promise<SearchResult[]> {
  if (!Number.isInteger(req.k) || req.k < 1 || req.k > MAX_K) throw new SeamlineError('USAGE', `k must be an integer from 1 to ${MAX_K}, got ${req.k}`);
  if (req.mode !== 'vector') throw new SeamlineError('USAGE', `search mode "${req.mode}" is not available yet (only "vector")`);
  const [vec] = await embedder.embed([{ text: normalizeText(req.text), tokens: Math.ceil(req.text.length / 4) }]);
  const hits = await table.vectorSearch(vec!, req.k);
  return hits.map((h) => ({
    id: h.row.id,
    chunk: h.row.chunk,
    score: h.score,
    text: h.row.text,
    metadata: JSON.parse(h.row.metadataJson) as unknown,
    provenance: {
      sourceVersion: h.row.sourceVersion, eventTime: h.row.eventTime, bronzeSeq: h.row.bronzeSeq, file: h.row.file, line: h.row.line,
      batchId: h.row.batchId, contentHash: h.row.contentHash, modelId: h.row.modelId, dim: h.row.dim, pipelineVersion: h.row.pipelineVersion, embeddedAt: h.row.embeddedAt,
    },
  }));
}

