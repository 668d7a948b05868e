import type { ContractRecord, QuarantineCode } from '../contract/types.js';

/**
 * Bronze: the immutable record store, the file catalog and quarantine (docs/architecture.md).
 *
 * Every method is one atomic operation of the store (one transaction inside the adapter). Callers never
 * compose two calls expecting them to be atomic. Reads need READ COMMITTED at least: a reader must never
 * see the records of a file that has not been published (state 'landing'); a file's records and its
 * catalog row change together in `landSlice` / `finishFile` / `recoverLanding`.
 */

export type FileState = 'landing' | 'verified' | 'unverified' | 'incomplete' | 'failed';

/** What the loader knows about a file before landing it: the catalog row's identity. */
export interface NewFileInfo {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly format: string;
  readonly manifestJson: string | null;
  readonly manifestSha256: string | null;
  /** First byte this row reads (a continuation starts where its parent ended). Default 0. */
  readonly fromByte?: number;
  /** The row whose landed bytes this one continues (bytes appended after landing). */
  readonly continuationOf?: number | null;
  /** Identity of the source (device, inode) when landed. */
  readonly dev?: number | null;
  readonly ino?: number | null;
  /** When the completeness decision said "complete", and by which rule. */
  readonly completeAtMs?: number | null;
  readonly completeBy?: string | null;
}

export interface FileRow {
  readonly fileId: number;
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly format: string;
  readonly state: FileState;
  readonly detail: string | null;
  readonly recordsRead: number;
  readonly recordsLanded: number;
  readonly recordsQuarantined: number;
  readonly seqFrom: number | null;
  readonly seqTo: number | null;
  readonly manifestSha256: string | null;
  readonly landedAtMs: number;
  /** Fields not in the contract first seen in this file (schema drift), once per file. */
  readonly newFields: readonly string[];
  /** Bytes [fromByte, landedBytes) of the source are what this row read (landedBytes = size then). */
  readonly fromByte: number;
  readonly landedBytes: number;
  readonly continuationOf: number | null;
  readonly dev: number | null;
  readonly ino: number | null;
  /** Where the source is after landing (landing folder, archive, pending delete), while watched for growth. */
  readonly storedPath: string | null;
  readonly watchUntilMs: number | null;
  /** When the file became complete (the completeness decision; null for rows from before migration 5). */
  readonly completeAtMs: number | null;
  readonly completeBy: string | null;
}

/** One bronze record with its provenance (file path joined in). */
export interface BronzeEvent {
  readonly seq: number;
  readonly fileId: number;
  readonly file: string;
  readonly line: number;
  readonly offset: number;
  readonly id: string;
  readonly version: number;
  readonly eventTime: string;
  readonly eventTimeMs: number;
  readonly op: 'upsert' | 'delete';
  readonly text: string;
  readonly metadataJson: string;
  readonly landedAtMs: number;
}

export interface QuarantineEntry {
  readonly line: number;
  readonly offset: number;
  readonly code: QuarantineCode;
  readonly field: string | null;
  readonly message: string;
  readonly raw: string;
}

/** A manifest that arrived after its data file landed, or that matches no data file. */
export interface ManifestEvent {
  readonly eventId: number;
  readonly path: string;
  readonly manifestSha256: string;
  readonly state: 'late-match' | 'late-mismatch' | 'orphan';
  readonly fileId: number | null;
  readonly detail: string | null;
  readonly atMs: number;
}

/** A good record of a slice, with where it was read. */
export interface SliceRecord {
  readonly rec: ContractRecord;
  readonly line: number;
  readonly offset: number;
}

export interface LandingCounts {
  readonly read: number;
  readonly landed: number;
  readonly quarantined: number;
}

/** Record accounting over the catalog: read = landed + quarantined + withheld. */
export interface BronzeTotals {
  readonly files: Record<string, number>;
  readonly read: number;
  readonly landed: number;
  readonly quarantined: number;
  /** Records that passed the contract in a file that was not published (incomplete). */
  readonly withheld: number;
  readonly bronzeRecords: number;
}

/**
 * One file being landed (returned by `Bronze.beginFile`): records are buffered and written in slices
 * (bounded memory, short write transactions) but stay invisible until `finish` publishes the file.
 * `addRecord` / `addQuarantine` may write a slice when the buffer is full (hence async).
 */
export interface FileLanding {
  readonly fileId: number;
  addRecord(rec: ContractRecord, line: number, offset: number): Promise<void>;
  addQuarantine(q: QuarantineEntry): Promise<void>;
  /** Counts so far, buffered records included. */
  counts(): LandingCounts;
  /** Writes the buffered slice now (one `landSlice`). */
  flush(): Promise<void>;
  /** Makes the file's records visible (verified/unverified), or discards them (incomplete/failed). */
  finish(
    state: Exclude<FileState, 'landing'>,
    detail: string | null,
    newFields: readonly string[],
  ): Promise<FileRow>;
}

