import type { RegistryTable } from '../../optimize/policy.js';
import type { OptimizeRunRecord, OptimizeRunStore, RunFields } from '../../ports/optimize-runs.js';
import {
  OPTIMIZE_RUN_COLUMNS as COLUMNS,
  type Row,
  optimizeRunFrom as fromRow,
} from '../rows-maintenance.js';
import type { PgDatabase } from './connect.js';

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
