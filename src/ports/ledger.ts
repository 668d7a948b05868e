import type { BronzeEvent } from './bronze.js';

/**
 * The ledger port (docs/architecture.md): micro-batches planned → committed per serving table, the
 * per-file lane progress, and the key state that makes late versions no-ops.
 *
 * Every method is one atomic operation (one transaction in the adapter); callers never open
 * transactions and never expect two calls to be atomic together. Isolation each write needs is written
 * on the method. Several workers (issue 16) may call `plan`, `commit` and `fold` concurrently for the
 * same table: the guards below (marks only move forward, `state != 'committed'`) make the loser fail with
 * LEDGER_CONFLICT instead of double-counting.
 */

/** The processor's two lanes (docs/processor.md#lanes). */
export type Lane = 'live' | 'backlog';
export const LANES: readonly Lane[] = ['live', 'backlog'];

/** Why a file joined its lane (stored in file_progress, shown by status). */
export type LaneReason = 'fresh' | 'large' | 'burst' | 'old' | 'startup' | 'empty' | 'upgrade';

export type BatchState = 'planned' | 'committed' | 'failed';

/** One file's share of a batch: the records of file `fileId` with seq in [seqFrom, seqTo]. */
export interface Segment {
  readonly fileId: number;
  readonly seqFrom: number;
  readonly seqTo: number;
  readonly records: number;
}

export interface BatchRow {
  readonly batchId: string;
  readonly tableName: string;
  readonly seqFrom: number;
  readonly seqTo: number;
  /** The lane that planned it; a batch covers file segments (lanes().segments), not all of seqFrom..seqTo. */
  readonly lane: Lane;
  readonly state: BatchState;
  readonly plannedAtMs: number;
  readonly committedAtMs: number | null;
  readonly tableVersion: number | null;
  readonly attempts: number;
  readonly error: string | null;
}

export interface BatchCounts {
  readonly recordsIn: number;
  readonly idsTouched: number;
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
  readonly rowsDeleted: number;
  readonly textsEmbedded: number;
  readonly textsReused: number;
}

export interface BatchTotals {
  readonly [state: string]: number;
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
  readonly rowsDeleted: number;
  readonly textsEmbedded: number;
  readonly textsReused: number;
}

export interface KeyState {
  readonly id: string;
  readonly version: number;
  readonly eventTimeMs: number;
  readonly seq: number;
  readonly deleted: boolean;
}

/** A landed file's progress through one table (one row of file_progress). */
export interface FileProgress {
  readonly tableName: string;
  readonly fileId: number;
  readonly lane: Lane;
  readonly reason: LaneReason;
  readonly seqFrom: number;
  readonly seqTo: number;
  readonly records: number;
  readonly completeAtMs: number;
  readonly landedAtMs: number;
  readonly queuedAtMs: number;
  /** Highest seq of this file a planned batch covers (seqFrom − 1 when none). */
  readonly plannedTo: number;
  readonly plannedRecords: number;
  /** Highest seq of this file a committed batch covers: the file's records ≤ this are published. */
  readonly committedTo: number;
  readonly committedRecords: number;
  readonly searchableAtMs: number | null;
}

/** A file that became fully searchable in a table with a commit (the freshness metric's sample). */
export interface FileSearchable {
  readonly fileId: number;
  readonly lane: Lane;
  readonly records: number;
  readonly completeAtMs: number;
  readonly landedAtMs: number;
  readonly queuedAtMs: number;
  /** When the batch that finished the file was planned. */
  readonly plannedAtMs: number;
  readonly searchableAtMs: number;
}

/** Facts about a landed file the lane classifier reads. */
export interface LandedFile {
  readonly fileId: number;
  readonly seqFrom: number | null;
  readonly seqTo: number | null;
  readonly records: number;
  readonly mtimeMs: number;
  readonly landedAtMs: number;
  /** When landing decided the file was complete (null for rows landed before that was recorded). */
  readonly completeAtMs: number | null;
}

/** Classifies a newly seen file into its lane. Pure and synchronous: it runs inside `discover`'s transaction. */
export type LaneClassifier = (
  f: LandedFile,
  liveQueuedRecords: number,
) => { lane: Lane; reason: LaneReason; completeAtMs: number };

export type IncidentStatus = 'open' | 'resolved' | 'waived';

