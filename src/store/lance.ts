import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import {
  type Bool,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Type,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { SeamlineError } from '../errors/errors.js';
import { classifyLanceError, guardStoreObject } from './lance-errors.js';
import {
  FILTER_COLUMNS,
  type FilterScalar,
  type MetadataColumnFilter,
  type TableFilter,
  type TableFeatures,
  type TextTarget,
  type IndexInfo,
  type MergeResult,
  type SearchHit,
  type TableStats,
  type VectorRow,
  type VectorStore,
  type VectorTable,
} from '../ports/vector-store.js';
import type {
  AnnIndexKind,
  MaintainableTable,
  OptimizeOutcome,
  TableTag,
  TableVersion,
} from '../ports/vector-store.js';
import type { MetadataFieldType } from '../config/schema.js';
import {
  arrowTypeOf,
  columnValue,
  metadataColumnsOf,
  metadataFields,
  parseMetadataJson,
  type ColumnKind,
  type MetadataColumn,
  META_PREFIX,
} from './metadata-columns.js';
import { sqlString } from './sql.js';

/**
 * Numeric provenance (version, event time, bronze seq) is Float64: every value is a safe integer
 * (< 2^53) so comparisons are exact, and JS numbers need no BigInt conversion. The merge key is a string.
 */
export function rowSchema(dim: number, metadata: readonly MetadataColumn[] = []): Schema {
  return new Schema([
    new Field('row_key', new Utf8(), false),
    new Field('id', new Utf8(), false),
    new Field('chunk', new Int32(), false),
    new Field('chunk_count', new Int32(), false),
    new Field('text', new Utf8(), false),
    new Field('vector', new FixedSizeList(dim, new Field('item', new Float32(), true)), false),
    new Field('source_version', new Float64(), false),
    new Field('event_time', new Utf8(), false),
    new Field('event_time_ms', new Float64(), false),
    new Field('bronze_seq', new Float64(), false),
    new Field('file', new Utf8(), false),
    new Field('line', new Int32(), false),
    new Field('batch_id', new Utf8(), false),
    new Field('content_hash', new Utf8(), false),
    new Field('model_id', new Utf8(), false),
    new Field('dim', new Int32(), false),
    new Field('pipeline_version', new Utf8(), false),
    new Field('embedded_at', new Utf8(), false),
    new Field('metadata_json', new Utf8(), false),
    // The whole document text on chunk 0, NULL on other chunks: the full-text index over it is BM25
    // over whole documents (NULL rows do not count in its statistics), beside the chunk vectors.
    new Field('doc_text', new Utf8(), true),
    ...metadataFields(metadata),
  ]);
}

/** The guard: a row is replaced only by a strictly newer (version, event time, bronze seq). */
export const VERSION_GUARD =
  'target.source_version < source.source_version OR (target.source_version = source.source_version AND ' +
  '(target.event_time_ms < source.event_time_ms OR (target.event_time_ms = source.event_time_ms AND target.bronze_seq < source.bronze_seq)))';

type Raw = Record<string, unknown>;

/** Column name → how to read it from a VectorRow (every column of rowSchema except `vector`). */
const SCALAR_COLUMNS: Readonly<Record<string, (r: VectorRow) => string | number>> = {
  row_key: (r) => r.rowKey,
  id: (r) => r.id,
  chunk: (r) => r.chunk,
  chunk_count: (r) => r.chunkCount,
  text: (r) => r.text,
  source_version: (r) => r.sourceVersion,
  event_time: (r) => r.eventTime,
  event_time_ms: (r) => r.eventTimeMs,
  bronze_seq: (r) => r.bronzeSeq,
  file: (r) => r.file,
  line: (r) => r.line,
  batch_id: (r) => r.batchId,
  content_hash: (r) => r.contentHash,
  model_id: (r) => r.modelId,
  dim: (r) => r.dim,
  pipeline_version: (r) => r.pipelineVersion,
  embedded_at: (r) => r.embeddedAt,
  metadata_json: (r) => r.metadataJson,
};

/**
 * Builds the Arrow table of a merge column by column; the vector column is one contiguous Float32
 * buffer. About 3× faster than makeArrowTable over row objects with number arrays, and this runs on
 * the daemon's event loop (measured: ~190 ms → ~60 ms for 2,000 × 512-d rows).
 */
export function toArrowTable(
  rows: readonly VectorRow[],
  dim: number,
  schema: Schema = rowSchema(dim),
  metadata: readonly MetadataColumn[] = [],
): Table {
  const n = rows.length;
  const metaByColumn = new Map(metadata.map((c) => [c.column, c]));
  let parsed: unknown[] | null = null;
  const children = schema.fields.map((f) => {
    if (f.name === 'vector') {
      const flat = new Float32Array(n * dim);
      rows.forEach((r, i) => {
        if (r.vector.length !== dim)
          throw new SeamlineError(
            'STORE_FAILED',
            `row ${JSON.stringify(r.rowKey)} has a ${r.vector.length}-d vector; the table is ${dim}-d`,
          );
        flat.set(r.vector, i * dim);
      });
      const values = makeData({ type: new Float32(), length: n * dim, data: flat });
      return makeData({ type: f.type as FixedSizeList<Float32>, length: n, nullCount: 0, child: values });
    }
    if (f.name === 'doc_text')
      return vectorFromArray(
        rows.map((r) => r.docText ?? null),
        new Utf8(),
      ).data[0]!;
    if (f.name.startsWith(META_PREFIX)) {
      // A column the contract no longer names (or types differently) is written as NULL.
      const col = metaByColumn.get(f.name);
      parsed ??= rows.map((r) => parseMetadataJson(r.metadataJson));
      const values = parsed.map((m) => (col ? columnValue(m, col) : null));
      return vectorFromArray(values, f.type as Utf8 | Float64 | Bool).data[0]!;
    }
    const get = SCALAR_COLUMNS[f.name];
    if (!get) throw new SeamlineError('INTERNAL', `no writer for column ${f.name}`);
    return vectorFromArray(rows.map(get), f.type as Utf8 | Int32 | Float64).data[0]!;
  });
  return new Table(
    schema,
    new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children })),
  );
}

