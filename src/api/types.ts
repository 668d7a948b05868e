// The library's public types, self-contained so the declarations a user type-checks against do not
// reach the adapters (better-sqlite3, LanceDB) behind them.

/** A file present in the landing folder but not landed yet, and why. */
export interface WaitingFile {
  /** Path relative to the landing folder. */
  readonly rel: string;
  /** e.g. `unstable` (still changing), `manifest` (waiting for its manifest). */
  readonly reason: string;
  readonly detail: string;
}

/** What one `ingest --once` pass did. */
export interface IngestSummary {
  readonly filesLanded: number;
  /** Files present but not landed (still being written, waiting for a manifest, …). */
  readonly waiting: readonly WaitingFile[];
  readonly batches: number;
  readonly records: number;
  readonly inserted: number;
  readonly updated: number;
  readonly deleted: number;
  readonly embedded: number;
  readonly reused: number;
  readonly table: string;
  readonly tableRows: number;
  readonly tableVersion: number;
}
