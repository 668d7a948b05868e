import type { Incident, Incidents, IncidentStatus, NewIncident } from '../../ports/ledger.js';
import type { PgDatabase, PgQueryable } from './connect.js';
import { incidentFrom, type DbIncident } from '../rows.js';

/** Closes a batch's open incidents inside the caller's transaction (a batch commit closes them atomically). */
export async function closeIncidentsIn(
  q: PgQueryable,
  batchId: string,
  status: Exclude<IncidentStatus, 'open'>,
  nowMs: number,
): Promise<number> {
  const r = await q.query(
    `UPDATE incidents SET status = $1, detail_json = COALESCE(detail_json, '{}'::jsonb) || jsonb_build_object('closedAtMs', $3::bigint)
     WHERE batch_id = $2 AND status = 'open'`,
    [status, batchId, nowMs],
  );
  return r.rowCount;
}

/**
 * Incidents over PostgreSQL. `record` is read-then-write under an advisory transaction lock on the batch
 * id, so two workers failing the same batch the same way leave one open incident with attempts 2, never
 * two rows (no PostgreSQL-only index: the schema stays number-for-number with SQLite's).
 */
export class PgIncidents implements Incidents {
  constructor(private readonly db: PgDatabase) {}

  async record(i: NewIncident): Promise<Incident> {
    return this.db.tx(async (q) => {
      await q.query(`SELECT pg_advisory_xact_lock(hashtextextended('seamline.incident:' || $1, 0))`, [
        i.batchId,
      ]);
      const cur = (
        await q.query<DbIncident>(
          `SELECT * FROM incidents WHERE batch_id = $1 AND failure_mode = $2 AND status = 'open' ORDER BY incident_id LIMIT 1`,
          [i.batchId, i.failureMode],
        )
      ).rows[0];
      if (cur) {
        const attempts = Number((cur.detail_json as { attempts?: number } | null)?.attempts ?? 1) + 1;
        const r = await q.query<DbIncident>(
          `UPDATE incidents SET at_ms = $1, run_id = $2, affected_rows = $3, guard = $4, detail_json = $5::jsonb
           WHERE incident_id = $6 RETURNING *`,
          [
            i.atMs,
            i.runId,
            i.affectedRows,
            i.guard,
            JSON.stringify({ message: i.message, attempts }),
            cur.incident_id,
          ],
        );
        return incidentFrom(r.rows[0]!);
      }
      const r = await q.query<DbIncident>(
        `INSERT INTO incidents (at_ms, pipeline, run_id, batch_id, failure_mode, affected_rows, guard, status, detail_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8::jsonb) RETURNING *`,
        [
          i.atMs,
          i.pipeline,
          i.runId,
          i.batchId,
          i.failureMode,
          i.affectedRows,
          i.guard,
          JSON.stringify({ message: i.message, attempts: 1 }),
        ],
      );
      return incidentFrom(r.rows[0]!);
    });
  }

  close(batchId: string, status: Exclude<IncidentStatus, 'open'>, nowMs: number): Promise<number> {
    return this.db.tx((q) => closeIncidentsIn(q, batchId, status, nowMs));
  }

  async get(id: number): Promise<Incident | null> {
    const r = await this.db.query<DbIncident>('SELECT * FROM incidents WHERE incident_id = $1', [id]);
    return r.rows[0] ? incidentFrom(r.rows[0]) : null;
  }

  async list(limit = 50, status?: IncidentStatus): Promise<Incident[]> {
    const r = await this.db.query<DbIncident>(
      'SELECT * FROM incidents WHERE ($1::text IS NULL OR status = $1) ORDER BY incident_id DESC LIMIT $2',
      [status ?? null, limit],
    );
    return r.rows.map(incidentFrom);
  }

  async openCount(): Promise<number> {
    return (await this.db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM incidents WHERE status = 'open'`))
      .rows[0]!.n;
  }
}