function toVector(v: unknown): Float32Array {
  if (v instanceof Float32Array) return v;
  if (v && typeof v === 'object' && 'toArray' in v && typeof v.toArray === 'function') {
    return Float32Array.from((v as { toArray(): ArrayLike<number> }).toArray());
  }
  return Float32Array.from(v as ArrayLike<number>);
}

export function fromRecord(o: Raw): VectorRow {
  return {
    rowKey: String(o.row_key),
    id: String(o.id),
    chunk: Number(o.chunk),
    chunkCount: Number(o.chunk_count),
    text: typeof o.text === 'string' ? o.text : '',
    vector: o.vector === undefined ? new Float32Array(0) : toVector(o.vector),
    sourceVersion: Number(o.source_version),
    eventTime: String(o.event_time),
    eventTimeMs: Number(o.event_time_ms),
    bronzeSeq: Number(o.bronze_seq),
    file: String(o.file),
    line: Number(o.line),
    batchId: String(o.batch_id),
    contentHash: String(o.content_hash),
    modelId: String(o.model_id),
    dim: Number(o.dim),
    pipelineVersion: String(o.pipeline_version),
    embeddedAt: String(o.embedded_at),
    metadataJson: typeof o.metadata_json === 'string' ? o.metadata_json : '{}',
    docText: typeof o.doc_text === 'string' ? o.doc_text : null,
  };
}

const IN_CHUNK = 500;

