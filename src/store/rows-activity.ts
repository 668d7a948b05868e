import { safeExcerpt } from '../observability/activity.js';
import type {
  BatchActivity,
  FileActivity,
  LedgerCounters,
  QuarantineListEntry,
} from '../ports/read-model.js';
import { type DbWriteCounts, writeCountsFrom } from './rows.js';

/**
 * The read models' rows (the same columns in SQLite and PostgreSQL) and how they become what the ports
 * return: one place for both adapters, so `seamline files|batches|quarantine`, /status and the status
 * page show the same thing whichever store is behind them. The SQL stays in each adapter.
 */

/** A file row of the activity listing. */
export interface DbFileActivity {
  file_id: number;
  path: string;
  format: string;
  state: string;
  detail: string | null;
  records_read: number;
  records_landed: number;
  records_quarantined: number;
  landed_at_ms: number;
}

/** The serving table's progress on one file (the lanes ledger's file_progress), when it has any. */
export interface DbFileProgress {
  lane: string;
  /** committed records */
  n: number | null;
  /** searchable_at_ms: when the whole file was first searchable */
  at: number | null;
  /** the last committed batch that touched the file */
  last: number | null;
}

export function fileActivityFrom(r: DbFileActivity, p: DbFileProgress | null): FileActivity {
  const published = p ? Math.min(p.n ?? 0, r.records_landed) : 0;
  const searchableAt = p ? p.at : null;
  const complete = r.records_landed > 0 && published >= r.records_landed && searchableAt !== null;
  return {
    fileId: r.file_id,
    path: r.path,
    format: r.format,
    state: r.state,
    detail: r.detail,
    read: r.records_read,
    landed: r.records_landed,
    quarantined: r.records_quarantined,
    withheld: Math.max(0, r.records_read - r.records_landed - r.records_quarantined),
    landedAtMs: r.landed_at_ms,
    published,
    publishedAtMs: p ? (p.last ?? p.at) : null,
    landToSearchableMs: complete && searchableAt !== null ? Math.max(0, searchableAt - r.landed_at_ms) : null,
    lane: p ? p.lane : null,
  };
}

export interface DbBatchActivity extends DbWriteCounts {
  batch_id: string;
  table_name: string;
  state: string;
  lane: string | null;
  seq_from: number;
  seq_to: number;
  records_in: number | null;
  attempts: number;
  error: string | null;
  model_id: string;
  planned_at_ms: number;
  committed_at_ms: number | null;
}

export const batchActivityFrom = (r: DbBatchActivity): BatchActivity => ({
  batchId: r.batch_id,
  table: r.table_name,
  state: r.state,
  lane: r.lane === null ? null : String(r.lane),
  seqFrom: r.seq_from,
  seqTo: r.seq_to,
  records: r.records_in,
  ...writeCountsFrom(r),
  attempts: r.attempts,
  error: r.error,
  modelId: r.model_id,
  plannedAtMs: r.planned_at_ms,
  committedAtMs: r.committed_at_ms,
  durationMs: r.committed_at_ms === null ? null : Math.max(0, r.committed_at_ms - r.planned_at_ms),
});

/** A quarantined record; `raw` is a bounded prefix of its text, `len` the whole record's characters. */
export interface DbQuarantine {
  q_id: number;
  file_id: number;
  path: string;
  line: number;
  byte_offset: number;
  code: string;
  field: string | null;
  message: string;
  raw: string;
  at_ms: number;
  len: number;
}

export const quarantineEntryFrom = (r: DbQuarantine, max: number): QuarantineListEntry => {
  const e = safeExcerpt(r.raw, max);
  return {
    qId: r.q_id,
    fileId: r.file_id,
    file: r.path,
    line: r.line,
    byteOffset: r.byte_offset,
    code: r.code,
    field: r.field,
    reason: r.message,
    atMs: r.at_ms,
    excerpt: e.text,
    rawChars: r.len,
    truncated: e.truncated,
  };
};

/** The batch counters of one table, as both adapters select them (one row). */
export interface DbBatchCounters {
  committed: number;
  failed_attempts: number;
  pending: number;
  published: number;
  ins: number;
  upd: number;
  del: number;
  emb: number;
  reu: number;
  gate: number;
  committed_to: number;
}

export const ledgerCountersFrom = (
  b: DbBatchCounters,
  rest: {
    backlog: number;
    newest: number | null;
    incidents: Record<string, number>;
    optimize: { n: number; c: number };
  },
): LedgerCounters => ({
  batchesCommitted: b.committed,
  batchesFailedAttempts: b.failed_attempts,
  batchesPending: b.pending,
  recordsPublished: b.published,
  rowsInserted: b.ins,
  rowsUpdated: b.upd,
  rowsDeleted: b.del,
  textsEmbedded: b.emb,
  textsReused: b.reu,
  gateFailures: b.gate,
  backlogRecords: rest.backlog,
  newestPublishedEventTimeMs: rest.newest,
  optimizeRuns: rest.optimize.n,
  optimizeConflicts: rest.optimize.c,
  incidents: rest.incidents,
});