/** Lanes per lane: files and records not yet searchable, and the oldest waiting file's queue time. */
export type LaneBacklog = Record<Lane, { files: number; records: number; oldestQueuedAtMs: number | null }>;

/**
 * Per (table, file) progress and lane cursors (docs/decisions/processor-lanes-ledger.md): a file joins
 * a table's progress when first seen published (`discover`), batches cover file segments, a file's
 * planned/committed marks only move forward.
 */
export interface Lanes {
  /**
   * Adds every published file the table has not seen yet, in file-id order, classifying each with
   * `classify` (which sees the live queue grow), and moves the table's lane cursor below the oldest
   * file still landing — one transaction (SERIALIZABLE or a table lock on the cursor row: two workers
   * discovering at once must not both insert a file; the insert is also keyed (table, file)).
   * Returns the number of files added.
   */
  discover(tableName: string, nowMs: number, classify: LaneClassifier): Promise<number>;
  /** Files of a lane with records not yet planned, oldest file first. */
  openFiles(tableName: string, lane: Lane, limit: number): Promise<FileProgress[]>;
  /** The seq of the n-th record (1-based) of a file after `afterSeq`, or null when it has fewer. */
  nthSeqAfter(fileId: number, afterSeq: number, n: number): Promise<number | null>;
  /** Records of a lane not yet in any planned batch. */
  unplannedRecords(tableName: string, lane: Lane): Promise<number>;
  /** Per lane: files and records not yet searchable (planned or not), and the oldest waiting file's queue time. */
  backlog(tableName: string): Promise<LaneBacklog>;
  /** Published records the table has not discovered yet (landed since the last planning pass). */
  undiscovered(tableName: string): Promise<{ files: number; records: number }>;
  progress(tableName: string, fileId: number): Promise<FileProgress | null>;
  /** Files that became fully searchable in the table at or after `sinceMs` (freshness samples). */
  recentSearchable(tableName: string, sinceMs: number): Promise<FileSearchable[]>;
  segments(batchId: string): Promise<Segment[]>;
  /** The bronze records of some segments, in seq order. */
  eventsForSegments(segs: readonly Segment[]): Promise<BronzeEvent[]>;
  /** Published records (files verified/unverified) with seq in [from, to], in seq order. */
  publishedEventsInRange(from: number, to: number): Promise<BronzeEvent[]>;
  /**
   * The table's contiguous watermark: every published record with seq ≤ the result is committed to the
   * table (the live lane may have committed records above it). One consistent snapshot.
   */
  watermark(tableName: string): Promise<number>;
  /** Monotonic count of the table's commits (the reindex catch-up's mark). */
  commitMark(tableName: string): Promise<number>;
  /** The commit mark and the watermark read in one snapshot (REPEATABLE READ: the reindex catch-up pairs them). */
  markAndWatermark(tableName: string): Promise<{ mark: number; watermark: number }>;
  /** Distinct record ids of the batches committed to a table with commit mark in (afterMark, upToMark]. */
  idsCommittedBetween(tableName: string, afterMark: number, upToMark: number): Promise<string[]>;
  /** Quarantine-gate input of a batch: its files (visible ones), records read and quarantined. */
  inputFiles(batchId: string): Promise<{ files: number; read: number; quarantined: number }>;
}

/** Incidents: batches a gate (or a loud check) refused, stalls; listed by status. */
export interface Incident {
  readonly incidentId: number;
  readonly atMs: number;
  readonly pipeline: string;
  readonly runId: string;
  readonly batchId: string | null;
  readonly failureMode: string;
  readonly affectedRows: number;
  readonly guard: string;
  readonly status: IncidentStatus;
  readonly detail: Readonly<Record<string, unknown>> | null;
}

export interface NewIncident {
  readonly atMs: number;
  readonly pipeline: string;
  readonly runId: string;
  readonly batchId: string;
  readonly failureMode: string;
  readonly affectedRows: number;
  readonly guard: string;
  readonly message: string;
}

export interface Incidents {
  /**
   * Records that a batch failed. One open incident per (batch, failure mode): a retry that fails the
   * same way bumps its `attempts` and refreshes run id and counts instead of adding rows. Read-then-write
   * in one transaction that two workers cannot both pass as "absent" (SQLite: the write lock; PostgreSQL:
   * a partial unique index on the open (batch, failure mode) with `INSERT … ON CONFLICT`, or an advisory
   * transaction lock on the batch id).
   */
  record(i: NewIncident): Promise<Incident>;
  /** Closes the open incidents of a batch: 'resolved', or 'waived' when an operator waived its gates. Atomic. */
  close(batchId: string, status: Exclude<IncidentStatus, 'open'>, nowMs: number): Promise<number>;
  get(id: number): Promise<Incident | null>;
  /** Newest first. */
  list(limit?: number, status?: IncidentStatus): Promise<Incident[]>;
  openCount(): Promise<number>;
}