const FILTER_SQL_OPS = { eq: '=', ne: '!=', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;
const NUMERIC_FILTER_COLUMNS = new Set(['chunk', 'source_version', 'event_time_ms', 'bronze_seq']);

function filterLiteral(column: string, v: FilterScalar | boolean, kind: ColumnKind): string {
  if (kind === 'number') {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new SeamlineError('USAGE', `filter on ${column} needs a finite number`);
    return String(v);
  }
  if (kind === 'boolean') {
    if (typeof v !== 'boolean') throw new SeamlineError('USAGE', `filter on ${column} needs true or false`);
    return v ? 'TRUE' : 'FALSE';
  }
  if (typeof v !== 'string') throw new SeamlineError('USAGE', `filter on ${column} needs a string`);
  return sqlString(v);
}

const isMetadataFilter = (f: TableFilter): f is MetadataColumnFilter => 'metadata' in f;

/**
 * Compiles structured filters into a LanceDB predicate (a prefilter: it runs before top-k). Columns
 * come from a fixed allow-list or the table's own metadata columns (never from the request text) and
 * every value is a quoted literal, so a value can only ever be data. A filter on a metadata field the
 * table has no column for (built before the contract named it) is refused: run seamline reindex.
 */
export function compileFilters(
  filters: readonly TableFilter[],
  metadata: readonly MetadataColumn[] = [],
  tableName = 'the table',
): string | null {
  if (filters.length === 0) return null;
  return filters
    .map((f) => {
      let column: string;
      let kind: ColumnKind;
      if (isMetadataFilter(f)) {
        const col = metadata.find((c) => c.name === f.metadata);
        if (!col)
          throw new SeamlineError(
            'USAGE',
            `${tableName} has no column for metadata.${f.metadata} (it was built before the contract named this field, or the field is not filterable): run seamline reindex to rebuild it with the current contract`,
          );
        column = col.column;
        kind = col.kind;
      } else {
        if (!(FILTER_COLUMNS as readonly string[]).includes(f.column))
          throw new SeamlineError('USAGE', `column ${JSON.stringify(f.column)} cannot be filtered`);
        column = f.column;
        kind = NUMERIC_FILTER_COLUMNS.has(f.column) ? 'number' : 'string';
      }
      const col = `\`${column}\``;
      if (f.op === 'in') {
        const vals = Array.isArray(f.value)
          ? (f.value as readonly (FilterScalar | boolean)[])
          : [f.value as FilterScalar | boolean];
        if (vals.length === 0) return 'FALSE';
        return `${col} IN (${vals.map((v) => filterLiteral(column, v, kind)).join(', ')})`;
      }
      if (Array.isArray(f.value))
        throw new SeamlineError('USAGE', `filter op ${f.op} on ${column} needs a single value`);
      const op = FILTER_SQL_OPS[f.op];
      if (op === undefined) throw new SeamlineError('USAGE', `unknown filter op ${JSON.stringify(f.op)}`);
      return `${col} ${op} ${filterLiteral(column, f.value as FilterScalar | boolean, kind)}`;
    })
    .map((p) => `(${p})`)
    .join(' AND ');
}

function storeError(what: string, e: unknown): SeamlineError {
  return classifyLanceError(e, what);
}

class LanceTable implements VectorTable {
  readonly features: TableFeatures;

  constructor(
    private readonly table: lancedb.Table,
    readonly name: string,
    readonly dim: number,
    /** The table's actual schema: writes follow it, so a table built under an older contract still takes merges. */
    private readonly schema: Schema,
    /** Metadata columns this table has that the current contract types the same way. */
    private readonly metadata: readonly MetadataColumn[],
  ) {
    this.features = {
      docText: schema.fields.some((f) => f.name === 'doc_text'),
      metadataColumns: metadata.map((c) => c.name),
    };
  }

  async version(): Promise<number> {
    return this.table.version();
  }

  async countRows(): Promise<number> {
    return this.table.countRows();
  }

  async rowsForIds(ids: readonly string[]): Promise<VectorRow[]> {
    const out: VectorRow[] = [];
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const part = ids.slice(i, i + IN_CHUNK);
      const rows = (await this.table
        .query()
        .where(`id IN (${part.map(sqlString).join(', ')})`)
        .toArray()) as Raw[];
      for (const r of rows) out.push(fromRecord(r));
    }
    return out;
  }

  async merge(rows: readonly VectorRow[], scopeIds: readonly string[]): Promise<MergeResult> {
    try {
      if (rows.length === 0) {
        if (scopeIds.length === 0)
          return { inserted: 0, updated: 0, deleted: 0, version: await this.table.version() };
        const before = await this.table.countRows(`id IN (${scopeIds.map(sqlString).join(', ')})`);
        if (before === 0) return { inserted: 0, updated: 0, deleted: 0, version: await this.table.version() };
        const res = await this.table.delete(`id IN (${scopeIds.map(sqlString).join(', ')})`);
        return { inserted: 0, updated: 0, deleted: before, version: res.version };
      }
      const data = toArrowTable(rows, this.dim, this.schema, this.metadata);
      let builder = this.table
        .mergeInsert('row_key')
        .whenMatchedUpdateAll({ where: VERSION_GUARD })
        .whenNotMatchedInsertAll();
      if (scopeIds.length > 0) {
        builder = builder.whenNotMatchedBySourceDelete({
          where: `id IN (${scopeIds.map(sqlString).join(', ')})`,
        });
      }
      const r = await builder.execute(data);
      return {
        inserted: r.numInsertedRows,
        updated: r.numUpdatedRows,
        deleted: r.numDeletedRows,
        version: r.version,
      };
    } catch (e) {
      throw storeError(`merge into table ${this.name} failed`, e);
    }
  }

  async vectorSearch(vector: Float32Array, k: number): Promise<SearchHit[]> {
    const rows = (await tuneAnnQuery(
      this.table.vectorSearch(Array.from(vector)).distanceType('cosine').limit(k),
      k,
    ).toArray()) as Raw[];
    return rows.map((r) => ({ row: fromRecord(r), score: 1 - Number(r._distance) }));
  }

  async *scanAll(columns: 'provenance' | 'all' = 'all'): AsyncIterable<VectorRow[]> {
    let q = this.table.query();
    if (columns === 'provenance') {
      q = q.select([
        'row_key',
        'id',
        'chunk',
        'chunk_count',
        'source_version',
        'event_time',
        'event_time_ms',
        'bronze_seq',
        'file',
        'line',
        'batch_id',
        'content_hash',
        'model_id',
        'dim',
        'pipeline_version',
        'embedded_at',
      ]);
    }
    for await (const batch of q) {
      const rows: VectorRow[] = [];
      for (const r of batch.toArray() as Raw[])
        rows.push(
          fromRecord(
            typeof (r as { toJSON?: unknown }).toJSON === 'function' ? (r as { toJSON(): Raw }).toJSON() : r,
          ),
        );
      yield rows;
    }
  }

  async stats(): Promise<TableStats> {
    const s = await this.table.stats();
    return {
      rows: s.numRows,
      fragments: s.fragmentStats.numFragments,
      smallFragments: s.fragmentStats.numSmallFragments,
      version: await this.table.version(),
      bytes: s.totalBytes,
    };
  }

  async searchVector(
    vector: Float32Array,
    k: number,
    filters: readonly TableFilter[],
    exact = false,
  ): Promise<SearchHit[]> {
    let q = this.table.vectorSearch(Array.from(vector)).distanceType('cosine').limit(k);
    q = exact ? q.bypassVectorIndex() : tuneAnnQuery(q, k);
    const where = compileFilters(filters, this.metadata, `table ${this.name}`);
    // where() on a vector query is a prefilter (LanceDB's default): the top k among matching rows.
    if (where) q = q.where(where);
    try {
      const rows = (await q.toArray()) as Raw[];
      return rows.map((r) => ({ row: fromRecord(r), score: 1 - Number(r._distance) }));
    } catch (e) {
      throw storeError(`vector search on ${this.name} failed`, e);
    }
  }

  async searchText(
    query: string,
    k: number,
    filters: readonly TableFilter[],
    target: TextTarget = 'chunk',
  ): Promise<SearchHit[]> {
    const column = target === 'document' ? 'doc_text' : 'text';
    if (target === 'document' && !this.features.docText)
      throw new SeamlineError(
        'USAGE',
        `table ${this.name} has no doc_text column (built before document-level full-text search): run seamline reindex`,
      );
    let q = this.table
      .query()
      .fullTextSearch(query, { columns: [column] })
      .limit(k);
    const where = compileFilters(filters, this.metadata, `table ${this.name}`);
    if (where) q = q.where(where);
    try {
      const rows = (await q.toArray()) as Raw[];
      // Rows not yet in the FTS index come back after the indexed ones, not merged by score: sort
      // (stable, so ties keep LanceDB's order).
      return rows
        .map((r) => ({ row: fromRecord(r), score: Number(r._score) }))
        .sort((a, b) => b.score - a.score);
    } catch (e) {
      throw storeError(`full-text search on ${this.name} failed`, e);
    }
  }

  async ensureFtsIndex(): Promise<boolean> {
    let created = false;
    for (const column of this.features.docText ? ['text', 'doc_text'] : ['text']) {
      const has = async (): Promise<boolean> =>
        (await this.table.listIndices()).some((i) => i.columns.includes(column) && i.indexType === 'FTS');
      if (await has()) continue;
      try {
        await this.table.createIndex(column, { config: lancedb.Index.fts(), replace: false });
        created = true;
      } catch (e) {
        // Another process may have created it between our check and our create.
        if (await has()) continue;
        throw storeError(`cannot create the full-text index on ${this.name}.${column}`, e);
      }
    }
    return created;
  }

  async indexes(): Promise<IndexInfo[]> {
    const out: IndexInfo[] = [];
    for (const i of await this.table.listIndices()) {
      const s = await this.table.indexStats(i.name);
      out.push({
        name: i.name,
        type: i.indexType,
        columns: i.columns,
        indexedRows: s?.numIndexedRows ?? 0,
        unindexedRows: s?.numUnindexedRows ?? 0,
      });
    }
    return out;
  }

  async versionCount(): Promise<number> {
    return (await this.table.listVersions()).length;
  }

  async deleteIds(ids: readonly string[]): Promise<number> {
    let n = 0;
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const pred = `id IN (${ids
        .slice(i, i + IN_CHUNK)
        .map(sqlString)
        .join(', ')})`;
      const before = await this.table.countRows(pred);
      if (before === 0) continue;
      await this.table.delete(pred);
      n += before;
    }
    return n;
  }
}

