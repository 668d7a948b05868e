import { SeamlineError } from '../../errors/errors.js';
import type { ServingTable, TableInfo, TableRegistry, TableState } from '../../ports/registry.js';
import type { PgDatabase, PgQueryable } from './connect.js';
import { tableFrom, type DbTable } from '../rows.js';

/**
 * Held (transaction-scoped) by every move of the serving pointer: registerServing, swap, rollback read
 * the pointer and write it in one transaction, and two workers must not interleave (a row that does not
 * exist yet, the first serving row, cannot be locked with FOR UPDATE).
 */
export const SERVING_LOCK = 5_372_911_018;

export async function servingIn(q: PgQueryable): Promise<ServingTable | null> {
  const r = await q.query<DbTable & { previous_table_name: string | null }>(
    `SELECT t.*, s.previous_table_name FROM serving s JOIN vector_tables t ON t.table_name = s.table_name WHERE s.slot = 'current'`,
  );
  const row = r.rows[0];
  return row ? { ...tableFrom(row), previous: row.previous_table_name } : null;
}

export async function swapIn(q: PgQueryable, name: string, nowMs: number): Promise<void> {
  const cur = await servingIn(q);
  if (cur && cur.tableName === name) return;
  if (cur)
    await q.query(`UPDATE vector_tables SET state = 'retired', retired_at_ms = $1 WHERE table_name = $2`, [
      nowMs,
      cur.tableName,
    ]);
  await q.query(`UPDATE vector_tables SET state = 'serving', retired_at_ms = NULL WHERE table_name = $1`, [
    name,
  ]);
  await q.query(
    `INSERT INTO serving (slot, table_name, previous_table_name, swapped_at_ms) VALUES ('current', $1, $2, $3)
     ON CONFLICT (slot) DO UPDATE SET table_name = excluded.table_name, previous_table_name = excluded.previous_table_name, swapped_at_ms = excluded.swapped_at_ms`,
    [name, cur?.tableName ?? null, nowMs],
  );
}

export const lockServing = (q: PgQueryable) =>
  q.query('SELECT pg_advisory_xact_lock($1::bigint)', [SERVING_LOCK]);

/** The table registry and serving pointer over PostgreSQL: each move one transaction under SERVING_LOCK. */
export class PgTableRegistry implements TableRegistry {
  constructor(private readonly db: PgDatabase) {}

  serving(): Promise<ServingTable | null> {
    return servingIn(this.db);
  }

  async get(name: string): Promise<TableInfo | null> {
    const r = await this.db.query<DbTable>('SELECT * FROM vector_tables WHERE table_name = $1', [name]);
    return r.rows[0] ? tableFrom(r.rows[0]) : null;
  }

  async list(): Promise<TableInfo[]> {
    const r = await this.db.query<DbTable>('SELECT * FROM vector_tables ORDER BY created_at_ms, table_name');
    return r.rows.map(tableFrom);
  }

  async nextName(base: string): Promise<string> {
    const r = await this.db.query<{ table_name: string }>(
      `SELECT table_name FROM vector_tables WHERE starts_with(table_name, $1)`,
      [`${base}_v`],
    );
    let max = 0;
    for (const { table_name } of r.rows) {
      const m = /_v(\d+)$/.exec(table_name);
      if (m && table_name === `${base}_v${m[1]}`) max = Math.max(max, Number(m[1]));
    }
    return `${base}_v${max + 1}`;
  }

  async register(
    name: string,
    modelId: string,
    dim: number,
    pipelineVersion: string,
    state: TableState,
    nowMs: number,
  ): Promise<void> {
    await this.db.query(
      'INSERT INTO vector_tables (table_name, model_id, dim, pipeline_version, state, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)',
      [name, modelId, dim, pipelineVersion, state, nowMs],
    );
  }

  async registerServing(
    name: string,
    modelId: string,
    dim: number,
    pipelineVersion: string,
    nowMs: number,
  ): Promise<void> {
    await this.db.tx(async (q) => {
      await lockServing(q);
      const cur = await servingIn(q);
      if (cur)
        throw new SeamlineError(
          'LEDGER_CONFLICT',
          `${cur.tableName} already serves; ${name} was not registered (another process created the first table)`,
        );
      await q.query(
        `INSERT INTO vector_tables (table_name, model_id, dim, pipeline_version, state, created_at_ms) VALUES ($1, $2, $3, $4, 'building', $5)`,
        [name, modelId, dim, pipelineVersion, nowMs],
      );
      await swapIn(q, name, nowMs);
    });
  }

  async swap(name: string, nowMs: number): Promise<void> {
    await this.db.tx(async (q) => {
      await lockServing(q);
      await swapIn(q, name, nowMs);
    });
  }

  async rollback(
    nowMs: number,
    exists: (name: string) => boolean,
  ): Promise<{ from: string; to: string } | null> {
    return this.db.tx(async (q) => {
      await lockServing(q);
      const cur = await servingIn(q);
      if (!cur || cur.previous === null) return null;
      const r = await q.query<DbTable>('SELECT * FROM vector_tables WHERE table_name = $1', [cur.previous]);
      const prev = r.rows[0] ? tableFrom(r.rows[0]) : null;
      if (!prev || prev.state === 'failed' || !exists(prev.tableName)) return null;
      await swapIn(q, prev.tableName, nowMs);
      return { from: cur.tableName, to: prev.tableName };
    });
  }

  async setState(name: string, state: TableState): Promise<void> {
    await this.db.query('UPDATE vector_tables SET state = $1 WHERE table_name = $2', [state, name]);
  }
}
