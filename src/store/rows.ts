import type { BronzeEvent, FileRow, FileState } from '../ports/bronze.js';
import type {
  BatchRow,
  BatchState,
  FileProgress,
  Incident,
  IncidentStatus,
  Lane,
  LaneReason,
  ReplayKind,
  ReplayRow,
} from '../ports/ledger.js';
import type { TableInfo, TableState } from '../ports/registry.js';

/**
 * Row types of the store schema (the same tables and columns in SQLite and PostgreSQL: migrations 1–6 of
 * src/store/sqlite/db.ts and src/store/postgres/migrations.ts) and their mapping to port types: one place
 * for every adapter of both stores. JSON columns arrive as text from SQLite and parsed from PostgreSQL's jsonb.
 */

export type DbFile = {
  file_id: number;
  path: string;
  sha256: string;
  size: number;
  mtime_ms: number;
  format: string;
  state: FileState;
  detail: string | null;
  records_read: number;
  records_landed: number;
  records_quarantined: number;
  seq_from: number | null;
  seq_to: number | null;
  manifest_sha256: string | null;
  landed_at_ms: number;
  new_fields_json: string | readonly string[] | null;
  from_byte: number;
  landed_bytes: number | null;
  continuation_of: number | null;
  dev: number | null;
  ino: number | null;
  stored_path: string | null;
  watch_until_ms: number | null;
  complete_at_ms: number | null;
  complete_by: string | null;
};

export const fileFrom = (r: DbFile): FileRow => ({
  fileId: r.file_id,
  path: r.path,
  sha256: r.sha256,
  size: r.size,
  mtimeMs: r.mtime_ms,
  format: r.format,
  state: r.state,
  detail: r.detail,
  recordsRead: r.records_read,
  recordsLanded: r.records_landed,
  recordsQuarantined: r.records_quarantined,
  seqFrom: r.seq_from,
  seqTo: r.seq_to,
  manifestSha256: r.manifest_sha256,
  landedAtMs: r.landed_at_ms,
  newFields: jsonOf<string[]>(r.new_fields_json) ?? [],
  fromByte: r.from_byte,
  landedBytes: r.landed_bytes ?? r.size,
  continuationOf: r.continuation_of,
  dev: r.dev,
  ino: r.ino,
  storedPath: r.stored_path,
  watchUntilMs: r.watch_until_ms,
  completeAtMs: r.complete_at_ms,
  completeBy: r.complete_by,
});

export type DbEvent = {
  seq: number;
  file_id: number;
  path: string;
  line: number;
  byte_offset: number;
  record_id: string;
  version: number;
  event_time: string;
  event_time_ms: number;
  op: 'upsert' | 'delete';
  text: string;
  metadata_json: string;
  landed_at_ms: number;
};

export const eventFrom = (r: DbEvent): BronzeEvent => ({
  seq: r.seq,
  fileId: r.file_id,
  file: r.path,
  line: r.line,
  offset: r.byte_offset,
  id: r.record_id,
  version: r.version,
  eventTime: r.event_time,
  eventTimeMs: r.event_time_ms,
  op: r.op,
  text: r.text,
  metadataJson: r.metadata_json,
  landedAtMs: r.landed_at_ms,
});

export type DbProgress = {
  table_name: string;
  file_id: number;
  lane: Lane;
  reason: LaneReason;
  seq_from: number;
  seq_to: number;
  records: number;
  complete_at_ms: number;
  landed_at_ms: number;
  queued_at_ms: number;
  planned_to: number;
  planned_records: number;
  committed_to: number;
  committed_records: number;
  searchable_at_ms: number | null;
};

