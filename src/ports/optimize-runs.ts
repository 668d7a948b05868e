import type { RegistryTable } from '../optimize/policy.js';

export type RunStatus = 'running' | 'ok' | 'noop' | 'skipped' | 'failed';

/** One optimize pass as recorded in optimize_runs (what status/metrics read). */
export interface OptimizeRunRecord {
  readonly runId: string;
  readonly tableName: string | null;
  readonly startedAtMs: number;
  readonly finishedAtMs: number | null;
  readonly status: RunStatus;
  readonly actions: readonly string[];
  readonly reasons: readonly unknown[];
  readonly rowsBefore: number | null;
  readonly rowsAfter: number | null;
  readonly fragmentsBefore: number | null;
  readonly fragmentsAfter: number | null;
  readonly smallFragmentsBefore: number | null;
  readonly smallFragmentsAfter: number | null;
  readonly versionsBefore: number | null;
  readonly versionsAfter: number | null;
  readonly diskBytesBefore: number | null;
  readonly diskBytesAfter: number | null;
  readonly bytesReclaimed: number | null;
  readonly conflicts: number;
  readonly retries: number;
  readonly writerQuiet: boolean | null;
  readonly writerWaitMs: number | null;
  readonly criticalMs: number | null;
  readonly indexedRows: number | null;
  readonly unindexedRows: number | null;
  readonly indexes: readonly unknown[];
  readonly tablesDropped: readonly string[];
  readonly durationMs: number | null;
  readonly error: string | null;
}

export type RunFields = Partial<Omit<OptimizeRunRecord, 'runId' | 'startedAtMs'>>;

/**
 * The optimize job's store: one row per pass (what status and metrics read) and the table registry
 * as retention sees it. Every method is one atomic operation; none needs more than read-committed.
 */
export interface OptimizeRunStore {
  /** Marks passes still "running" that started before `staleBeforeMs` failed (their process died), then records this one. */
  begin(runId: string, startedAtMs: number, staleBeforeMs: number): Promise<void>;
  update(runId: string, fields: RunFields): Promise<void>;
  get(runId: string): Promise<OptimizeRunRecord | null>;
  /** Every registered table with its retirement and drop times. */
  registry(): Promise<RegistryTable[]>;
  markDropped(tableName: string, nowMs: number): Promise<void>;
}
