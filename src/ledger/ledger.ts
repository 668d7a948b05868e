import type { BronzeEvent } from '../bronze/bronze.js';
import type { Sqlite } from '../db/sqlite.js';
import { SeamlineError } from '../errors/errors.js';
import { Incidents } from './incidents.js';
import { Replays } from './replays.js';

export type BatchState = 'planned' | 'committed' | 'failed';

export interface BatchRow {
  readonly batchId: string;
  readonly tableName: string;
  readonly seqFrom: number;
  readonly seqTo: number;
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

export interface KeyState {
  readonly id: string;
  readonly version: number;
  readonly eventTimeMs: number;
  readonly seq: number;
  readonly deleted: boolean;
}

type DbBatch = {
  batch_id: string;
  table_name: string;
  seq_from: number;
  seq_to: number;
  state: BatchState;
  planned_at_ms: number;
  committed_at_ms: number | null;
  table_version: number | null;
  attempts: number;
  error: string | null;
};
const batchFrom = (r: DbBatch): BatchRow => ({
  batchId: r.batch_id,
  tableName: r.table_name,
  seqFrom: r.seq_from,
  seqTo: r.seq_to,
  state: r.state,
  plannedAtMs: r.planned_at_ms,
  committedAtMs: r.committed_at_ms,
  tableVersion: r.table_version,
  attempts: r.attempts,
  error: r.error,
});

/** Deterministic batch id: the same table and bronze range always give the same id. */
export function batchIdFor(tableName: string, seqFrom: number, seqTo: number): string {
  return `${tableName}:${seqFrom}-${seqTo}`;
}

/** The SQLite ledger of micro-batches, plus the key state that makes late versions no-ops. */
export class Ledger {
  constructor(private readonly db: Sqlite) {}

  /** The batch to run next for a table: a planned one (re-run with exactly the same input) first. */
  pendingBatch(tableName: string): BatchRow | null {
    const r = this.db
      .prepare(
        `SELECT * FROM batches WHERE table_name = ? AND state IN ('planned','failed') ORDER BY seq_from LIMIT 1`,
      )
      .get(tableName) as DbBatch | undefined;
    return r ? batchFrom(r) : null;
  }

  /** Highest bronze seq any batch of this table covers (0 when none). */
  coveredUpTo(tableName: string): number {
    return (
      this.db
        .prepare('SELECT COALESCE(MAX(seq_to), 0) AS s FROM batches WHERE table_name = ?')
        .get(tableName) as { s: number }
    ).s;
  }

  committedUpTo(tableName: string): number {
    return (
      this.db
        .prepare(
          `SELECT COALESCE(MAX(seq_to), 0) AS s FROM batches WHERE table_name = ? AND state = 'committed'`,
        )
        .get(tableName) as { s: number }
    ).s;
  }

  plan(
    tableName: string,
    seqFrom: number,
    seqTo: number,
    modelId: string,
    pipelineVersion: string,
    nowMs: number,
  ): BatchRow {
    const id = batchIdFor(tableName, seqFrom, seqTo);
    this.db
      .prepare(
        `INSERT INTO batches (batch_id, table_name, seq_from, seq_to, state, planned_at_ms, model_id, pipeline_version) VALUES (?, ?, ?, ?, 'planned', ?, ?, ?)`,
      )
      .run(id, tableName, seqFrom, seqTo, nowMs, modelId, pipelineVersion);
    return this.batch(id)!;
  }

  batch(batchId: string): BatchRow | null {
    const r = this.db.prepare('SELECT * FROM batches WHERE batch_id = ?').get(batchId) as DbBatch | undefined;
    return r ? batchFrom(r) : null;
  }

  markAttempt(batchId: string): void {
    this.db
      .prepare(
        `UPDATE batches SET attempts = attempts + 1, state = 'planned' WHERE batch_id = ? AND state != 'committed'`,
      )
      .run(batchId);
  }

  commit(batchId: string, tableVersion: number, counts: BatchCounts, nowMs: number): void {
    const r = this.db
      .prepare(
        `UPDATE batches SET state = 'committed', committed_at_ms = ?, table_version = ?, records_in = ?, ids_touched = ?, rows_inserted = ?, rows_updated = ?, rows_deleted = ?, texts_embedded = ?, texts_reused = ?, error = NULL WHERE batch_id = ? AND state != 'committed'`,
      )
      .run(
        nowMs,
        tableVersion,
        counts.recordsIn,
        counts.idsTouched,
        counts.rowsInserted,
        counts.rowsUpdated,
        counts.rowsDeleted,
        counts.textsEmbedded,
        counts.textsReused,
        batchId,
      );
    if (r.changes !== 1)
      throw new SeamlineError(
        'LEDGER_CONFLICT',
        `batch ${batchId} was not in a committable state (already committed by another writer, or never planned)`,
      );
  }