/** Landing's side of bronze: write a file's records and catalog row, watch it after landing. */
export interface BronzeWriter {
  /**
   * Removes what a crashed landing left behind (rows in state 'landing', their records and quarantine)
   * in one transaction; returns the paths whose landing must be redone. Run at start-up. With several
   * workers (issue 16) it removes only landings no live worker owns: an adapter shared by workers records
   * its process as the catalog row's `owner` at `beginFile` (migration 7) and keeps the landings whose
   * owner holds an unexpired `worker:<owner>` lease and is not a dead process of this host (the PostgreSQL
   * adapter; docs/decisions/postgres-workers.md). SQLite has one writer: owner NULL, every landing is
   * removed.
   */
  recoverLanding(): Promise<string[]>;
  /** Inserts the catalog row in state 'landing' and returns the writer of its slices. */
  beginFile(info: NewFileInfo, nowMs: number): Promise<FileLanding>;
  /**
   * Appends a slice of a landing file atomically: its bronze records and its quarantine rows, in one
   * transaction. Returns the seq range written (null when the slice held only quarantined lines); the
   * records stay invisible until `finishFile`. Seqs are unique, increase in slice order, and **a slice
   * committed later never has a lower seq than one committed earlier, by any writer** (seq order = commit
   * order: `publishedUpTo` and the lane watermark rely on it). SQLite keeps this with its single write
   * lock; PostgreSQL serializes appends (an advisory transaction lock taken before `nextval`).
   */
  landSlice(
    fileId: number,
    recs: readonly SliceRecord[],
    qs: readonly QuarantineEntry[],
    nowMs: number,
  ): Promise<{ seqFrom: number | null; seqTo: number | null }>;
  /**
   * Publishes (verified/unverified) or withdraws (incomplete: records deleted; failed: records and
   * quarantine deleted) a landing file, with its final counts and seq range, in one transaction.
   */
  finishFile(
    fileId: number,
    state: Exclude<FileState, 'landing'>,
    detail: string | null,
    counts: LandingCounts,
    seqFrom: number | null,
    seqTo: number | null,
    newFields: readonly string[],
  ): Promise<FileRow>;
  /** Records a file refused as a whole (no records landed), e.g. an incomplete manifest match. */
  recordRefused(
    info: NewFileInfo,
    state: 'incomplete' | 'failed',
    detail: string,
    nowMs: number,
    read?: number,
  ): Promise<FileRow>;
  /** Where the source now is and until when it is watched for growth after landing (null: not watched). */
  setStored(fileId: number, storedPath: string | null, watchUntilMs: number | null): Promise<void>;
  /** Records a late or orphan manifest once per (path, content, state); true when new (insert-if-absent). */
  recordManifestEvent(e: Omit<ManifestEvent, 'eventId'>): Promise<boolean>;
}

/** Catalog and record reads (single statements: any isolation level that hides uncommitted rows). */
export interface BronzeReader {
  filesBySha(sha256: string): Promise<FileRow[]>;
  latestFileByPath(path: string): Promise<FileRow | null>;
  file(fileId: number): Promise<FileRow | null>;
  files(): Promise<FileRow[]>;
  /** Landed rows whose source is still watched for growth (including expired watches, to finish them). */
  watchedFiles(): Promise<FileRow[]>;
  /** Newest first. */
  manifestEvents(limit?: number): Promise<ManifestEvent[]>;
  /** Late/orphan manifests recorded, by state. */
  manifestEventCounts(): Promise<Record<string, number>>;
  /** Records with seq in [from, to] (published or not), in seq order. */
  eventsInRange(from: number, to: number): Promise<BronzeEvent[]>;
  /** The records of these seqs (missing ones skipped), in the order given. */
  eventsBySeq(seqs: readonly number[]): Promise<BronzeEvent[]>;
  /** Highest seq written (0 when empty). */
  maxSeq(): Promise<number>;
  /** Highest seq the processor may read: below the first record of any file still landing. */
  publishedUpTo(): Promise<number>;
  quarantineFor(fileId: number): Promise<(QuarantineEntry & { fileId: number })[]>;
  /** Record accounting over the catalog (one read snapshot: the counts agree with each other). */
  totals(): Promise<BronzeTotals>;
  /** Quarantined records per reason code (all files). */
  quarantineByCode(): Promise<Record<string, number>>;
}

/** The bronze port: what landing writes and what the processor, status and reindex read. */
export interface Bronze extends BronzeWriter, BronzeReader {}
