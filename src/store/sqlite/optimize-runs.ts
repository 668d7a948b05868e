import type { RegistryTable } from '../../optimize/policy.js';
import type { OptimizeRunRecord, OptimizeRunStore, RunFields } from '../../ports/optimize-runs.js';
import {
  OPTIMIZE_RUN_COLUMNS as COLUMNS,
  type Row,
  optimizeRunFrom as fromRow,
} from '../rows-maintenance.js';
import type { Sqlite } from './db.js';
import { settle } from './leases.js';

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