  fail(batchId: string, error: string): void {
    this.db
      .prepare(`UPDATE batches SET state = 'failed', error = ? WHERE batch_id = ? AND state != 'committed'`)
      .run(error, batchId);
  }

  batches(tableName?: string, limit = 50): BatchRow[] {
    const rows = tableName
      ? (this.db
          .prepare('SELECT * FROM batches WHERE table_name = ? ORDER BY seq_from DESC LIMIT ?')
          .all(tableName, limit) as DbBatch[])
      : (this.db
          .prepare('SELECT * FROM batches ORDER BY planned_at_ms DESC LIMIT ?')
          .all(limit) as DbBatch[]);
    return rows.map(batchFrom);
  }

  batchTotals(tableName: string): Record<string, number> & {
    rowsInserted: number;
    rowsUpdated: number;
    rowsDeleted: number;
    textsEmbedded: number;
    textsReused: number;
  } {
    const by: Record<string, number> = {};
    for (const r of this.db
      .prepare('SELECT state, COUNT(*) AS n FROM batches WHERE table_name = ? GROUP BY state')
      .all(tableName) as { state: string; n: number }[])
      by[r.state] = r.n;
    const s = this.db
      .prepare(
        `SELECT COALESCE(SUM(rows_inserted),0) AS i, COALESCE(SUM(rows_updated),0) AS u, COALESCE(SUM(rows_deleted),0) AS d, COALESCE(SUM(texts_embedded),0) AS e, COALESCE(SUM(texts_reused),0) AS r FROM batches WHERE table_name = ? AND state = 'committed'`,
      )
      .get(tableName) as { i: number; u: number; d: number; e: number; r: number };
    return {
      ...by,
      rowsInserted: s.i,
      rowsUpdated: s.u,
      rowsDeleted: s.d,
      textsEmbedded: s.e,
      textsReused: s.r,
    };
  }

  lastCommittedVersion(tableName: string): number | null {
    const r = this.db
      .prepare(`SELECT MAX(table_version) AS v FROM batches WHERE table_name = ? AND state = 'committed'`)
      .get(tableName) as { v: number | null };
    return r.v;
  }

  /** The incidents table on the same database. */
  incidents(): Incidents {
    return new Incidents(this.db);
  }

  /** The reconcile / replay runs on the same database. */
  replays(): Replays {
    return new Replays(this.db);
  }

  /** Runs fn in one immediate SQLite transaction (several ledger writes that must land together). */
  inTransaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /**
   * The landed files a batch reads from, for the quarantine gate: files whose id lies after the file of
   * the last record before the batch and up to the file of its last record. Fully quarantined files
   * (no bronze records) fall in that window too, so a file of only bad lines still counts.
   */
  batchInputFiles(seqFrom: number, seqTo: number): { files: number; read: number; quarantined: number } {
    const lo =
      (
        this.db.prepare('SELECT file_id FROM bronze WHERE seq < ? ORDER BY seq DESC LIMIT 1').get(seqFrom) as
          { file_id: number } | undefined
      )?.file_id ?? 0;
    const hi = (
      this.db.prepare('SELECT file_id FROM bronze WHERE seq <= ? ORDER BY seq DESC LIMIT 1').get(seqTo) as
        { file_id: number } | undefined
    )?.file_id;
    if (hi === undefined) return { files: 0, read: 0, quarantined: 0 };
    const r = this.db
      .prepare(
        `SELECT COUNT(*) AS n, COALESCE(SUM(records_read),0) AS r, COALESCE(SUM(records_quarantined),0) AS q FROM files WHERE file_id > ? AND file_id <= ? AND state IN ('verified','unverified')`,
      )
      .get(lo, hi) as { n: number; r: number; q: number };
    return { files: r.n, read: r.r, quarantined: r.q };
  }

  /** Records in and rows changed of the last `limit` committed batches of a table below seqFrom (output gate history). */
  recentOutputs(
    tableName: string,
    beforeSeq: number,
    limit: number,
  ): { recordsIn: number; rowsOut: number }[] {
    return this.db
      .prepare(
        `SELECT records_in AS recordsIn, rows_inserted + rows_updated + rows_deleted AS rowsOut FROM batches WHERE table_name = ? AND state = 'committed' AND seq_to < ? AND records_in IS NOT NULL ORDER BY seq_to DESC LIMIT ?`,
      )
      .all(tableName, beforeSeq, limit) as { recordsIn: number; rowsOut: number }[];
  }