/**
 * Query-time settings of the ANN index (measured in docs/decisions/optimize-ann-index.md): HNSW_SQ at
 * LanceDB's default ef reaches only ~85% top-10 agreement with exact search on real embeddings; a wider
 * beam (ef) plus re-ranking 2k candidates on full vectors brings it to ~99%. Ignored without an index.
 */
export const ANN_QUERY = { minEf: 100, efPerK: 4, refineFactor: 2 } as const;

/** Applies ANN_QUERY to a vector query (every vector search should, so results match exact search). */
export function tuneAnnQuery(q: lancedb.VectorQuery, k: number): lancedb.VectorQuery {
  return q.ef(Math.max(ANN_QUERY.minEf, ANN_QUERY.efPerK * k)).refineFactor(ANN_QUERY.refineFactor);
}

/**
 * The maintenance view (optimize job): versions, tags, optimize() and index builds, on its own
 * lancedb handle so that time travel never moves a handle others search with.
 */
class LanceMaintenance implements MaintainableTable {
  constructor(
    private readonly table: lancedb.Table,
    private readonly reopen: () => Promise<lancedb.Table>,
  ) {}

  close(): void {
    this.table.close();
  }

  async versions(): Promise<TableVersion[]> {
    return (await this.table.listVersions())
      .map((v) => ({ version: v.version, timestampMs: new Date(v.timestamp).getTime() }))
      .sort((a, b) => a.version - b.version);
  }