export type ReplayKind = 'reconcile' | 'replay';

export interface ReplayRow {
  readonly replayId: string;
  readonly tableName: string;
  readonly kind: ReplayKind;
  readonly state: 'planned' | 'committed';
  /** reconcile: the table version found at startup (batches above it are re-materialized). */
  readonly fromVersion: number | null;
  /** reconcile: the ledger's highest committed table version at that moment. */
  readonly ledgerVersion: number | null;
  /** replay: bronze is folded up to this seq. */
  readonly upToSeq: number | null;
  readonly plannedAtMs: number;
  readonly committedAtMs: number | null;
  readonly tableVersion: number | null;
  readonly idsTouched: number | null;
  readonly rowsInserted: number | null;
  readonly rowsUpdated: number | null;
  readonly rowsDeleted: number | null;
  readonly textsEmbedded: number | null;
  readonly textsReused: number | null;
}

export interface ReplayCounts {
  readonly idsTouched: number;
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
  readonly rowsDeleted: number;
  readonly textsEmbedded: number;
  readonly textsReused: number;
}

/** Reconcile and replay runs: planned before the first write, committed after the last (resumable). */
export interface Replays {
  pending(tableName: string, kind: ReplayKind): Promise<ReplayRow | null>;
  /** Plans a run with id `TABLE:KIND:N` (N = runs of that kind so far + 1): count and insert in one transaction. */
  plan(
    tableName: string,
    kind: ReplayKind,
    p: { fromVersion?: number; ledgerVersion?: number; upToSeq?: number },
    nowMs: number,
  ): Promise<ReplayRow>;
  commit(replayId: string, tableVersion: number, c: ReplayCounts, nowMs: number): Promise<void>;
  /**
   * Ends a reconcile atomically: the batches recorded above `fromVersion` are re-pointed at
   * `tableVersion` (which now holds them) and the run is committed, in one transaction.
   */
  commitReconcile(
    replayId: string,
    tableName: string,
    fromVersion: number,
    tableVersion: number,
    c: ReplayCounts,
    nowMs: number,
  ): Promise<void>;
  get(replayId: string): Promise<ReplayRow | null>;
  list(tableName?: string, limit?: number): Promise<ReplayRow[]>;
}

/** Who runs a planned batch (several workers, issue 16) and for how long at most. */
export interface BatchClaim {
  /** The worker's holder string (host:pid); its liveness is its `worker:<owner>` lease. */
  readonly owner: string;
  /** The claim lapses after this long even if the owner still looks alive (a hung worker). */
  readonly ttlMs: number;
}

/** How a commit closes the batch's open incidents. */
export type CommitIncidents = Exclude<IncidentStatus, 'open'>;

/**
 * Batches and key state. `lanes()`, `incidents()`, `replays()` are the same store's ports for those
 * parts (no transaction spans two of them; the atomic moves that need several parts are single methods
 * here, e.g. `commit`).
 */
export interface Ledger {
  lanes(): Lanes;
  incidents(): Incidents;
  replays(): Replays;

