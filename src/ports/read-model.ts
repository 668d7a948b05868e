/**
 * Read models (docs/architecture.md): the bounded listings of `seamline files|batches|quarantine` and the
 * status page, the ledger counters of `/metrics` and `status`, the committed-batch activity that the
 * histograms and the status page's hour are folded from, and verify's reads. Read-only; each method is
 * one consistent read (READ COMMITTED per statement is enough unless a method says otherwise). An
 * adapter opened read-only (the listing commands beside a live daemon) implements all of it.
 */

export interface FileActivity {
  readonly fileId: number;
  readonly path: string;
  readonly format: string;
  readonly state: string;
  readonly detail: string | null;
  readonly read: number;
  readonly landed: number;
  readonly quarantined: number;
  /** Good records of an incomplete file, held back (read − landed − quarantined). */
  readonly withheld: number;
  readonly landedAtMs: number;
  /** Landed records covered by committed batches of the serving table. */
  readonly published: number;
  /** Commit time of the last batch that published one of its records (null while none is). */
  readonly publishedAtMs: number | null;
  /** Landing → fully searchable, in ms (null until every landed record is published). */
  readonly landToSearchableMs: number | null;
  /** The processor lane that took the file (null until the processor has seen it). */
  readonly lane: string | null;
}

export interface BatchActivity {
  readonly batchId: string;
  readonly table: string;
  readonly state: string;
  /** The processor lane (live/backlog) when the ledger records one; null on ledgers without lanes. */
  readonly lane: string | null;
  readonly seqFrom: number;
  readonly seqTo: number;
  readonly records: number | null;
  readonly idsTouched: number | null;
  readonly rowsInserted: number | null;
  readonly rowsUpdated: number | null;
  readonly rowsDeleted: number | null;
  readonly textsEmbedded: number | null;
  readonly textsReused: number | null;
  readonly attempts: number;
  readonly error: string | null;
  readonly modelId: string;
  readonly plannedAtMs: number;
  readonly committedAtMs: number | null;
  /** Plan → commit, in ms (null until committed). */
  readonly durationMs: number | null;
}

export interface QuarantineFilter {
  /** Substring of the landing path. */
  readonly file?: string | undefined;
  /** Exact quarantine code (e.g. MISSING_FIELD). */
  readonly code?: string | undefined;
  /** Only records quarantined at or after this time (epoch ms). */
  readonly sinceMs?: number | undefined;
  readonly limit?: number | undefined;
}

export interface QuarantineListEntry {
  readonly qId: number;
  readonly fileId: number;
  readonly file: string;
  readonly line: number;
  readonly byteOffset: number;
  readonly code: string;
  readonly field: string | null;
  /** The reason, as the contract wrote it. */
  readonly reason: string;
  readonly atMs: number;
  /** The raw bytes, escaped (control, bidi and invisible characters shown as \u{..}) and bounded. */
  readonly excerpt: string;
  readonly rawChars: number;
  readonly truncated: boolean;
}

export interface QuarantineList {
  /** Matching records in all (the listing shows at most `limit`, newest first). */
  readonly total: number;
  readonly entries: readonly QuarantineListEntry[];
}

/** Counters read from the ledger, so they survive restarts and agree across processes. */
export interface LedgerCounters {
  readonly batchesCommitted: number;
  readonly batchesFailedAttempts: number;
  readonly batchesPending: number;
  readonly recordsPublished: number;
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
  readonly rowsDeleted: number;
  readonly textsEmbedded: number;
  readonly textsReused: number;
  readonly gateFailures: number;
  readonly backlogRecords: number;
  readonly newestPublishedEventTimeMs: number | null;
  readonly optimizeRuns: number;
  readonly optimizeConflicts: number;
  readonly incidents: Readonly<Record<string, number>>;
}

/** A committed batch and its records grouped by landing time (histograms and the status page's hour). */
export interface CommittedBatchActivity {
  readonly batchId: string;
  readonly lane: string | null;
  readonly plannedAtMs: number;
  readonly committedAtMs: number;
  /** Records of the batch's segments per bronze landing time. */
  readonly landed: readonly { readonly landedAtMs: number; readonly records: number }[];
}

export interface ReadModel {
  /** The most recent files (newest first), with how much of each `table` has published. */
  recentFiles(opts?: { limit?: number | undefined; table?: string | null }): Promise<FileActivity[]>;
  /** The most recent batches (newest plan first), of one table or of all. */
  recentBatches(opts?: {
    limit?: number | undefined;
    table?: string | null | undefined;
    state?: string | undefined;
  }): Promise<BatchActivity[]>;
  /** Quarantined records matching the filter, newest first, with a safe excerpt of each. */
  listQuarantine(f?: QuarantineFilter): Promise<QuarantineList>;
  /** One quarantined record (drill-down): a longer, still bounded and escaped excerpt; null if absent. */
  quarantineRecord(qId: number): Promise<QuarantineListEntry | null>;
  /** Quarantined records per code, most frequent first, with the latest time each was seen. */
  quarantineByCode(): Promise<{ code: string; count: number; lastAtMs: number }[]>;

  /** Every ledger counter of one table. */
  ledgerCounters(tableName: string): Promise<LedgerCounters>;
  /**
   * Batches of the table committed at or after `sinceMs`, ordered by commit time then batch id; batches
   * in `skip` come back without their `landed` breakdown (already folded by the caller).
   */
  committedActivity(
    tableName: string,
    sinceMs: number,
    skip: ReadonlySet<string>,
  ): Promise<CommittedBatchActivity[]>;

  /** verify: the committed batches of a table, by seq. */
  committedBatchRanges(tableName: string): Promise<{ batchId: string; seqFrom: number; seqTo: number }[]>;
  /** verify: which of these bronze seqs (above the watermark) are committed to the table by their file's mark. */
  committedAmong(tableName: string, seqs: readonly number[]): Promise<Set<number>>;
  /** verify: which of these record ids bronze has ever seen. */
  idsInBronze(ids: readonly string[]): Promise<Set<string>>;
}
