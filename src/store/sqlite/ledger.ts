import type { BronzeEvent } from '../../ports/bronze.js';
import { SeamlineError } from '../../errors/errors.js';
import { WORKER_LEASE_PREFIX } from '../../ports/leases.js';
import { holderDead } from '../../runtime/holder.js';
import {
  batchIdFor,
  type BatchClaim,
  type BatchCounts,
  type BatchRow,
  type BatchTotals,
  type CommitIncidents,
  type FileSearchable,
  type KeyState,
  type Lane,
  type Ledger,
  type Segment,
} from '../../ports/ledger.js';
import type { Sqlite } from './db.js';
import { IncidentsSql, SqliteIncidents } from './incidents.js';
import { LanesSql, SqliteLanes } from './lanes.js';
import { ReplaysSql, SqliteReplays } from './replays.js';
import { asyncPages, batchFrom, run, type DbBatch } from './rows.js';

/** The SQLite ledger of micro-batches, plus the key state that makes late versions no-ops (synchronous). */
export class LedgerSql {
  constructor(private readonly db: Sqlite) {}

  /** The batch to run next in a lane: a planned or failed one (re-run with exactly the same segments). */
  pendingBatch(tableName: string, lane?: Lane): BatchRow | null {
    const r = (
      lane
        ? this.db
            .prepare(
              `SELECT * FROM batches WHERE table_name = ? AND lane = ? AND state IN ('planned','failed') ORDER BY seq_from LIMIT 1`,
            )
            .get(tableName, lane)
        : this.db
            .prepare(
              `SELECT * FROM batches WHERE table_name = ? AND state IN ('planned','failed') ORDER BY seq_from LIMIT 1`,
            )
            .get(tableName)
    ) as DbBatch | undefined;
    return r ? batchFrom(r) : null;
  }

  /**
   * The contiguous watermark: every published record with seq ≤ this is committed to the table (the
   * live lane may have committed records above it). See LaneLedger.watermark.
   */
  committedUpTo(tableName: string): number {
    return this.lanes().watermark(tableName);
  }

  /** Per-file progress, segments and lane queries on the same database. */
  lanes(): LanesSql {
    return (this.laneLedger ??= new LanesSql(this.db));
  }
  private laneLedger: LanesSql | null = null;

