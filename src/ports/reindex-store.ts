export type JobState = 'building' | 'catching_up' | 'gating' | 'swapped' | 'failed' | 'abandoned';
export const ACTIVE_STATES: readonly JobState[] = ['building', 'catching_up', 'gating'];

/** A reindex job as recorded: the resumable state of a build and what `status` reports. */
export interface ReindexJob {
  readonly jobId: number;
  readonly tableName: string;
  readonly sourceTable: string;
  readonly modelId: string;
  readonly dim: number;
  /** Model, pipeline version and chunking the build used: a job resumes only under the same key. */
  readonly settingsKey: string;
  readonly state: JobState;
  /** The source table's commit mark when the build started: catch-up replays everything after it. */
  readonly baseSeq: number;
  /** Every batch the source table committed up to this commit mark is in the new table. */
  readonly caughtUpSeq: number;
  /** Last key-state id built (ids are built in id order). */
  readonly cursorId: string;
  readonly recordsTotal: number;
  readonly recordsDone: number;
  readonly rowsWritten: number;
  readonly textsEmbedded: number;
  readonly textsReused: number;
  readonly rateRps: number | null;
  readonly etaMs: number | null;
  readonly gates: unknown;
  readonly error: string | null;
  readonly pid: number | null;
  readonly attempts: number;
  readonly startedAtMs: number;
  readonly updatedAtMs: number;
  readonly finishedAtMs: number | null;
}

export interface JobProgress {
  readonly cursorId?: string;
  readonly recordsDone?: number;
  readonly rowsWritten?: number;
  readonly textsEmbedded?: number;
  readonly textsReused?: number;
  readonly caughtUpSeq?: number;
  readonly rateRps?: number | null;
  readonly etaMs?: number | null;
  readonly state?: JobState;
}

export interface BuildCounters {
  readonly rowsWritten: number;
  readonly textsEmbedded: number;
  readonly textsReused: number;
}

/** One key-state entry (the build's pages are the key state in id order). */
export interface KeyRow {
  readonly id: string;
  readonly seq: number;
  readonly deleted: boolean;
}

export interface ServingTable {
  readonly tableName: string;
  readonly modelId: string;
  readonly dim: number;
}

export interface NewJob {
  /** Table names are BASE_vN, N above every registered table and not in `onDisk` (orphans are never reused). */
  readonly tableBaseName: string;
  readonly onDisk: ReadonlySet<string>;
  readonly sourceTable: string;
  readonly modelId: string;
  readonly dim: number;
  readonly pipelineVersion: string;
  readonly settingsKey: string;
}

export interface SwapRequest {
  readonly jobId: number;
  readonly tableName: string;
  readonly sourceTable: string;
  /** The source's commit mark the new table is caught up to: the swap happens only if it is still current. */
  readonly caughtUpSeq: number;
  readonly tableVersion: number;
  readonly modelId: string;
  readonly pipelineVersion: string;
  readonly counters: BuildCounters;
}

export type SwapOutcome =
  | { readonly kind: 'swapped' }
  /** The source committed after the last catch-up: catch up again, then retry. */
  | { readonly kind: 'behind' }
  /** Serving is no longer the source table (rollback or another swap): the job cannot swap. */
  | { readonly kind: 'serving-moved'; readonly servingNow: string | null };

/**
 * The reindex job's store: its job rows, the key state it builds from, the source table's commit
 * marks, and the serving pointer. Every method is one atomic operation (one transaction in the
 * adapter); `create`, `abandon`, `fail` and `swapIfUnchanged` need serializable isolation (the SQLite
 * adapter takes the write lock up front; PostgreSQL must lock the serving pointer row).
 */
export interface ReindexStore {
  serving(): Promise<ServingTable | null>;
  active(): Promise<ReindexJob | null>;
  latest(): Promise<ReindexJob | null>;
  get(jobId: number): Promise<ReindexJob | null>;
  /** Registry state of a table ('building', 'serving', …), null when not registered. */
  tableState(tableName: string): Promise<string | null>;
  /** Registers the new table as building and records the job with the key-state size and the source's commit mark. */
  create(j: NewJob, nowMs: number): Promise<ReindexJob>;
  /** A resumed job: counts this attempt and records the new pid. */
  resume(jobId: number, nowMs: number): Promise<ReindexJob>;
  /** The job is abandoned (superseded) and its table, if still building, marked failed. */
  abandon(jobId: number, reason: string, nowMs: number): Promise<void>;
  /** The job failed (a gate, a conflict) and its table is marked failed; serving is untouched. */
  fail(jobId: number, message: string, nowMs: number): Promise<void>;
  progress(jobId: number, p: JobProgress, nowMs: number): Promise<void>;
  setGates(jobId: number, gates: unknown, nowMs: number): Promise<void>;
  /** The key state after `afterId` in id order. */
  keyPage(afterId: string, limit: number): Promise<KeyRow[]>;
  /** One snapshot of the source table: its commit mark (both lanes) and its contiguous watermark. */
  sourceMarks(sourceTable: string): Promise<{ commitMark: number; watermark: number }>;
  /** Ids the source table committed in (afterMark, upToMark]. */
  idsCommittedBetween(sourceTable: string, afterMark: number, upToMark: number): Promise<string[]>;
  /**
   * Swaps serving to the new table only if serving is still the source and nothing committed to it
   * since `caughtUpSeq`; gives the new table the source's coverage and finishes the job, all at once.
   */
  swapIfUnchanged(s: SwapRequest, nowMs: number): Promise<SwapOutcome>;
}
