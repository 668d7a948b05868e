import { clampLimit, EXCERPT_CHARS, RECORD_CHARS } from '../../observability/activity.js';
import type {
  BatchActivity,
  CommittedBatchActivity,
  FileActivity,
  LedgerCounters,
  QuarantineFilter,
  QuarantineList,
  QuarantineListEntry,
  ReadModel,
} from '../../ports/read-model.js';
import {
  batchActivityFrom,
  type DbBatchActivity,
  type DbBatchCounters,
  type DbFileActivity,
  type DbFileProgress,
  type DbQuarantine,
  fileActivityFrom,
  ledgerCountersFrom,
  quarantineEntryFrom,
} from '../rows-activity.js';
import type { Sqlite } from './db.js';
import { LanesSql } from './lanes.js';
import { run } from './rows.js';

/**
 * The read models over SQLite (files|batches|quarantine listings, ledger counters, committed-batch
 * activity, verify's reads). Read-only SQL, every list bounded. Works on a database opened read-only
 * and not migrated (the listing commands): columns of later migrations are checked before use.
 */
export class SqliteReadModel implements ReadModel {
  private readonly lanes: LanesSql;

  constructor(private readonly db: Sqlite) {
    this.lanes = new LanesSql(db);
  }

  private hasColumn(table: string, column: string): boolean {
    return (this.db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).some(
      (c) => c.name === column,
    );
  }

  private hasTable(name: string): boolean {
    return (
      this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined
    );
  }

  recentFiles(opts: { limit?: number | undefined; table?: string | null } = {}): Promise<FileActivity[]> {
    return run(() => this.recentFilesSync(opts));
  }

  private recentFilesSync(opts: { limit?: number | undefined; table?: string | null }): FileActivity[] {
    const rows = this.db
      .prepare(
        `SELECT file_id, path, format, state, detail, records_read, records_landed, records_quarantined,
                seq_from, seq_to, landed_at_ms
           FROM files ORDER BY file_id DESC LIMIT ?`,
      )
      .all(clampLimit(opts.limit)) as DbFileActivity[];
    // Per-file progress of the serving table (the lanes ledger): files landing at the same time interleave
    // their seqs, so a batch's seq range says nothing about one file; file_progress does.
    const progress = this.db.prepare(
      `SELECT lane, committed_records AS n, searchable_at_ms AS at,
              (SELECT MAX(t.committed_at_ms) FROM batch_segments s JOIN batches t ON t.batch_id = s.batch_id
                WHERE s.file_id = p.file_id AND t.table_name = p.table_name AND t.state = 'committed') AS last
         FROM file_progress p WHERE table_name = ? AND file_id = ?`,
    );
    return rows.map((r) =>
      fileActivityFrom(
        r,
        opts.table ? ((progress.get(opts.table, r.file_id) as DbFileProgress | undefined) ?? null) : null,
      ),
    );
  }

  recentBatches(
    opts: { limit?: number | undefined; table?: string | null | undefined; state?: string | undefined } = {},
  ): Promise<BatchActivity[]> {
    return run(() => {
      const lane = this.hasColumn('batches', 'lane') ? 'lane' : 'NULL';
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (opts.table) {
        where.push('table_name = ?');
        params.push(opts.table);
      }
      if (opts.state) {
        where.push('state = ?');
        params.push(opts.state);
      }
      const rows = this.db
        .prepare(
          `SELECT batch_id, table_name, state, ${lane} AS lane, seq_from, seq_to, records_in, ids_touched,
                  rows_inserted, rows_updated, rows_deleted, texts_embedded, texts_reused, attempts, error,
                  model_id, planned_at_ms, committed_at_ms
             FROM batches ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
            ORDER BY planned_at_ms DESC, rowid DESC LIMIT ?`,
        )
        .all(...params, clampLimit(opts.limit)) as DbBatchActivity[];
      return rows.map(batchActivityFrom);
    });
  }

