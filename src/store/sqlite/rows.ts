import type { BronzeEvent, FileRow, FileState } from '../../ports/bronze.js';
import type { BatchRow, BatchState, FileProgress, Lane, LaneReason } from '../../ports/ledger.js';

/** Row types of the SQLite schema and their mapping to port types: one place for every adapter. */

/** File states whose records are published (visible to the processor). */
export const VISIBLE = `('verified','unverified')`;

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
  new_fields_json: string | null;
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
  newFields: r.new_fields_json ? (JSON.parse(r.new_fields_json) as string[]) : [],
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

/** The columns of a bronze event (bronze `b` joined with files `f` for the path). */
export const EVENT_COLS = `b.seq, b.file_id, f.path, b.line, b.byte_offset, b.record_id, b.version, b.event_time, b.event_time_ms, b.op, b.text, b.metadata_json, b.landed_at_ms`;

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

/**
 * Runs a synchronous better-sqlite3 operation as a port call: the result (or the error, as a rejection)
 * in a settled promise. The work itself runs now, on the caller's tick (SQLite has no I/O to overlap).
 */
export function run<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

/** A synchronous page generator as the async iterable a port returns (each page read when asked for). */
export function asyncPages<T>(pages: Iterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const it = pages[Symbol.iterator]();
      return {
        next: () => run(() => it.next()),
        return: (): Promise<IteratorResult<T>> =>
          run(() => it.return?.() ?? ({ done: true, value: undefined } as IteratorResult<T>)),
      };
    },
  };
}
