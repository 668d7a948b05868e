import type { RegistryTable } from '../../optimize/policy.js';
import type { OptimizeRunRecord, OptimizeRunStore, RunFields, RunStatus } from '../../ports/optimize-runs.js';
import type { PgDatabase } from './connect.js';

type Row = Record<string, unknown>;
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const arr = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

function fromRow(r: Row): OptimizeRunRecord {
  return {
    runId: String(r.run_id),
    tableName: (r.table_name as string | null) ?? null,
    startedAtMs: Number(r.started_at_ms),
    finishedAtMs: num(r.finished_at_ms),
    status: r.status as RunStatus,
    actions: arr<string>(r.actions_json),
    reasons: arr<unknown>(r.reasons_json),
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
    writerQuiet: r.writer_quiet === null || r.writer_quiet === undefined ? null : r.writer_quiet === true,
    writerWaitMs: num(r.writer_wait_ms),
    criticalMs: num(r.critical_ms),
    indexedRows: num(r.indexed_rows),
    unindexedRows: num(r.unindexed_rows),
    indexes: arr<unknown>(r.indexes_json),
    tablesDropped: arr<string>(r.tables_dropped_json),
    durationMs: num(r.duration_ms),
    error: (r.error as string | null) ?? null,
  };
}

const COLUMNS: Record<Exclude<keyof OptimizeRunRecord, 'runId' | 'startedAtMs'>, string> = {
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

const JSON_COLUMNS = new Set(['actions_json', 'reasons_json', 'indexes_json', 'tables_dropped_json']);

/** The optimize_runs table over PostgreSQL: every method one statement or one READ COMMITTED transaction. */
export class PgOptimizeRuns implements OptimizeRunStore {
  constructor(private readonly db: PgDatabase) {}

  async begin(runId: string, startedAtMs: number, staleBeforeMs: number): Promise<void> {
    await this.db.tx(async (q) => {
      // A pass that was running when its process died is marked failed (its lease has expired by then).
      await q.query(
        `UPDATE optimize_runs SET status = 'failed', error = 'process ended during the run', finished_at_ms = $1
         WHERE status = 'running' AND started_at_ms < $2`,
        [startedAtMs, staleBeforeMs],
      );
      await q.query(`INSERT INTO optimize_runs (run_id, started_at_ms, status) VALUES ($1, $2, 'running')`, [
        runId,
        startedAtMs,
      ]);
    });
  }

  async update(runId: string, fields: RunFields): Promise<void> {
    const keys = Object.keys(fields) as (keyof typeof COLUMNS)[];
    if (keys.length === 0) return;
    const sets = keys.map(
      (k, i) => `${COLUMNS[k]} = $${i + 1}${JSON_COLUMNS.has(COLUMNS[k]) ? '::jsonb' : ''}`,
    );
    const values = keys.map((k) => {
      const v = fields[k];
      return Array.isArray(v) ? JSON.stringify(v) : (v ?? null);
    });
    await this.db.query(`UPDATE optimize_runs SET ${sets.join(', ')} WHERE run_id = $${keys.length + 1}`, [
      ...values,
      runId,
    ]);
  }

  async get(runId: string): Promise<OptimizeRunRecord | null> {
    const r = await this.db.query<Row>('SELECT * FROM optimize_runs WHERE run_id = $1', [runId]);
    return r.rows[0] ? fromRow(r.rows[0]) : null;
  }

  async registry(): Promise<RegistryTable[]> {
    const r = await this.db.query<{
      table_name: string;
      state: RegistryTable['state'];
      retired_at_ms: number | null;
      dropped_at_ms: number | null;
    }>('SELECT table_name, state, retired_at_ms, dropped_at_ms FROM vector_tables');
    return r.rows.map((x) => ({
      name: x.table_name,
      state: x.state,
      retiredAtMs: x.retired_at_ms,
      droppedAtMs: x.dropped_at_ms,
    }));
  }

  async markDropped(tableName: string, nowMs: number): Promise<void> {
    await this.db.query('UPDATE vector_tables SET dropped_at_ms = $1 WHERE table_name = $2', [
      nowMs,
      tableName,
    ]);
  }
}
