import type { RegistryTable } from '../../optimize/policy.js';
import type { OptimizeRunRecord, OptimizeRunStore, RunFields, RunStatus } from '../../ports/optimize-runs.js';
import type { Sqlite } from './db.js';
import { settle } from './leases.js';

type Row = Record<string, unknown>;
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const json = <T>(v: unknown, d: T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : d);

function fromRow(r: Row): OptimizeRunRecord {
  return {
    runId: String(r.run_id),
    tableName: (r.table_name as string | null) ?? null,
    startedAtMs: Number(r.started_at_ms),
    finishedAtMs: num(r.finished_at_ms),
    status: r.status as RunStatus,
    actions: json<string[]>(r.actions_json, []),
    reasons: json<unknown[]>(r.reasons_json, []),
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
    writerQuiet: r.writer_quiet === null || r.writer_quiet === undefined ? null : r.writer_quiet === 1,
    writerWaitMs: num(r.writer_wait_ms),
    criticalMs: num(r.critical_ms),
    indexedRows: num(r.indexed_rows),
    unindexedRows: num(r.unindexed_rows),
    indexes: json<unknown[]>(r.indexes_json, []),
    tablesDropped: json<string[]>(r.tables_dropped_json, []),
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

function toDb(v: unknown): unknown {
  if (Array.isArray(v)) return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v ?? null;
}

/** The optimize_runs table: every pass is recorded when it starts and updated when it ends. */
export class SqliteOptimizeRuns implements OptimizeRunStore {
  constructor(private readonly db: Sqlite) {}

  begin(runId: string, startedAtMs: number, staleBeforeMs: number): Promise<void> {
    return settle(() =>
      this.db
        .transaction(() => {
          this.failStale(staleBeforeMs, startedAtMs);
          this.start(runId, startedAtMs);
        })
        .immediate(),
    );
  }

  update(runId: string, fields: RunFields): Promise<void> {
    return settle(() => this.updateSync(runId, fields));
  }

  get(runId: string): Promise<OptimizeRunRecord | null> {
    return settle(() => this.getSync(runId));
  }

  registry(): Promise<RegistryTable[]> {
    return settle(() => this.registrySync());
  }

  markDropped(tableName: string, nowMs: number): Promise<void> {
    return settle(() => {
      this.db
        .prepare('UPDATE vector_tables SET dropped_at_ms = ? WHERE table_name = ?')
        .run(nowMs, tableName);
    });
  }

  private start(runId: string, startedAtMs: number): void {
    this.db
      .prepare(`INSERT INTO optimize_runs (run_id, started_at_ms, status) VALUES (?, ?, 'running')`)
      .run(runId, startedAtMs);
  }

  private updateSync(runId: string, fields: RunFields): void {
    const keys = Object.keys(fields) as (keyof typeof COLUMNS)[];
    if (keys.length === 0) return;
    this.db
      .prepare(`UPDATE optimize_runs SET ${keys.map((k) => `${COLUMNS[k]} = ?`).join(', ')} WHERE run_id = ?`)
      .run(...keys.map((k) => toDb(fields[k])), runId);
  }

  private getSync(runId: string): OptimizeRunRecord | null {
    const r = this.db.prepare('SELECT * FROM optimize_runs WHERE run_id = ?').get(runId) as Row | undefined;
    return r ? fromRow(r) : null;
  }

  /** Most recent first. */
  list(limit = 50): OptimizeRunRecord[] {
    return (
      this.db
        .prepare('SELECT * FROM optimize_runs ORDER BY started_at_ms DESC, rowid DESC LIMIT ?')
        .all(limit) as Row[]
    ).map(fromRow);
  }

  /** Counts per status and total conflicts (for status and metrics). */
  totals(): { byStatus: Record<string, number>; conflicts: number; bytesReclaimed: number } {
    const byStatus: Record<string, number> = {};
    for (const r of this.db
      .prepare('SELECT status, COUNT(*) AS n FROM optimize_runs GROUP BY status')
      .all() as { status: string; n: number }[])
      byStatus[r.status] = r.n;
    const s = this.db
      .prepare(
        'SELECT COALESCE(SUM(conflicts),0) AS c, COALESCE(SUM(bytes_reclaimed),0) AS b FROM optimize_runs',
      )
      .get() as { c: number; b: number };
    return { byStatus, conflicts: s.c, bytesReclaimed: s.b };
  }

  /** A pass that was running when its process died is marked failed (its lease has expired by then). */
  private failStale(olderThanMs: number, nowMs: number): number {
    return this.db
      .prepare(
        `UPDATE optimize_runs SET status = 'failed', error = 'process ended during the run', finished_at_ms = ? WHERE status = 'running' AND started_at_ms < ?`,
      )
      .run(nowMs, olderThanMs).changes;
  }

  private registrySync(): RegistryTable[] {
    return (
      this.db.prepare('SELECT table_name, state, retired_at_ms, dropped_at_ms FROM vector_tables').all() as {
        table_name: string;
        state: RegistryTable['state'];
        retired_at_ms: number | null;
        dropped_at_ms: number | null;
      }[]
    ).map((r) => ({
      name: r.table_name,
      state: r.state,
      retiredAtMs: r.retired_at_ms,
      droppedAtMs: r.dropped_at_ms,
    }));
  }
}