  listQuarantine(f: QuarantineFilter = {}): Promise<QuarantineList> {
    return run(() => {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (f.file !== undefined && f.file !== '') {
        where.push('instr(f.path, ?) > 0');
        params.push(f.file);
      }
      if (f.code !== undefined && f.code !== '') {
        where.push('q.code = ?');
        params.push(f.code);
      }
      if (f.sinceMs !== undefined) {
        where.push('q.at_ms >= ?');
        params.push(f.sinceMs);
      }
      const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const from = 'FROM quarantine q JOIN files f ON f.file_id = q.file_id';
      const total = (this.db.prepare(`SELECT COUNT(*) AS n ${from} ${w}`).get(...params) as { n: number }).n;
      // substr bounds what leaves SQLite for a listing even when a quarantined "line" is megabytes long.
      const rows = this.db
        .prepare(
          `SELECT q.q_id, q.file_id, f.path, q.line, q.byte_offset, q.code, q.field, q.message,
                  substr(q.raw, 1, ${EXCERPT_CHARS + 1}) AS raw, q.at_ms, length(q.raw) AS len
             ${from} ${w} ORDER BY q.q_id DESC LIMIT ?`,
        )
        .all(...params, clampLimit(f.limit)) as DbQuarantine[];
      return { total, entries: rows.map((r) => quarantineEntryFrom(r, EXCERPT_CHARS)) };
    });
  }

  quarantineRecord(qId: number): Promise<QuarantineListEntry | null> {
    return run(() => {
      const r = this.db
        .prepare(
          `SELECT q.q_id, q.file_id, f.path, q.line, q.byte_offset, q.code, q.field, q.message,
                  substr(q.raw, 1, ${RECORD_CHARS + 1}) AS raw, q.at_ms, length(q.raw) AS len
             FROM quarantine q JOIN files f ON f.file_id = q.file_id WHERE q.q_id = ?`,
        )
        .get(qId) as DbQuarantine | undefined;
      return r ? quarantineEntryFrom(r, RECORD_CHARS) : null;
    });
  }

  quarantineByCode(): Promise<{ code: string; count: number; lastAtMs: number }[]> {
    return run(
      () =>
        this.db
          .prepare(
            'SELECT code, COUNT(*) AS count, MAX(at_ms) AS lastAtMs FROM quarantine GROUP BY code ORDER BY count DESC, code',
          )
          .all() as { code: string; count: number; lastAtMs: number }[],
    );
  }

  ledgerCounters(tableName: string): Promise<LedgerCounters> {
    return run(() => this.ledgerCountersSync(tableName));
  }