  async tagList(): Promise<TableTag[]> {
    const list = await (await this.table.tags()).list();
    return Object.entries(list).map(([name, c]) => ({ name, version: Number(c.version) }));
  }

  async createTag(name: string, version: number): Promise<void> {
    await (await this.table.tags()).create(name, version);
  }

  async deleteTag(name: string): Promise<void> {
    await (await this.table.tags()).delete(name);
  }

  async optimize(cleanupOlderThanMs: number | null): Promise<OptimizeOutcome> {
    // deleteUnverified stays false: files of a writer's in-flight commit look unverified.
    const s = await this.table.optimize({
      cleanupOlderThan: new Date(cleanupOlderThanMs ?? 0),
      deleteUnverified: false,
    });
    return {
      fragmentsRemoved: s.compaction.fragmentsRemoved,
      fragmentsAdded: s.compaction.fragmentsAdded,
      bytesRemoved: s.prune.bytesRemoved,
      versionsRemoved: s.prune.oldVersionsRemoved,
    };
  }

  async indexSegments(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const i of await this.table.listIndices())
      out[i.name] = (await this.table.indexStats(i.name))?.numIndices ?? 0;
    return out;
  }

  async createVectorIndex(kind: AnnIndexKind): Promise<void> {
    // One partition: a single HNSW graph builds fastest and has the best recall at our table sizes.
    const config =
      kind === 'hnsw_sq'
        ? lancedb.Index.hnswSq({ distanceType: 'cosine', numPartitions: 1 })
        : lancedb.Index.ivfPq({ distanceType: 'cosine' });
    await this.table.createIndex('vector', { config, replace: true });
  }

  async countRowsAt(versionOrTag: number | string): Promise<number> {
    const t = await this.reopen();
    try {
      await t.checkout(versionOrTag);
      return await t.countRows();
    } finally {
      t.close();
    }
  }

  async vectorSearchMode(vector: Float32Array, k: number, exact: boolean): Promise<SearchHit[]> {
    let q = this.table.vectorSearch(Array.from(vector)).distanceType('cosine').limit(k);
    q = exact ? q.bypassVectorIndex() : tuneAnnQuery(q, k);
    const rows = (await q.toArray()) as Raw[];
    return rows.map((r) => ({ row: fromRecord(r), score: 1 - Number(r._distance) }));
  }
}

