/** One row of a serving table: a chunk of one record, with its provenance (I7). */
export interface VectorRow {
  /** Merge key: `${id}\u001f${chunk}`. Always a string (a JS number would escape conflict detection). */
  readonly rowKey: string;
  readonly id: string;
  readonly chunk: number;
  readonly chunkCount: number;
  readonly text: string;
  readonly vector: Float32Array;
  readonly sourceVersion: number;
  readonly eventTime: string;
  readonly eventTimeMs: number;
  readonly bronzeSeq: number;
  readonly file: string;
  readonly line: number;
  readonly batchId: string;
  readonly contentHash: string;
  readonly modelId: string;
  readonly dim: number;
  readonly pipelineVersion: string;
  readonly embeddedAt: string;
  readonly metadataJson: string;
  /** The whole document text, on chunk 0 only (null or absent on other chunks and on old tables). */
  readonly docText?: string | null;
}

export interface MergeResult {
  readonly inserted: number;
  readonly updated: number;
  readonly deleted: number;
  /** Table version after the merge (unchanged when there was nothing to do). */
  readonly version: number;
}

export interface SearchHit {
  readonly row: VectorRow;
  /** Higher is better. vector: cosine similarity; fts: BM25 score; hybrid: fused RRF score. */
  readonly score: number;
}

export interface TableStats {
  readonly rows: number;
  readonly fragments: number;
  readonly smallFragments: number;
  readonly version: number;
  readonly bytes: number;
}

/** Provenance columns a search may filter on (server side, before top-k). */
export const FILTER_COLUMNS = [
  'id',
  'chunk',
  'source_version',
  'event_time_ms',
  'bronze_seq',
  'file',
  'batch_id',
  'model_id',
  'pipeline_version',
] as const;
export type FilterColumn = (typeof FILTER_COLUMNS)[number];
export type FilterOp = 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'in';
export type FilterScalar = string | number;

/** One validated, structured condition; the adapter compiles it with literal quoting (never string pasting). */
export interface ColumnFilter {
  readonly column: FilterColumn;
  readonly op: FilterOp;
  readonly value: FilterScalar | readonly FilterScalar[];
}

/** A condition on a typed contract metadata field, stored as its own column (`metadata.NAME`). */
export interface MetadataColumnFilter {
  readonly metadata: string;
  readonly op: FilterOp;
  readonly value: FilterScalar | boolean | readonly (FilterScalar | boolean)[];
}

/** Any prefilter a search may push down into the store. */
export type TableFilter = ColumnFilter | MetadataColumnFilter;

/** What a table's schema supports (tables built by older versions may lack some). */
export interface TableFeatures {
  /** doc_text column present: document-level full-text search (BM25 over whole documents). */
  readonly docText: boolean;
  /** Contract metadata fields that are columns of this table (filterable). */
  readonly metadataColumns: readonly string[];
}

/** Full-text search over chunks (`text`) or whole documents (`doc_text`, one row per document). */
export type TextTarget = 'chunk' | 'document';

export interface IndexInfo {
  readonly name: string;
  readonly type: string;
  readonly columns: readonly string[];
  readonly indexedRows: number;
  readonly unindexedRows: number;
}

/** The narrow port over one vector table. No LanceDB type crosses it. */
export interface VectorTable {
  readonly name: string;
  readonly dim: number;
  version(): Promise<number>;
  countRows(): Promise<number>;
  /** Every row whose id is in ids (any chunk). */
  rowsForIds(ids: readonly string[]): Promise<VectorRow[]>;
  /**
   * One atomic version: upserts rows (guarded: only replaces a row whose (version, event time, seq)
   * is lower), and deletes rows of `scopeIds` whose row key is not among `rows`.
   */
  merge(rows: readonly VectorRow[], scopeIds: readonly string[]): Promise<MergeResult>;
  vectorSearch(vector: Float32Array, k: number): Promise<SearchHit[]>;
  scanAll(columns?: 'provenance' | 'all'): AsyncIterable<VectorRow[]>;
  stats(): Promise<TableStats>;
  readonly features: TableFeatures;
  /**
   * Cosine top-k among rows matching every filter (AND, a prefilter). Score = cosine similarity.
   * exact bypasses any ANN index (brute force; default false).
   */
  searchVector(
    vector: Float32Array,
    k: number,
    filters: readonly TableFilter[],
    exact?: boolean,
  ): Promise<SearchHit[]>;
  /**
   * BM25 full-text top-k among rows matching every filter (a prefilter); target 'chunk' (default)
   * searches chunk texts, 'document' whole documents (one hit per document, its chunk-0 row).
   * Needs ensureFtsIndex() once.
   */
  searchText(
    query: string,
    k: number,
    filters: readonly TableFilter[],
    target?: TextTarget,
  ): Promise<SearchHit[]>;
  /** Creates the full-text indexes (text, and doc_text when present) when missing. True when it created one. */
  ensureFtsIndex(): Promise<boolean>;
  /** Indexes with their indexed / unindexed row counts. */
  indexes(): Promise<IndexInfo[]>;
  /** How many versions the table keeps (before cleanup). */
  versionCount(): Promise<number>;
  /** Deletes every row (any chunk) of these ids; returns how many rows went. Used by verify --repair. */
  deleteIds(ids: readonly string[]): Promise<number>;
}

/** One table version (LanceDB keeps every commit until pruned). */
export interface TableVersion {
  readonly version: number;
  readonly timestampMs: number;
}

/** A named version (rollback point); tagged versions are never pruned. */
export interface TableTag {
  readonly name: string;
  readonly version: number;
}

export interface OptimizeOutcome {
  readonly fragmentsRemoved: number;
  readonly fragmentsAdded: number;
  readonly bytesRemoved: number;
  readonly versionsRemoved: number;
}

export type AnnIndexKind = 'hnsw_sq' | 'ivf_pq';

/** Maintenance operations of one table (used by the optimize job only). */
export interface MaintainableTable {
  versions(): Promise<TableVersion[]>;
  tagList(): Promise<TableTag[]>;
  createTag(name: string, version: number): Promise<void>;
  deleteTag(name: string): Promise<void>;
  /**
   * Compacts small fragments, folds new rows into existing indexes, and prunes versions older than
   * `cleanupOlderThanMs` (epoch ms; null = prune nothing). Never deletes unverified files.
   */
  optimize(cleanupOlderThanMs: number | null): Promise<OptimizeOutcome>;
  /** Index name → number of segments (1 after a build; each optimize that folds new rows adds a delta). */
  indexSegments(): Promise<Record<string, number>>;
  /** (Re)builds the cosine ANN index on vector. */
  createVectorIndex(kind: AnnIndexKind): Promise<void>;
  /** Rows of a past version or tag (read on a separate handle; the live handle stays on latest). */
  countRowsAt(versionOrTag: number | string): Promise<number>;
  /** Top-k by cosine; exact bypasses any ANN index (brute force). */
  vectorSearchMode(vector: Float32Array, k: number, exact: boolean): Promise<SearchHit[]>;
  close(): void;
}

export interface VectorStore {
  openTable(name: string): Promise<VectorTable | null>;
  createTable(name: string, dim: number): Promise<VectorTable>;
  dropTable(name: string): Promise<void>;
  listTables(): Promise<string[]>;
  /** The maintenance view of a table (optimize job); null when the table does not exist. */
  openMaintenance(name: string): Promise<MaintainableTable | null>;
  /** Bytes on disk of a table's folder (all versions, indexes, deletion files). */
  tableDiskBytes(name: string): Promise<number>;
  close(): void;
}
