import type { OptimizeRunRecord, RunStatus } from '../ports/optimize-runs.js';
import type { JobProgress, JobState, ReindexJob } from '../ports/reindex-store.js';
import { jsonOf } from './rows.js';

/**
 * Row types and mappings of the maintenance tables (reindex_jobs, optimize_runs), the same columns in
 * SQLite and PostgreSQL: one place for both adapters, as src/store/rows.ts is for the pipeline's tables.
 * JSON columns arrive as text from SQLite and parsed from PostgreSQL's jsonb; booleans as 0/1 from
 * SQLite and as booleans from PostgreSQL.
 */

export type DbJob = {
  job_id: number;
  table_name: string;
  source_table: string;
  model_id: string;
  dim: number;
  settings_key: string;
  state: JobState;
  base_seq: number;
  caught_up_seq: number;
  cursor_id: string;
  records_total: number;
  records_done: number;
  rows_written: number;
  texts_embedded: number;
  texts_reused: number;
  rate_rps: number | null;
  eta_ms: number | null;
  gates_json: string | object | null;
  error: string | null;
  pid: number | null;
  attempts: number;
  started_at_ms: number;
  updated_at_ms: number;
  finished_at_ms: number | null;
};

export const jobFrom = (r: DbJob): ReindexJob => ({
  jobId: r.job_id,
  tableName: r.table_name,
  sourceTable: r.source_table,
  modelId: r.model_id,
  dim: r.dim,
  settingsKey: r.settings_key,
  state: r.state,
  baseSeq: r.base_seq,
  caughtUpSeq: r.caught_up_seq,
  cursorId: r.cursor_id,
  recordsTotal: r.records_total,
  recordsDone: r.records_done,
  rowsWritten: r.rows_written,
  textsEmbedded: r.texts_embedded,
  textsReused: r.texts_reused,
  rateRps: r.rate_rps,
  etaMs: r.eta_ms,
  gates: jsonOf<unknown>(r.gates_json),
  error: r.error,
  pid: r.pid,
  attempts: r.attempts,
  startedAtMs: r.started_at_ms,
  updatedAtMs: r.updated_at_ms,
  finishedAtMs: r.finished_at_ms,
});

/** The progress fields a reindex job updates, and their columns. */
export const JOB_PROGRESS_COLUMNS: Record<keyof JobProgress, string> = {
  cursorId: 'cursor_id',
  recordsDone: 'records_done',
  rowsWritten: 'rows_written',
  textsEmbedded: 'texts_embedded',
  textsReused: 'texts_reused',
  caughtUpSeq: 'caught_up_seq',
  rateRps: 'rate_rps',
  etaMs: 'eta_ms',
  state: 'state',
};

export type Row = Record<string, unknown>;
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const list = <T>(v: unknown): T[] => {
  const parsed: unknown = typeof v === 'string' ? JSON.parse(v) : v;
  return Array.isArray(parsed) ? (parsed as T[]) : [];
};
const flag = (v: unknown): boolean | null => (v === null || v === undefined ? null : v === true || v === 1);

export function optimizeRunFrom(r: Row): OptimizeRunRecord {
  return {
    runId: String(r.run_id),
    tableName: (r.table_name as string | null) ?? null,
    startedAtMs: Number(r.started_at_ms),
    finishedAtMs: num(r.finished_at_ms),
    status: r.status as RunStatus,
    actions: list<string>(r.actions_json),
    reasons: list<unknown>(r.reasons_json),
    rowsBefore: num(r.rows_before),
    rowsAfter: num(r.rows_after),
    fragmentsBefore: num(r.fragments_before),
    fragmentsAfter: num(r.fragments_after),
    smallFragmentsBefore: num(r.small_fragments_before),
    smallFragmentsAfter: num(r.small_fragments_after),
    versionsBefore: num(r.versions_before),
    versionsAfter: num(r.versions_after),
    diskBytesBefore: num(r.disk_bytes_before),
    diskBytesAfter: num(r.disk_bytes_after),
    bytesReclaimed: num(r.bytes_reclaimed),
    conflicts: Number(r.conflicts ?? 0),
    retries: Number(r.retries ?? 0),
    writerQuiet: flag(r.writer_quiet),
    writerWaitMs: num(r.writer_wait_ms),
    criticalMs: num(r.critical_ms),
    indexedRows: num(r.indexed_rows),
    unindexedRows: num(r.unindexed_rows),
    indexes: list<unknown>(r.indexes_json),
    tablesDropped: list<string>(r.tables_dropped_json),
    durationMs: num(r.duration_ms),
    error: (r.error as string | null) ?? null,
  };
}

/** The fields of an optimize run an update may set, and their columns. */
export const OPTIMIZE_RUN_COLUMNS: Record<
  Exclude<keyof OptimizeRunRecord, 'runId' | 'startedAtMs'>,
  string
> = {
  tableName: 'table_name',
  finishedAtMs: 'finished_at_ms',
  status: 'status',
  actions: 'actions_json',
  reasons: 'reasons_json',
  rowsBefore: 'rows_before',
  rowsAfter: 'rows_after',
  fragmentsBefore: 'fragments_before',
  fragmentsAfter: 'fragments_after',
  smallFragmentsBefore: 'small_fragments_before',
  smallFragmentsAfter: 'small_fragments_after',
  versionsBefore: 'versions_before',
  versionsAfter: 'versions_after',
  diskBytesBefore: 'disk_bytes_before',
  diskBytesAfter: 'disk_bytes_after',
  bytesReclaimed: 'bytes_reclaimed',
  conflicts: 'conflicts',
  retries: 'retries',
  writerQuiet: 'writer_quiet',
  writerWaitMs: 'writer_wait_ms',
  criticalMs: 'critical_ms',
  indexedRows: 'indexed_rows',
  unindexedRows: 'unindexed_rows',
  indexes: 'indexes_json',
  tablesDropped: 'tables_dropped_json',
  durationMs: 'duration_ms',
  error: 'error',
};