  private ledgerCountersSync(tableName: string): LedgerCounters {
    const db = this.db;
    const b = db
      .prepare(
        `SELECT
           COALESCE(SUM(state = 'committed'), 0) AS committed,
           COALESCE(SUM(CASE WHEN state = 'failed' THEN attempts ELSE attempts - 1 END), 0) AS failed_attempts,
           COALESCE(SUM(state != 'committed'), 0) AS pending,
           COALESCE(SUM(CASE WHEN state = 'committed' THEN records_in END), 0) AS published,
           COALESCE(SUM(rows_inserted), 0) AS ins, COALESCE(SUM(rows_updated), 0) AS upd, COALESCE(SUM(rows_deleted), 0) AS del,
           COALESCE(SUM(texts_embedded), 0) AS emb, COALESCE(SUM(texts_reused), 0) AS reu,
           COALESCE(SUM(error LIKE 'GATE_FAILED%'), 0) AS gate,
           COALESCE(MAX(CASE WHEN state = 'committed' THEN seq_to END), 0) AS committed_to
         FROM batches WHERE table_name = ?`,
      )
      .get(tableName) as DbBatchCounters;
    // Two lanes commit out of seq order: the backlog is what the per-file progress has not committed.
    const lb = this.lanes.backlog(tableName);
    const backlog = lb.live.records + lb.backlog.records + this.lanes.undiscovered(tableName).records;
    // The newest event among committed records: bounded scan of the last committed batch's range is not
    // enough (late events), so take the max over the committed range; event times are not indexed, so
    // this is one pass over bronze per scrape; fine for the sizes the daemon serves between restarts.
    const newest = (
      db.prepare('SELECT MAX(event_time_ms) AS t FROM bronze WHERE seq <= ?').get(b.committed_to) as {
        t: number | null;
      }
    ).t;
    const incidents: Record<string, number> = {};
    for (const r of db
      .prepare('SELECT failure_mode, COUNT(*) AS n FROM incidents GROUP BY failure_mode')
      .all() as { failure_mode: string; n: number }[])
      incidents[r.failure_mode] = r.n;
    // Optimize runs and the commit conflicts they met (each run records its count in optimize_runs.conflicts).
    const opt = this.hasTable('optimize_runs')
      ? (db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(conflicts), 0) AS c FROM optimize_runs').get() as {
          n: number;
          c: number;
        })
      : { n: 0, c: 0 };
    return ledgerCountersFrom(b, { backlog, newest, incidents, optimize: opt });
  }

  committedActivity(
    tableName: string,
    sinceMs: number,
    skip: ReadonlySet<string>,
  ): Promise<CommittedBatchActivity[]> {
    return run(() => {
      const lane = this.hasColumn('batches', 'lane') ? 'lane' : 'NULL';
      const rows = this.db
        .prepare(
          `SELECT batch_id, planned_at_ms, committed_at_ms, ${lane} AS lane
             FROM batches WHERE table_name = ? AND state = 'committed' AND committed_at_ms >= ?
            ORDER BY committed_at_ms, batch_id`,
        )
        .all(tableName, Number.isFinite(sinceMs) ? sinceMs : -Number.MAX_SAFE_INTEGER) as {
        batch_id: string;
        planned_at_ms: number;
        committed_at_ms: number;
        lane: string | null;
      }[];
      // A batch covers file segments (the lanes ledger); its overall seq range can hold other files' records
      // (files landing at the same time interleave their seqs), so count through the segments.
      const byLanded = this.db.prepare(
        `SELECT b.landed_at_ms AS l, COUNT(*) AS n FROM batch_segments s
           JOIN bronze b ON b.file_id = s.file_id AND b.seq BETWEEN s.seq_from AND s.seq_to
          WHERE s.batch_id = ? GROUP BY b.landed_at_ms`,
      );
      return rows.map((r) => ({
        batchId: r.batch_id,
        lane: r.lane === null ? null : String(r.lane),
        plannedAtMs: r.planned_at_ms,
        committedAtMs: r.committed_at_ms,
        landed: skip.has(r.batch_id)
          ? []
          : (byLanded.all(r.batch_id) as { l: number; n: number }[]).map((g) => ({
              landedAtMs: g.l,
              records: g.n,
            })),
      }));
    });
  }

  committedBatchRanges(tableName: string): Promise<{ batchId: string; seqFrom: number; seqTo: number }[]> {
    return run(() =>
      (
        this.db
          .prepare(
            `SELECT batch_id, seq_from, seq_to FROM batches WHERE table_name = ? AND state = 'committed' ORDER BY seq_from`,
          )
          .all(tableName) as { batch_id: string; seq_from: number; seq_to: number }[]
      ).map((r) => ({ batchId: r.batch_id, seqFrom: r.seq_from, seqTo: r.seq_to })),
    );
  }

  committedAmong(tableName: string, seqs: readonly number[]): Promise<Set<number>> {
    return run(() => {
      const isCommitted = this.lanes.committedPredicate(tableName);
      return new Set(seqs.filter((s) => isCommitted(s)));
    });
  }

  idsInBronze(ids: readonly string[]): Promise<Set<string>> {
    return run(() => {
      const stmt = this.db.prepare('SELECT 1 FROM bronze WHERE record_id = ? LIMIT 1');
      return new Set(ids.filter((id) => stmt.get(id) !== undefined));
    });
  }
}