/** The LanceDB adapter: one connection on a local folder. */
export interface LanceStoreOptions {
  /** Typed contract metadata: new tables get a column per filterable field (default: none). */
  readonly metadata?: Readonly<Record<string, MetadataFieldType>>;
  /** Passed unchanged to LanceDB's connect (object-store credentials, region, endpoint). */
  readonly storageOptions?: Readonly<Record<string, string>>;
}

export class LanceStore implements VectorStore {
  private readonly metadata: readonly MetadataColumn[];

  private constructor(
    private readonly conn: lancedb.Connection,
    private readonly dir: string = '',
    opts: LanceStoreOptions = {},
  ) {
    this.metadata = metadataColumnsOf(opts.metadata ?? {});
  }

  static async open(dir: string, opts: LanceStoreOptions = {}): Promise<LanceStore> {
    try {
      // readConsistencyInterval 0: every read sees the latest commit made by another process.
      const conn = await lancedb.connect(dir, {
        readConsistencyInterval: 0,
        ...(opts.storageOptions && Object.keys(opts.storageOptions).length
          ? { storageOptions: { ...opts.storageOptions } }
          : {}),
      });
      const store = new LanceStore(conn, dir, opts);
      // Every method of the store and of the tables it opens classifies its errors (lance-errors.ts).
      return guardStoreObject(store, `LanceDB ${dir}`, ['openTable', 'createTable', 'openMaintenance']);
    } catch (e) {
      throw storeError(`cannot open LanceDB at ${dir}`, e);
    }
  }

  async openTable(name: string): Promise<VectorTable | null> {
    const names = await this.conn.tableNames();
    if (!names.includes(name)) return null;
    return this.wrap(await this.conn.openTable(name), name);
  }

  /** A table handle that follows the table's own schema (which metadata columns it has, doc_text or not). */
  private async wrap(t: lancedb.Table, name: string): Promise<LanceTable> {
    const schema = await t.schema();
    const vec = schema.fields.find((f) => f.name === 'vector');
    const dim =
      vec && vec.type instanceof FixedSizeList
        ? vec.type.listSize
        : Number((vec?.type as { listSize?: number } | undefined)?.listSize ?? 0);
    const typeIdOf = (f: { type: unknown } | undefined): number | undefined =>
      (f?.type as { typeId?: number } | undefined)?.typeId;
    const present = new Map(schema.fields.map((f) => [f.name, f]));
    const metadata = this.metadata.filter(
      (c) => typeIdOf(present.get(c.column)) === arrowTypeOf(c.kind).typeId,
    );
    // Writes use a schema built here (the handle's own Arrow classes) with the table's column set.
    const base = rowSchema(dim).fields.filter((f) => f.name !== 'doc_text' || present.has('doc_text'));
    const extra = schema.fields
      .filter((f) => f.name.startsWith(META_PREFIX))
      .map((f) => {
        const t = typeIdOf(f);
        const kind: ColumnKind | null =
          t === Type.Utf8 ? 'string' : t === Type.Bool ? 'boolean' : t === Type.Float ? 'number' : null;
        if (!kind)
          throw new SeamlineError('STORE_FAILED', `table ${name}: unexpected type of column ${f.name}`);
        return new Field(f.name, arrowTypeOf(kind), true);
      });
    return new LanceTable(t, name, dim, new Schema([...base, ...extra]), metadata);
  }

  async createTable(name: string, dim: number): Promise<VectorTable> {
    try {
      const t = await this.conn.createEmptyTable(name, rowSchema(dim, this.metadata), {
        mode: 'create',
        existOk: true,
      });
      return await this.wrap(t, name);
    } catch (e) {
      throw storeError(`cannot create table ${name}`, e);
    }
  }

  async dropTable(name: string): Promise<void> {
    await this.conn.dropTable(name);
  }

  async listTables(): Promise<string[]> {
    return this.conn.tableNames();
  }

  async openMaintenance(name: string): Promise<MaintainableTable | null> {
    if (!(await this.conn.tableNames()).includes(name)) return null;
    return new LanceMaintenance(await this.conn.openTable(name), () => this.conn.openTable(name));
  }

  async tableDiskBytes(name: string): Promise<number> {
    const walk = async (d: string): Promise<number> => {
      let n = 0;
      for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) n += await walk(p);
        else n += (await stat(p).catch(() => ({ size: 0 }))).size;
      }
      return n;
    };
    return walk(path.join(this.dir, `${name}.lance`));
  }

  close(): void {
    this.conn.close();
  }
}
