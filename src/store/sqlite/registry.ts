import { SeamlineError } from '../../errors/errors.js';
import type { ServingTable, TableInfo, TableRegistry, TableState } from '../../ports/registry.js';
import type { Sqlite } from './db.js';
import { run, tableFrom, type DbTable } from './rows.js';

/**
 * The serving pointer. LanceDB OSS has no rename or alias, so tables are versioned (BASE_vN) and the
 * one that serves is a row in SQLite: a swap or a rollback is one transaction.
 */
export class RegistrySql {
  constructor(private readonly db: Sqlite) {}

  serving(): ServingTable | null {
    const r = this.db
      .prepare(
        `SELECT t.*, s.previous_table_name FROM serving s JOIN vector_tables t ON t.table_name = s.table_name WHERE s.slot = 'current'`,
      )
      .get() as (DbTable & { previous_table_name: string | null }) | undefined;
    return r ? { ...tableFrom(r), previous: r.previous_table_name } : null;
  }

  get(name: string): TableInfo | null {
    const r = this.db.prepare('SELECT * FROM vector_tables WHERE table_name = ?').get(name) as
      DbTable | undefined;
    return r ? tableFrom(r) : null;
  }

  list(): TableInfo[] {
    return (this.db.prepare('SELECT * FROM vector_tables ORDER BY created_at_ms').all() as DbTable[]).map(
      tableFrom,
    );
  }

  /** Next free versioned name for a base: BASE_v1, BASE_v2, … */
  nextName(base: string): string {
    const rows = this.db
      .prepare('SELECT table_name FROM vector_tables WHERE table_name LIKE ?')
      .all(`${base}_v%`) as { table_name: string }[];
    let max = 0;
    for (const r of rows) {
      const m = /_v(\d+)$/.exec(r.table_name);
      if (m) max = Math.max(max, Number(m[1]));
    }
    return `${base}_v${max + 1}`;
  }

  register(
    name: string,
    modelId: string,
    dim: number,
    pipelineVersion: string,
    state: TableState,
    nowMs: number,
  ): void {
    this.db
      .prepare(
        'INSERT INTO vector_tables (table_name, model_id, dim, pipeline_version, state, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(name, modelId, dim, pipelineVersion, state, nowMs);
  }

  /** Registers the first table and serves it, in one transaction; LEDGER_CONFLICT when something already serves. */
  registerServing(name: string, modelId: string, dim: number, pipelineVersion: string, nowMs: number): void {
    this.db
      .transaction(() => {
        const cur = this.serving();
        if (cur)
          throw new SeamlineError(
            'LEDGER_CONFLICT',
            `${cur.tableName} already serves; ${name} was not registered (another process created the first table)`,
          );
        this.register(name, modelId, dim, pipelineVersion, 'building', nowMs);
        this.swap(name, nowMs);
      })
      .immediate();
  }

  /** Points serving at `name` in one transaction; the old table becomes `previous` (rollback target). */
  swap(name: string, nowMs: number): void {
    this.db
      .transaction(() => {
        const cur = this.serving();
        if (cur && cur.tableName === name) return;
        if (cur)
          this.db
            .prepare(`UPDATE vector_tables SET state = 'retired', retired_at_ms = ? WHERE table_name = ?`)
            .run(nowMs, cur.tableName);
        this.db
          .prepare(`UPDATE vector_tables SET state = 'serving', retired_at_ms = NULL WHERE table_name = ?`)
          .run(name);
        this.db
          .prepare(
            `INSERT INTO serving (slot, table_name, previous_table_name, swapped_at_ms) VALUES ('current', ?, ?, ?) ON CONFLICT(slot) DO UPDATE SET table_name = excluded.table_name, previous_table_name = excluded.previous_table_name, swapped_at_ms = excluded.swapped_at_ms`,
          )
          .run(name, cur?.tableName ?? null, nowMs);
      })
      .immediate();
  }

  /**
   * Points serving back at `previous` in one transaction (the table it replaces becomes the new
   * `previous`, so a second rollback rolls forward). Returns null when there is nothing to go back to.
   * `exists` says whether the table's data is still on disk (retention may have removed it).
   */
  rollback(nowMs: number, exists: (name: string) => boolean): { from: string; to: string } | null {
    return this.db
      .transaction(() => {
        const cur = this.serving();
        if (!cur || cur.previous === null) return null;
        const prev = this.get(cur.previous);
        if (!prev || prev.state === 'failed' || !exists(prev.tableName)) return null;
        this.swap(prev.tableName, nowMs);
        return { from: cur.tableName, to: prev.tableName };
      })
      .immediate();
  }

  setState(name: string, state: TableState): void {
    this.db.prepare('UPDATE vector_tables SET state = ? WHERE table_name = ?').run(state, name);
  }
}

/** The table registry port over SQLite. */
export class SqliteTableRegistry implements TableRegistry {
  constructor(readonly sql: RegistrySql) {}

  serving(): Promise<ServingTable | null> {
    return run(() => this.sql.serving());
  }
  get(name: string): Promise<TableInfo | null> {
    return run(() => this.sql.get(name));
  }
  list(): Promise<TableInfo[]> {
    return run(() => this.sql.list());
  }
  nextName(base: string): Promise<string> {
    return run(() => this.sql.nextName(base));
  }
  register(
    name: string,
    modelId: string,
    dim: number,
    pipelineVersion: string,
    state: TableState,
    nowMs: number,
  ): Promise<void> {
    return run(() => this.sql.register(name, modelId, dim, pipelineVersion, state, nowMs));
  }
  registerServing(
    name: string,
    modelId: string,
    dim: number,
    pipelineVersion: string,
    nowMs: number,
  ): Promise<void> {
    return run(() => this.sql.registerServing(name, modelId, dim, pipelineVersion, nowMs));
  }
  swap(name: string, nowMs: number): Promise<void> {
    return run(() => this.sql.swap(name, nowMs));
  }
  rollback(nowMs: number, exists: (name: string) => boolean): Promise<{ from: string; to: string } | null> {
    return run(() => this.sql.rollback(nowMs, exists));
  }
  setState(name: string, state: TableState): Promise<void> {
    return run(() => this.sql.setState(name, state));
  }
}