export const progressFrom = (r: DbProgress): FileProgress => ({
  tableName: r.table_name,
  fileId: r.file_id,
  lane: r.lane,
  reason: r.reason,
  seqFrom: r.seq_from,
  seqTo: r.seq_to,
  records: r.records,
  completeAtMs: r.complete_at_ms,
  landedAtMs: r.landed_at_ms,
  queuedAtMs: r.queued_at_ms,
  plannedTo: r.planned_to,
  plannedRecords: r.planned_records,
  committedTo: r.committed_to,
  committedRecords: r.committed_records,
  searchableAtMs: r.searchable_at_ms,
});

export type DbBatch = {
  batch_id: string;
  table_name: string;
  seq_from: number;
  seq_to: number;
  lane: Lane;
  state: BatchState;
  planned_at_ms: number;
  committed_at_ms: number | null;
  table_version: number | null;
  attempts: number;
  error: string | null;
};

export const batchFrom = (r: DbBatch): BatchRow => ({
  batchId: r.batch_id,
  tableName: r.table_name,
  seqFrom: r.seq_from,
  seqTo: r.seq_to,
  lane: r.lane,
  state: r.state,
  plannedAtMs: r.planned_at_ms,
  committedAtMs: r.committed_at_ms,
  tableVersion: r.table_version,
  attempts: r.attempts,
  error: r.error,
});

export type DbIncident = {
  incident_id: number;
  at_ms: number;
  pipeline: string;
  run_id: string;
  batch_id: string | null;
  failure_mode: string;
  affected_rows: number;
  guard: string;
  status: IncidentStatus;
  detail_json: string | Record<string, unknown> | null;
};

export const incidentFrom = (r: DbIncident): Incident => ({
  incidentId: r.incident_id,
  atMs: r.at_ms,
  pipeline: r.pipeline,
  runId: r.run_id,
  batchId: r.batch_id,
  failureMode: r.failure_mode,
  affectedRows: r.affected_rows,
  guard: r.guard,
  status: r.status,
  detail: jsonOf<Record<string, unknown>>(r.detail_json),
});

export type DbTable = {
  table_name: string;
  model_id: string;
  dim: number;
  pipeline_version: string;
  state: TableState;
  created_at_ms: number;
};

export const tableFrom = (r: DbTable): TableInfo => ({
  tableName: r.table_name,
  modelId: r.model_id,
  dim: r.dim,
  pipelineVersion: r.pipeline_version,
  state: r.state,
  createdAtMs: r.created_at_ms,
});

/** What a batch or a replay wrote (the same six columns on batches and replays). */
export type DbWriteCounts = {
  ids_touched: number | null;
  rows_inserted: number | null;
  rows_updated: number | null;
  rows_deleted: number | null;
  texts_embedded: number | null;
  texts_reused: number | null;
};

export const writeCountsFrom = (r: DbWriteCounts) => ({
  idsTouched: r.ids_touched,
  rowsInserted: r.rows_inserted,
  rowsUpdated: r.rows_updated,
  rowsDeleted: r.rows_deleted,
  textsEmbedded: r.texts_embedded,
  textsReused: r.texts_reused,
});

export type DbReplay = {
  replay_id: string;
  table_name: string;
  kind: ReplayKind;
  state: 'planned' | 'committed';
  from_version: number | null;
  ledger_version: number | null;
  up_to_seq: number | null;
  planned_at_ms: number;
  committed_at_ms: number | null;
  table_version: number | null;
} & DbWriteCounts;

export const replayFrom = (r: DbReplay): ReplayRow => ({
  replayId: r.replay_id,
  tableName: r.table_name,
  kind: r.kind,
  state: r.state,
  fromVersion: r.from_version,
  ledgerVersion: r.ledger_version,
  upToSeq: r.up_to_seq,
  plannedAtMs: r.planned_at_ms,
  committedAtMs: r.committed_at_ms,
  tableVersion: r.table_version,
  ...writeCountsFrom(r),
});

/** A JSON column: SQLite gives its text, PostgreSQL's jsonb arrives parsed. */
export function jsonOf<T>(v: string | object | null): T | null {
  if (v === null) return null;
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}