  /** The batch to run next in a lane (or any lane): a planned or failed one, lowest seq first. */
  pendingBatch(tableName: string, lane?: Lane): Promise<BatchRow | null>;
  /** The contiguous watermark (see Lanes.watermark). */
  committedUpTo(tableName: string): Promise<number>;
  /**
   * Plans a batch over file segments in one transaction: the batch row, its segments, and each file's
   * planned mark. A segment must start after its file's planned mark (conditional update): a concurrent
   * planner that took the same file first makes this call fail with LEDGER_CONFLICT, `retryable: true`,
   * and nothing is written — the caller reads the open files again and plans anew. (With several workers
   * an atomic "claim and plan the next files" method with `FOR UPDATE SKIP LOCKED` avoids the lost work;
   * NOTES-pg.md #3.)
   */
  plan(
    tableName: string,
    lane: Lane,
    segments: readonly Segment[],
    modelId: string,
    pipelineVersion: string,
    nowMs: number,
    claim?: BatchClaim,
  ): Promise<BatchRow>;
  /**
   * Several workers (issue 16): claims the lane's next batch to run — a planned or failed one, lowest seq
   * first, that no live worker has claimed (unclaimed, claimed by `claim.owner` itself, claim expired, or
   * its owner gone: no unexpired `worker:<owner>` lease, or a dead process of this host) — and records the
   * claim, in one transaction. Two workers claiming at once never get the same batch and never wait for
   * each other (PostgreSQL: `FOR UPDATE SKIP LOCKED` on the candidates, then the claim; SQLite: the write
   * lock). Null when there is none.
   */
  claimPending(tableName: string, lane: Lane, claim: BatchClaim, nowMs: number): Promise<BatchRow | null>;
  batch(batchId: string): Promise<BatchRow | null>;
  /** Counts another attempt of a planned/failed batch (state back to planned). */
  markAttempt(batchId: string): Promise<void>;
  /**
   * Commits a batch in one transaction: state committed with the table version it produced and the next
   * commit number of its table, its files' committed marks moved, and its open incidents closed as
   * `closeIncidents`. Fails with LEDGER_CONFLICT (nothing written) when the batch is already committed or
   * was never planned. The commit number needs the table's batches serialized (SQLite: the write lock;
   * PostgreSQL: a row lock per table or SERIALIZABLE). Returns the files that became fully searchable.
   *
   * A file's committed mark covers only a **committed prefix** of the file: every segment at or below it is
   * committed (the watermark, "searchable", verify and the reindex catch-up rely on it). With one processor
   * per table, a file's batches commit in seq order (a lane runs its pending batch first), so the SQLite
   * adapter moves the mark to the segment's end; a store whose workers may commit two segments of one file
   * out of order must derive the mark from the committed segments (NOTES-pg.md #11).
   */
  commit(
    batchId: string,
    tableVersion: number,
    counts: BatchCounts,
    nowMs: number,
    closeIncidents?: CommitIncidents,
  ): Promise<FileSearchable[]>;
  /** Marks a batch failed with the error (never a committed one). */
  fail(batchId: string, error: string): Promise<void>;
  /** Newest first (by seq for a table, by plan time for all). */
  batches(tableName?: string, limit?: number): Promise<BatchRow[]>;
  batchTotals(tableName: string): Promise<BatchTotals>;
  lastCommittedVersion(tableName: string): Promise<number | null>;
  /** The landed files a batch reads from, for the quarantine gate (files of only bad lines included). */
  batchInputFiles(batchId: string): Promise<{ files: number; read: number; quarantined: number }>;
  /** Records in and rows changed of the table's last `limit` committed batches, newest first (output gate). */
  recentOutputs(tableName: string, limit: number): Promise<{ recordsIn: number; rowsOut: number }[]>;
  /** Committed batches whose recorded table version is above `version` (lost if the table is at `version`). */
  committedAbove(tableName: string, version: number): Promise<BatchRow[]>;
  /** Distinct record ids in the segments of those batches. */
  idsOfCommittedAbove(tableName: string, version: number): Promise<string[]>;

  /**
   * Folds events into the key state: per id keep the highest (version, event time, seq), one transaction
   * of conditional upserts (commutative and idempotent, so concurrent folds of different batches need no
   * more than row locks). Implementations must take the id locks in a fixed order (sort by id) so two
   * concurrent folds cannot deadlock. `unsafeLastWins` (test-only) drops the ordering so the crash
   * harness can prove it notices.
   */
  fold(events: readonly BronzeEvent[], unsafeLastWins?: boolean): Promise<void>;
  keyStates(ids: readonly string[]): Promise<Map<string, KeyState>>;
  /** Every key state in pages ordered by id (each page its own read: no snapshot across pages). */
  allKeyStates(pageSize?: number): AsyncIterable<KeyState[]>;
  /** Every id in key state, paged like allKeyStates. */
  allKeyIds(pageSize?: number): AsyncIterable<string[]>;
  keyStateCounts(): Promise<{ ids: number; live: number; deleted: number }>;
}

/**
 * Deterministic batch id from the smallest and largest seq of its segments: segments of different
 * batches never share a record, so no two batches of a table share their first seq.
 */
export function batchIdFor(tableName: string, seqFrom: number, seqTo: number): string {
  return `${tableName}:${seqFrom}-${seqTo}`;
}