  /**
   * Plans a batch over file segments in one transaction: the batch row, its segments, and each file's
   * planned mark. A segment must start after its file's planned mark (files are planned in seq order).
   */
  plan(
    tableName: string,
    lane: Lane,
    segments: readonly Segment[],
    modelId: string,
    pipelineVersion: string,
    nowMs: number,
    claim?: BatchClaim,
  ): BatchRow {
    if (segments.length === 0) throw new SeamlineError('INTERNAL', 'a batch needs at least one segment');
    const nonEmpty = segments.filter((g) => g.records > 0);
    const from = nonEmpty.length ? Math.min(...nonEmpty.map((g) => g.seqFrom)) : 0;
    const to = nonEmpty.length ? Math.max(...nonEmpty.map((g) => g.seqTo)) : 0;
    // Empty segments (files of only quarantined lines) are named by their file instead.
    const id = nonEmpty.length ? batchIdFor(tableName, from, to) : `${tableName}:f${segments[0]!.fileId}`;
    return this.inTransaction(() => {
      this.db
        .prepare(
          `INSERT INTO batches (batch_id, table_name, seq_from, seq_to, lane, state, planned_at_ms, model_id, pipeline_version, claimed_by, claim_expires_at_ms) VALUES (?, ?, ?, ?, ?, 'planned', ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          tableName,
          from,
          to,
          lane,
          nowMs,
          modelId,
          pipelineVersion,
          claim?.owner ?? null,
          claim ? nowMs + claim.ttlMs : null,
        );
      const seg = this.db.prepare(
        'INSERT INTO batch_segments (batch_id, file_id, seq_from, seq_to, records) VALUES (?, ?, ?, ?, ?)',
      );
      const mark = this.db.prepare(
        'UPDATE file_progress SET planned_to = ?, planned_records = planned_records + ? WHERE table_name = ? AND file_id = ? AND planned_to < ?',
      );
      for (const g of segments) {
        seg.run(id, g.fileId, g.seqFrom, g.seqTo, g.records);
        if (mark.run(g.seqTo, g.records, tableName, g.fileId, g.seqFrom).changes !== 1)
          throw new SeamlineError(
            'LEDGER_CONFLICT',
            `file ${g.fileId} of ${tableName} is already planned past seq ${g.seqFrom}`,
            { retryable: true },
          );
      }
      return this.batch(id)!;
    });
  }

  /** The lane's lowest pending batch no live worker holds, claimed for `claim.owner` (one immediate transaction). */
  claimPending(tableName: string, lane: Lane, claim: BatchClaim, nowMs: number): BatchRow | null {
    return this.inTransaction(() => {
      const rows = this.db
        .prepare(
          `SELECT b.batch_id, b.claimed_by, (COALESCE(b.claim_expires_at_ms, 0) > ? AND EXISTS (
             SELECT 1 FROM leases l WHERE l.name = ? || b.claimed_by AND l.expires_at_ms > ?)) AS live
           FROM batches b WHERE b.table_name = ? AND b.lane = ? AND b.state IN ('planned','failed') ORDER BY b.seq_from LIMIT 32`,
        )
        .all(nowMs, WORKER_LEASE_PREFIX, nowMs, tableName, lane) as {
        batch_id: string;
        claimed_by: string | null;
        live: number;
      }[];
      const free = rows.find(
        (r) =>
          r.claimed_by === null || r.claimed_by === claim.owner || r.live === 0 || holderDead(r.claimed_by),
      );
      if (!free) return null;
      this.db
        .prepare('UPDATE batches SET claimed_by = ?, claim_expires_at_ms = ? WHERE batch_id = ?')
        .run(claim.owner, nowMs + claim.ttlMs, free.batch_id);
      return this.batch(free.batch_id);
    });
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

  /**
   * Marks a batch committed (with the next commit number of its table) and moves its files' committed
   * marks; returns the files that became fully searchable with it. Call inside a transaction.
   */
  commit(batchId: string, tableVersion: number, counts: BatchCounts, nowMs: number): FileSearchable[] {
    const r = this.db
      .prepare(
        `UPDATE batches SET state = 'committed', committed_at_ms = ?, table_version = ?, records_in = ?, ids_touched = ?, rows_inserted = ?, rows_updated = ?, rows_deleted = ?, texts_embedded = ?, texts_reused = ?, error = NULL,
           commit_no = (SELECT COALESCE(MAX(b2.commit_no), 0) + 1 FROM batches b2 WHERE b2.table_name = batches.table_name)
         WHERE batch_id = ? AND state != 'committed'`,
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
    const b = this.batch(batchId)!;
    const mark = this.db.prepare(
      `UPDATE file_progress SET committed_to = ?, committed_records = committed_records + ?,
         searchable_at_ms = CASE WHEN ? >= seq_to THEN ? ELSE searchable_at_ms END
       WHERE table_name = ? AND file_id = ? AND committed_to < ?`,
    );
    const done: FileSearchable[] = [];
    for (const g of this.lanes().segments(batchId)) {
      mark.run(g.seqTo, g.records, g.seqTo, nowMs, b.tableName, g.fileId, g.seqTo);
      const p = this.lanes().progress(b.tableName, g.fileId);
      if (p && g.seqTo >= p.seqTo && p.searchableAtMs === nowMs)
        done.push({
          fileId: p.fileId,
          lane: p.lane,
          records: p.records,
          completeAtMs: p.completeAtMs,
          landedAtMs: p.landedAtMs,
          queuedAtMs: p.queuedAtMs,
          plannedAtMs: b.plannedAtMs,
          searchableAtMs: nowMs,
        });
    }
    return done;
  }

  /** commit() and closing the batch's open incidents, in one immediate transaction (the port's commit). */
  commitBatch(
    batchId: string,
    tableVersion: number,
    counts: BatchCounts,
    nowMs: number,
    closeIncidents: CommitIncidents = 'resolved',
  ): FileSearchable[] {
    return this.inTransaction(() => {
      const done = this.commit(batchId, tableVersion, counts, nowMs);
      this.incidents().close(batchId, closeIncidents, nowMs);
      return done;
    });
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

  batchTotals(tableName: string): BatchTotals {
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
  incidents(): IncidentsSql {
    return new IncidentsSql(this.db);
  }

  /** The reconcile / replay runs on the same database. */
  replays(): ReplaysSql {
    return new ReplaysSql(this.db);
  }

  /** Runs fn in one immediate SQLite transaction (several ledger writes that must land together). */
  inTransaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** The landed files a batch reads from, for the quarantine gate (files of only bad lines included). */
  batchInputFiles(batchId: string): { files: number; read: number; quarantined: number } {
    return this.lanes().inputFiles(batchId);
  }

  /** Records in and rows changed of the table's last `limit` committed batches, newest first (output gate history). */
  recentOutputs(tableName: string, limit: number): { recordsIn: number; rowsOut: number }[] {
    return this.db
      .prepare(
        `SELECT records_in AS recordsIn, rows_inserted + rows_updated + rows_deleted AS rowsOut FROM batches WHERE table_name = ? AND state = 'committed' AND records_in IS NOT NULL ORDER BY commit_no DESC LIMIT ?`,
      )
      .all(tableName, limit) as { recordsIn: number; rowsOut: number }[];
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

  /** Distinct record ids in the segments of those batches. */
  idsOfCommittedAbove(tableName: string, version: number): string[] {
    return (
      this.db
        .prepare(
          `SELECT DISTINCT b.record_id AS id FROM batches t JOIN batch_segments s ON s.batch_id = t.batch_id
           JOIN bronze b ON b.file_id = s.file_id AND b.seq BETWEEN s.seq_from AND s.seq_to
           WHERE t.table_name = ? AND t.state = 'committed' AND t.table_version > ? ORDER BY b.record_id`,
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

/** The ledger port over SQLite: each method one transaction (or one statement) of `LedgerSql`. */
export class SqliteLedger implements Ledger {
  private readonly lanePort: SqliteLanes;
  private readonly incidentPort: SqliteIncidents;
  private readonly replayPort: SqliteReplays;

  constructor(readonly sql: LedgerSql) {
    this.lanePort = new SqliteLanes(sql.lanes());
    this.incidentPort = new SqliteIncidents(sql.incidents());
    this.replayPort = new SqliteReplays(sql.replays());
  }

  lanes(): SqliteLanes {
    return this.lanePort;
  }
  incidents(): SqliteIncidents {
    return this.incidentPort;
  }
  replays(): SqliteReplays {
    return this.replayPort;
  }
  pendingBatch(tableName: string, lane?: Lane): Promise<BatchRow | null> {
    return run(() => this.sql.pendingBatch(tableName, lane));
  }
  committedUpTo(tableName: string): Promise<number> {
    return run(() => this.sql.committedUpTo(tableName));
  }
  plan(
    tableName: string,
    lane: Lane,
    segments: readonly Segment[],
    modelId: string,
    pipelineVersion: string,
    nowMs: number,
    claim?: BatchClaim,
  ): Promise<BatchRow> {
    return run(() => this.sql.plan(tableName, lane, segments, modelId, pipelineVersion, nowMs, claim));
  }
  claimPending(tableName: string, lane: Lane, claim: BatchClaim, nowMs: number): Promise<BatchRow | null> {
    return run(() => this.sql.claimPending(tableName, lane, claim, nowMs));
  }
  batch(batchId: string): Promise<BatchRow | null> {
    return run(() => this.sql.batch(batchId));
  }
  markAttempt(batchId: string): Promise<void> {
    return run(() => this.sql.markAttempt(batchId));
  }
  commit(
    batchId: string,
    tableVersion: number,
    counts: BatchCounts,
    nowMs: number,
    closeIncidents?: CommitIncidents,
  ): Promise<FileSearchable[]> {
    return run(() => this.sql.commitBatch(batchId, tableVersion, counts, nowMs, closeIncidents));
  }
  fail(batchId: string, error: string): Promise<void> {
    return run(() => this.sql.fail(batchId, error));
  }
  batches(tableName?: string, limit?: number): Promise<BatchRow[]> {
    return run(() => this.sql.batches(tableName, limit));
  }
  batchTotals(tableName: string): Promise<BatchTotals> {
    return run(() => this.sql.batchTotals(tableName));
  }
  lastCommittedVersion(tableName: string): Promise<number | null> {
    return run(() => this.sql.lastCommittedVersion(tableName));
  }
  batchInputFiles(batchId: string): Promise<{ files: number; read: number; quarantined: number }> {
    return run(() => this.sql.batchInputFiles(batchId));
  }
  recentOutputs(tableName: string, limit: number): Promise<{ recordsIn: number; rowsOut: number }[]> {
    return run(() => this.sql.recentOutputs(tableName, limit));
  }
  committedAbove(tableName: string, version: number): Promise<BatchRow[]> {
    return run(() => this.sql.committedAbove(tableName, version));
  }
  idsOfCommittedAbove(tableName: string, version: number): Promise<string[]> {
    return run(() => this.sql.idsOfCommittedAbove(tableName, version));
  }
  fold(events: readonly BronzeEvent[], unsafeLastWins?: boolean): Promise<void> {
    return run(() => this.sql.fold(events, unsafeLastWins));
  }
  keyStates(ids: readonly string[]): Promise<Map<string, KeyState>> {
    return run(() => this.sql.keyStates(ids));
  }
  allKeyStates(pageSize?: number): AsyncIterable<KeyState[]> {
    return asyncPages(this.sql.allKeyStates(pageSize));
  }
  allKeyIds(pageSize?: number): AsyncIterable<string[]> {
    return asyncPages(this.sql.allKeyIds(pageSize));
  }
  keyStateCounts(): Promise<{ ids: number; live: number; deleted: number }> {
    return run(() => this.sql.keyStateCounts());
  }
}
