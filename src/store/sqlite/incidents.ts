import type { Incident, Incidents, IncidentStatus, NewIncident } from '../../ports/ledger.js';
import type { Sqlite } from './db.js';
import { incidentFrom, run, type DbIncident } from './rows.js';

/** The incidents table (SQLite, synchronous): written when a batch fails a gate, listed by `status --json`. */
export class IncidentsSql {
  constructor(private readonly db: Sqlite) {}

  /**
   * Records that a batch failed. One open incident per (batch, failure mode): a retry that fails the
   * same way bumps its `attempts` and refreshes run id and counts instead of adding rows.
   */
  record(i: NewIncident): Incident {
    return this.db
      .transaction(() => {
        const cur = this.db
          .prepare(`SELECT * FROM incidents WHERE batch_id = ? AND failure_mode = ? AND status = 'open'`)
          .get(i.batchId, i.failureMode) as DbIncident | undefined;
        if (cur) {
          const prev = (incidentFrom(cur).detail ?? {}) as { attempts?: number };
          const detail = JSON.stringify({ message: i.message, attempts: (prev.attempts ?? 1) + 1 });
          this.db
            .prepare(
              'UPDATE incidents SET at_ms = ?, run_id = ?, affected_rows = ?, guard = ?, detail_json = ? WHERE incident_id = ?',
            )
            .run(i.atMs, i.runId, i.affectedRows, i.guard, detail, cur.incident_id);
          return this.get(cur.incident_id)!;
        }
        const r = this.db
          .prepare(
            `INSERT INTO incidents (at_ms, pipeline, run_id, batch_id, failure_mode, affected_rows, guard, status, detail_json) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?)`,
          )
          .run(
            i.atMs,
            i.pipeline,
            i.runId,
            i.batchId,
            i.failureMode,
            i.affectedRows,
            i.guard,
            JSON.stringify({ message: i.message, attempts: 1 }),
          );
        return this.get(Number(r.lastInsertRowid))!;
      })
      .immediate();
  }

  /** Closes the open incidents of a batch once it commits: 'resolved', or 'waived' when an operator waived its gates. */
  close(batchId: string, status: Exclude<IncidentStatus, 'open'>, nowMs: number): number {
    const rows = this.db
      .prepare(`SELECT incident_id, detail_json FROM incidents WHERE batch_id = ? AND status = 'open'`)
      .all(batchId) as { incident_id: number; detail_json: string | null }[];
    const upd = this.db.prepare('UPDATE incidents SET status = ?, detail_json = ? WHERE incident_id = ?');
    for (const r of rows) {
      const detail = {
        ...(r.detail_json ? (JSON.parse(r.detail_json) as Record<string, unknown>) : {}),
        closedAtMs: nowMs,
      };
      upd.run(status, JSON.stringify(detail), r.incident_id);
    }
    return rows.length;
  }

  get(id: number): Incident | null {
    const r = this.db.prepare('SELECT * FROM incidents WHERE incident_id = ?').get(id) as
      DbIncident | undefined;
    return r ? incidentFrom(r) : null;
  }

  /** Newest first. */
  list(limit = 50, status?: IncidentStatus): Incident[] {
    const rows = status
      ? (this.db
          .prepare('SELECT * FROM incidents WHERE status = ? ORDER BY incident_id DESC LIMIT ?')
          .all(status, limit) as DbIncident[])
      : (this.db
          .prepare('SELECT * FROM incidents ORDER BY incident_id DESC LIMIT ?')
          .all(limit) as DbIncident[]);
    return rows.map(incidentFrom);
  }

  openCount(): number {
    return (
      this.db.prepare(`SELECT COUNT(*) AS n FROM incidents WHERE status = 'open'`).get() as { n: number }
    ).n;
  }
}

/** The incidents port over SQLite. */
export class SqliteIncidents implements Incidents {
  constructor(readonly sql: IncidentsSql) {}

  record(i: NewIncident): Promise<Incident> {
    return run(() => this.sql.record(i));
  }
  close(batchId: string, status: Exclude<IncidentStatus, 'open'>, nowMs: number): Promise<number> {
    return run(() => this.sql.close(batchId, status, nowMs));
  }
  get(id: number): Promise<Incident | null> {
    return run(() => this.sql.get(id));
  }
  list(limit?: number, status?: IncidentStatus): Promise<Incident[]> {
    return run(() => this.sql.list(limit, status));
  }
  openCount(): Promise<number> {
    return run(() => this.sql.openCount());
  }
}