  /** Committed batches whose recorded table version is above `version` (lost if the table is at `version`). */
  committedAbove(tableName: string, version: number): BatchRow[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM batches WHERE table_name = ? AND state = 'committed' AND table_version > ? ORDER BY seq_from`,
        )
        .all(tableName, version) as DbBatch[]
    ).map(batchFrom);
  }

  /** Distinct record ids in the bronze ranges of those batches. */
  idsOfCommittedAbove(tableName: string, version: number): string[] {
    return (
      this.db
        .prepare(
          `SELECT DISTINCT b.record_id AS id FROM batches t JOIN bronze b ON b.seq BETWEEN t.seq_from AND t.seq_to WHERE t.table_name = ? AND t.state = 'committed' AND t.table_version > ? ORDER BY b.record_id`,
        )
        .all(tableName, version) as { id: string }[]
    ).map((r) => r.id);
  }

  /** After a reconcile: batches recorded above `aboveVersion` are now realized in `newVersion`. */
  rebaseVersions(tableName: string, aboveVersion: number, newVersion: number): number {
    return this.db
      .prepare(
        `UPDATE batches SET table_version = ? WHERE table_name = ? AND state = 'committed' AND table_version > ?`,
      )
      .run(newVersion, tableName, aboveVersion).changes;
  }

  /** Every id in key state (paged, ordered by id). */
  *allKeyIds(pageSize = 5000): Generator<string[]> {
    for (const page of this.allKeyStates(pageSize)) yield page.map((k) => k.id);
  }

  /**
   * Folds events into the key state: for each id keep the highest (version, event time, seq).
   * Idempotent: folding the same events again changes nothing. `unsafeLastWins` (test-only) drops
   * the ordering so the crash harness can prove it notices.
   */
  fold(events: readonly BronzeEvent[], unsafeLastWins = false): void {
    const guard = unsafeLastWins
      ? ''
      : 'WHERE (excluded.version, excluded.event_time_ms, excluded.seq) > (key_state.version, key_state.event_time_ms, key_state.seq)';
    const stmt = this.db.prepare(
      `INSERT INTO key_state (record_id, version, event_time_ms, seq, deleted) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(record_id) DO UPDATE SET version = excluded.version, event_time_ms = excluded.event_time_ms, seq = excluded.seq, deleted = excluded.deleted ${guard}`,
    );
    this.db
      .transaction(() => {
        for (const e of events) stmt.run(e.id, e.version, e.eventTimeMs, e.seq, e.op === 'delete' ? 1 : 0);
      })
      .immediate();
  }

  keyStates(ids: readonly string[]): Map<string, KeyState> {
    const stmt = this.db.prepare(
      'SELECT record_id, version, event_time_ms, seq, deleted FROM key_state WHERE record_id = ?',
    );
    const out = new Map<string, KeyState>();
    for (const id of ids) {
      const r = stmt.get(id) as
        | { record_id: string; version: number; event_time_ms: number; seq: number; deleted: number }
        | undefined;
      if (r)
        out.set(id, {
          id: r.record_id,
          version: r.version,
          eventTimeMs: r.event_time_ms,
          seq: r.seq,
          deleted: r.deleted === 1,
        });
    }
    return out;
  }

  *allKeyStates(pageSize = 5000): Generator<KeyState[]> {
    let after = '';
    const stmt = this.db.prepare(
      'SELECT record_id, version, event_time_ms, seq, deleted FROM key_state WHERE record_id > ? ORDER BY record_id LIMIT ?',
    );
    for (;;) {
      const rows = stmt.all(after, pageSize) as {
        record_id: string;
        version: number;
        event_time_ms: number;
        seq: number;
        deleted: number;
      }[];
      if (rows.length === 0) return;
      yield rows.map((r) => ({
        id: r.record_id,
        version: r.version,
        eventTimeMs: r.event_time_ms,
        seq: r.seq,
        deleted: r.deleted === 1,
      }));
      after = rows[rows.length - 1]!.record_id;
    }
  }

  keyStateCounts(): { ids: number; live: number; deleted: number } {
    const r = this.db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(deleted),0) AS d FROM key_state').get() as {
      n: number;
      d: number;
    };
    return { ids: r.n, live: r.n - r.d, deleted: r.d };
  }
}
