/**
 * The table registry and the serving pointer (docs/architecture.md). LanceDB OSS has no rename or alias,
 * so tables are versioned (BASE_vN) and the one that serves is a row in the store: a swap or a rollback is
 * one transaction. Every method is one atomic operation; callers never compose two expecting atomicity.
 * The reindex job's composite moves (create the job with its table, swap-if-unchanged with the coverage
 * copy) are single methods of the reindex jobs port, implemented over the same tables.
 */

export type TableState = 'building' | 'serving' | 'retired' | 'failed';

export interface TableInfo {
  readonly tableName: string;
  readonly modelId: string;
  readonly dim: number;
  readonly pipelineVersion: string;
  readonly state: TableState;
  readonly createdAtMs: number;
}

export type ServingTable = TableInfo & { readonly previous: string | null };

export interface TableRegistry {
  /** The table the serving pointer names, with the rollback target; null before the first table. */
  serving(): Promise<ServingTable | null>;
  get(name: string): Promise<TableInfo | null>;
  /** Oldest first. */
  list(): Promise<TableInfo[]>;
  /** Next free versioned name for a base: BASE_v1, BASE_v2, … (above every registered one). */
  nextName(base: string): Promise<string>;
  register(
    name: string,
    modelId: string,
    dim: number,
    pipelineVersion: string,
    state: TableState,
    nowMs: number,
  ): Promise<void>;
  /**
   * Registers the first table and points serving at it, in one transaction (a crash leaves either
   * nothing or a serving table). Fails with LEDGER_CONFLICT, writing nothing, when something already serves
   * (another process created it first: the caller reads `serving()` again).
   */
  registerServing(
    name: string,
    modelId: string,
    dim: number,
    pipelineVersion: string,
    nowMs: number,
  ): Promise<void>;
  /** Points serving at `name` in one transaction; the old table becomes retired and `previous` (rollback target). */
  swap(name: string, nowMs: number): Promise<void>;
  /**
   * Points serving back at `previous` in one transaction (read and write under the write lock: SERIALIZABLE
   * or `SELECT … FOR UPDATE` on the pointer row). The table it replaces becomes the new `previous`, so a
   * second rollback rolls forward. Null when there is nothing to go back to. `exists` (pure, synchronous:
   * it runs inside the transaction) says whether a table's data is still on disk.
   */
  rollback(nowMs: number, exists: (name: string) => boolean): Promise<{ from: string; to: string } | null>;
  setState(name: string, state: TableState): Promise<void>;
}
