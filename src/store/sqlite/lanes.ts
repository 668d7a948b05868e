import type { BronzeEvent } from '../../ports/bronze.js';
import type {
  FileProgress,
  FileSearchable,
  Lane,
  LaneBacklog,
  LaneClassifier,
  Lanes,
  Segment,
} from '../../ports/ledger.js';
import type { Sqlite } from './db.js';
import { EVENT_COLS, eventFrom, progressFrom, run, VISIBLE, type DbEvent, type DbProgress } from './rows.js';

/**
 * Per (table, file) progress: the ledger's coverage of bronze once batches no longer cover one
 * contiguous seq range per table (docs/decisions/processor-lanes-ledger.md). A file joins a table's
 * progress when the processor first sees it published (discover), with its lane; batches cover file
 * segments; a file's planned/committed marks only move forward, in its own seq order.
 */
export class LanesSql {
  constructor(private readonly db: Sqlite) {}

  /**
   * Adds every published file the table has not seen yet, classifying each as it goes (files in
   * file-id order; `classify` sees the live lane's queue grow). Files still landing stay behind the
   * table's cursor and are picked up once they publish (they may publish after later files).
   * Returns the number of files added.
   */
  discover(tableName: string, nowMs: number, classify: LaneClassifier): number {
    return this.db
      .transaction((): number => {
        const cur =
          (
            this.db
              .prepare('SELECT settled_file_id AS s FROM lane_cursors WHERE table_name = ?')
              .get(tableName) as { s: number } | undefined
          )?.s ?? 0;
        const files = this.db
          .prepare(
            `SELECT f.file_id, f.seq_from, f.seq_to, f.records_landed, f.mtime_ms, f.landed_at_ms, f.complete_at_ms FROM files f
             WHERE f.file_id > ? AND f.state IN ${VISIBLE}
               AND NOT EXISTS (SELECT 1 FROM file_progress p WHERE p.table_name = ? AND p.file_id = f.file_id)
             ORDER BY f.file_id`,
          )
          .all(cur, tableName) as {
          file_id: number;
          seq_from: number | null;
          seq_to: number | null;
          records_landed: number;
          mtime_ms: number;
          landed_at_ms: number;
          complete_at_ms: number | null;
        }[];
        let liveQueued = this.unplannedRecords(tableName, 'live');
        const ins = this.db.prepare(
          `INSERT INTO file_progress (table_name, file_id, lane, reason, seq_from, seq_to, records, complete_at_ms, landed_at_ms, queued_at_ms, planned_to, committed_to)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        for (const f of files) {
          const records = f.seq_from === null ? 0 : f.records_landed;
          const c = classify(
            {
              fileId: f.file_id,
              seqFrom: f.seq_from,
              seqTo: f.seq_to,
              records,
              mtimeMs: f.mtime_ms,
              landedAtMs: f.landed_at_ms,
              completeAtMs: f.complete_at_ms,
            },
            liveQueued,
          );
          // A file without records (all quarantined) still passes through one batch: the quarantine gate counts it.
          const from = f.seq_from ?? 0;
          const to = f.seq_to ?? 0;
          const before = f.seq_from === null ? -1 : from - 1;
          ins.run(
            tableName,
            f.file_id,
            c.lane,
            c.reason,
            from,
            to,
            records,
            c.completeAtMs,
            f.landed_at_ms,
            nowMs,
            before,
            before,
          );
          if (c.lane === 'live') liveQueued += records;
        }
        // The cursor stops below the oldest file still landing: it may publish after newer files.
        const settled = this.db
          .prepare(
            `SELECT COALESCE((SELECT MIN(file_id) - 1 FROM files WHERE state = 'landing' AND file_id > ?), (SELECT COALESCE(MAX(file_id), 0) FROM files)) AS s`,
          )
          .get(cur) as { s: number };
        if (settled.s > cur)
          this.db
            .prepare(
              `INSERT INTO lane_cursors (table_name, settled_file_id) VALUES (?, ?) ON CONFLICT(table_name) DO UPDATE SET settled_file_id = excluded.settled_file_id`,
            )
            .run(tableName, settled.s);
        return files.length;
      })
      .immediate();
  }

  /** Files of a lane with records not yet planned, oldest file first. */
  openFiles(tableName: string, lane: Lane, limit: number): FileProgress[] {
    return (
      this.db
        .prepare(
          'SELECT * FROM file_progress WHERE table_name = ? AND lane = ? AND planned_to < seq_to ORDER BY file_id LIMIT ?',
        )
        .all(tableName, lane, limit) as DbProgress[]
    ).map(progressFrom);
  }

  /** The seq of the n-th record (1-based) of a file after `afterSeq`, or null when it has fewer. */
  nthSeqAfter(fileId: number, afterSeq: number, n: number): number | null {
    const r = this.db
      .prepare('SELECT seq FROM bronze WHERE file_id = ? AND seq > ? ORDER BY seq LIMIT 1 OFFSET ?')
      .get(fileId, afterSeq, n - 1) as { seq: number } | undefined;
    return r?.seq ?? null;
  }

  /** Records of a lane not yet in any planned batch. */
  unplannedRecords(tableName: string, lane: Lane): number {
    return (
      this.db
        .prepare(
          'SELECT COALESCE(SUM(records - planned_records), 0) AS n FROM file_progress WHERE table_name = ? AND lane = ? AND planned_to < seq_to',
        )
        .get(tableName, lane) as { n: number }
    ).n;
  }

  /** Per lane: files and records not yet searchable (planned or not), and the oldest waiting file's queue time. */
  backlog(tableName: string): LaneBacklog {
    const out: LaneBacklog = {
      live: { files: 0, records: 0, oldestQueuedAtMs: null },
      backlog: { files: 0, records: 0, oldestQueuedAtMs: null },
    };
    for (const r of this.db
      .prepare(
        'SELECT lane, COUNT(*) AS n, COALESCE(SUM(records - committed_records), 0) AS rec, MIN(queued_at_ms) AS q FROM file_progress WHERE table_name = ? AND committed_to < seq_to GROUP BY lane',
      )
      .all(tableName) as { lane: Lane; n: number; rec: number; q: number | null }[])
      out[r.lane] = { files: r.n, records: r.rec, oldestQueuedAtMs: r.q };
    return out;
  }

  /** Published records the table has not discovered yet (landed since the last planning pass). */
  undiscovered(tableName: string): { files: number; records: number } {
    const cur =
      (
        this.db
          .prepare('SELECT settled_file_id AS s FROM lane_cursors WHERE table_name = ?')
          .get(tableName) as { s: number } | undefined
      )?.s ?? 0;
    const r = this.db
      .prepare(
        `SELECT COUNT(*) AS n, COALESCE(SUM(records_landed), 0) AS rec FROM files f WHERE f.file_id > ? AND f.state IN ${VISIBLE}
         AND NOT EXISTS (SELECT 1 FROM file_progress p WHERE p.table_name = ? AND p.file_id = f.file_id)`,
      )
      .get(cur, tableName) as { n: number; rec: number };
    return { files: r.n, records: r.rec };
  }

  progress(tableName: string, fileId: number): FileProgress | null {
    const r = this.db
      .prepare('SELECT * FROM file_progress WHERE table_name = ? AND file_id = ?')
      .get(tableName, fileId) as DbProgress | undefined;
    return r ? progressFrom(r) : null;
  }

  /** Files that became fully searchable in the table at or after `sinceMs` (freshness samples). */
  recentSearchable(tableName: string, sinceMs: number): FileSearchable[] {
    return (
      this.db
        .prepare(
          `SELECT p.file_id, p.lane, p.records, p.complete_at_ms, p.landed_at_ms, p.queued_at_ms, p.searchable_at_ms,
             COALESCE((SELECT t.planned_at_ms FROM batch_segments s JOIN batches t ON t.batch_id = s.batch_id
               WHERE s.file_id = p.file_id AND t.table_name = p.table_name AND s.seq_to = p.seq_to LIMIT 1), p.queued_at_ms) AS planned_at_ms
           FROM file_progress p WHERE p.table_name = ? AND p.searchable_at_ms >= ? ORDER BY p.searchable_at_ms`,
        )
        .all(tableName, sinceMs) as {
        file_id: number;
        lane: Lane;
        records: number;
        complete_at_ms: number;
        landed_at_ms: number;
        queued_at_ms: number;
        searchable_at_ms: number;
        planned_at_ms: number;
      }[]
    ).map((r) => ({
      fileId: r.file_id,
      lane: r.lane,
      records: r.records,
      completeAtMs: r.complete_at_ms,
      landedAtMs: r.landed_at_ms,
      queuedAtMs: r.queued_at_ms,
      plannedAtMs: r.planned_at_ms,
      searchableAtMs: r.searchable_at_ms,
    }));
  }

  segments(batchId: string): Segment[] {
    return (
      this.db
        .prepare(
          'SELECT file_id, seq_from, seq_to, records FROM batch_segments WHERE batch_id = ? ORDER BY seq_from, file_id',
        )
        .all(batchId) as { file_id: number; seq_from: number; seq_to: number; records: number }[]
    ).map((r) => ({ fileId: r.file_id, seqFrom: r.seq_from, seqTo: r.seq_to, records: r.records }));
  }

  /** The bronze records of some segments, in seq order. */
  eventsForSegments(segs: readonly Segment[]): BronzeEvent[] {
    const stmt = this.db.prepare(
      `SELECT ${EVENT_COLS} FROM bronze b JOIN files f ON f.file_id = b.file_id WHERE b.file_id = ? AND b.seq BETWEEN ? AND ? ORDER BY b.seq`,
    );
    const out: BronzeEvent[] = [];
    for (const s of segs)
      for (const r of stmt.all(s.fileId, s.seqFrom, s.seqTo) as DbEvent[]) out.push(eventFrom(r));
    if (segs.length > 1) out.sort((a, b) => a.seq - b.seq);
    return out;
  }

  /** Published records (files verified/unverified) with seq in [from, to], in seq order. */
  publishedEventsInRange(from: number, to: number): BronzeEvent[] {
    return (
      this.db
        .prepare(
          `SELECT ${EVENT_COLS} FROM bronze b JOIN files f ON f.file_id = b.file_id WHERE b.seq BETWEEN ? AND ? AND f.state IN ${VISIBLE} ORDER BY b.seq`,
        )
        .all(from, to) as DbEvent[]
    ).map(eventFrom);
  }

  /**
   * The table's contiguous watermark: every published record with seq ≤ the result is committed to the
   * table (records above it may be committed too: the live lane runs ahead of the backlog).
   */
  watermark(tableName: string): number {
    const cur =
      (
        this.db
          .prepare('SELECT settled_file_id AS s FROM lane_cursors WHERE table_name = ?')
          .get(tableName) as { s: number } | undefined
      )?.s ?? 0;
    const r = this.db
      .prepare(
        `SELECT MIN(s) AS s FROM (
           SELECT MIN(committed_to) AS s FROM file_progress WHERE table_name = ? AND committed_to < seq_to
           UNION ALL
           SELECT MIN(f.seq_from) - 1 FROM files f WHERE f.file_id > ? AND f.state IN ${VISIBLE} AND f.seq_from IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM file_progress p WHERE p.table_name = ? AND p.file_id = f.file_id)
           UNION ALL
           SELECT MIN(b.seq) - 1 FROM bronze b JOIN files f ON f.file_id = b.file_id WHERE f.state = 'landing'
           UNION ALL
           SELECT COALESCE(MAX(seq), 0) FROM bronze
         )`,
      )
      .get(tableName, cur, tableName) as { s: number | null };
    return Math.max(0, r.s ?? 0);
  }

  /**
   * A predicate "is this bronze seq committed to the table": seqs at or below the watermark are; above
   * it, the record's file and that file's committed mark decide (one lookup per seq).
   */
  committedPredicate(tableName: string): (seq: number) => boolean {
    const wm = this.watermark(tableName);
    const fileOf = this.db.prepare('SELECT file_id FROM bronze WHERE seq = ?');
    const marks = new Map<number, number>();
    for (const r of this.db
      .prepare('SELECT file_id, committed_to FROM file_progress WHERE table_name = ? AND committed_to > ?')
      .all(tableName, wm) as { file_id: number; committed_to: number }[])
      marks.set(r.file_id, r.committed_to);
    return (seq) => {
      if (seq <= wm) return true;
      const f = fileOf.get(seq) as { file_id: number } | undefined;
      if (!f) return false;
      const m = marks.get(f.file_id);
      return m !== undefined && seq <= m;
    };
  }

  /** Monotonic count of the table's commits (the reindex catch-up's mark). */
  commitMark(tableName: string): number {
    return (
      this.db
        .prepare('SELECT COALESCE(MAX(commit_no), 0) AS n FROM batches WHERE table_name = ?')
        .get(tableName) as { n: number }
    ).n;
  }

  /** The commit mark and the watermark in one read transaction (the reindex catch-up pairs them). */
  markAndWatermark(tableName: string): { mark: number; watermark: number } {
    return this.db
      .transaction(() => ({ mark: this.commitMark(tableName), watermark: this.watermark(tableName) }))
      .deferred();
  }

  /** Distinct record ids of the batches committed to a table with commit mark in (afterMark, upToMark]. */
  idsCommittedBetween(tableName: string, afterMark: number, upToMark: number): string[] {
    return (
      this.db
        .prepare(
          `SELECT DISTINCT b.record_id AS id FROM batches t JOIN batch_segments s ON s.batch_id = t.batch_id
           JOIN bronze b ON b.file_id = s.file_id AND b.seq BETWEEN s.seq_from AND s.seq_to
           WHERE t.table_name = ? AND t.state = 'committed' AND t.commit_no > ? AND t.commit_no <= ? ORDER BY b.record_id`,
        )
        .all(tableName, afterMark, upToMark) as { id: string }[]
    ).map((r) => r.id);
  }

  /**
   * Gives `toTable` the coverage `fromTable` has committed (the reindex swap: the new table holds
   * everything the old one published), as one committed batch whose segments are each file's
   * committed prefix, plus the file progress rows. Call inside the swap transaction.
   */
  copyCoverage(
    fromTable: string,
    toTable: string,
    batchId: string,
    nowMs: number,
  ): { files: number; records: number } {
    const rows = this.db
      .prepare(
        'SELECT * FROM file_progress WHERE table_name = ? AND (committed_to >= seq_from OR seq_from = 0) ORDER BY file_id',
      )
      .all(fromTable) as DbProgress[];
    const seg = this.db.prepare(
      'INSERT OR IGNORE INTO batch_segments (batch_id, file_id, seq_from, seq_to, records) VALUES (?, ?, ?, ?, ?)',
    );
    let records = 0;
    for (const r of rows) {
      if (r.committed_to < r.seq_from) continue;
      seg.run(batchId, r.file_id, r.seq_from, r.committed_to, r.committed_records);
      records += r.committed_records;
    }
    this.db
      .prepare(
        `INSERT OR REPLACE INTO file_progress (table_name, file_id, lane, reason, seq_from, seq_to, records, complete_at_ms, landed_at_ms, queued_at_ms, planned_to, planned_records, committed_to, committed_records, searchable_at_ms)
         SELECT ?, file_id, lane, reason, seq_from, seq_to, records, complete_at_ms, landed_at_ms, ?, committed_to, committed_records, committed_to, committed_records, searchable_at_ms
         FROM file_progress WHERE table_name = ?`,
      )
      .run(toTable, nowMs, fromTable);
    this.db
      .prepare(
        `INSERT INTO lane_cursors (table_name, settled_file_id) SELECT ?, settled_file_id FROM lane_cursors WHERE table_name = ?
         ON CONFLICT(table_name) DO UPDATE SET settled_file_id = excluded.settled_file_id`,
      )
      .run(toTable, fromTable);
    return { files: rows.length, records };
  }

  /** Quarantine-gate input of a batch: its files (visible ones), records read and quarantined. */
  inputFiles(batchId: string): { files: number; read: number; quarantined: number } {
    const r = this.db
      .prepare(
        `SELECT COUNT(*) AS n, COALESCE(SUM(f.records_read),0) AS r, COALESCE(SUM(f.records_quarantined),0) AS q
         FROM batch_segments s JOIN files f ON f.file_id = s.file_id WHERE s.batch_id = ? AND f.state IN ${VISIBLE}`,
      )
      .get(batchId) as { n: number; r: number; q: number };
    return { files: r.n, read: r.r, quarantined: r.q };
  }
}

/** The lanes port over SQLite. */
export class SqliteLanes implements Lanes {
  constructor(readonly sql: LanesSql) {}

  discover(tableName: string, nowMs: number, classify: LaneClassifier): Promise<number> {
    return run(() => this.sql.discover(tableName, nowMs, classify));
  }
  openFiles(tableName: string, lane: Lane, limit: number): Promise<FileProgress[]> {
    return run(() => this.sql.openFiles(tableName, lane, limit));
  }
  nthSeqAfter(fileId: number, afterSeq: number, n: number): Promise<number | null> {
    return run(() => this.sql.nthSeqAfter(fileId, afterSeq, n));
  }
  unplannedRecords(tableName: string, lane: Lane): Promise<number> {
    return run(() => this.sql.unplannedRecords(tableName, lane));
  }
  backlog(tableName: string): Promise<LaneBacklog> {
    return run(() => this.sql.backlog(tableName));
  }
  undiscovered(tableName: string): Promise<{ files: number; records: number }> {
    return run(() => this.sql.undiscovered(tableName));
  }
  progress(tableName: string, fileId: number): Promise<FileProgress | null> {
    return run(() => this.sql.progress(tableName, fileId));
  }
  recentSearchable(tableName: string, sinceMs: number): Promise<FileSearchable[]> {
    return run(() => this.sql.recentSearchable(tableName, sinceMs));
  }
  segments(batchId: string): Promise<Segment[]> {
    return run(() => this.sql.segments(batchId));
  }
  eventsForSegments(segs: readonly Segment[]): Promise<BronzeEvent[]> {
    return run(() => this.sql.eventsForSegments(segs));
  }
  publishedEventsInRange(from: number, to: number): Promise<BronzeEvent[]> {
    return run(() => this.sql.publishedEventsInRange(from, to));
  }
  watermark(tableName: string): Promise<number> {
    return run(() => this.sql.watermark(tableName));
  }
  commitMark(tableName: string): Promise<number> {
    return run(() => this.sql.commitMark(tableName));
  }
  markAndWatermark(tableName: string): Promise<{ mark: number; watermark: number }> {
    return run(() => this.sql.markAndWatermark(tableName));
  }
  idsCommittedBetween(tableName: string, afterMark: number, upToMark: number): Promise<string[]> {
    return run(() => this.sql.idsCommittedBetween(tableName, afterMark, upToMark));
  }
  inputFiles(batchId: string): Promise<{ files: number; read: number; quarantined: number }> {
    return run(() => this.sql.inputFiles(batchId));
  }
}
