import type { Sqlite } from '../store/sqlite/db.js';
import { LaneLedger } from '../ledger/lanes.js';

/** Counters read from the ledger (SQLite), so they survive restarts and agree across processes. */
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

const hasTable = (db: Sqlite, name: string): boolean =>
  db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;

/** Optimize runs and the commit conflicts they met (each run records its count in optimize_runs.conflicts). */
function optimizeCounts(db: Sqlite): { runs: number; conflicts: number } {
  if (!hasTable(db, 'optimize_runs')) return { runs: 0, conflicts: 0 };
  const r = db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(conflicts), 0) AS c FROM optimize_runs').get() as {
    n: number;
    c: number;
  };
  return { runs: r.n, conflicts: r.c };
}

/** Reads every ledger counter for one table in a handful of indexed queries. */
export function ledgerCounters(db: Sqlite, tableName: string): LedgerCounters {
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
    .get(tableName) as {
    committed: number;
    failed_attempts: number;
    pending: number;
    published: number;
    ins: number;
    upd: number;
    del: number;
    emb: number;
    reu: number;
    gate: number;
    committed_to: number;
  };
  // Two lanes commit out of seq order: the backlog is what the per-file progress has not committed.
  const lanes = new LaneLedger(db);
  const lb = lanes.backlog(tableName);
  const backlog = lb.live.records + lb.backlog.records + lanes.undiscovered(tableName).records;
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
  const opt = optimizeCounts(db);
  return {
    batchesCommitted: b.committed,
    batchesFailedAttempts: b.failed_attempts,
    batchesPending: b.pending,
    recordsPublished: b.published,
    rowsInserted: b.ins,
    rowsUpdated: b.upd,
    rowsDeleted: b.del,
    textsEmbedded: b.emb,
    textsReused: b.reu,
    gateFailures: b.gate,
    backlogRecords: backlog,
    newestPublishedEventTimeMs: newest,
    optimizeRuns: opt.runs,
    optimizeConflicts: opt.conflicts,
    incidents,
  };
}

/** Upper bounds (seconds) of the latency and duration histograms. */
export const LATENCY_BUCKETS_S = [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800] as const;

export interface HistogramData {
  readonly buckets: readonly number[];
  /** Cumulative counts per bucket (same order as buckets), plus +Inf = count. */
  readonly counts: number[];
  count: number;
  sum: number;
}

export const emptyHistogram = (buckets: readonly number[]): HistogramData => ({
  buckets,
  counts: buckets.map(() => 0),
  count: 0,
  sum: 0,
});

export function observe(h: HistogramData, valueS: number, times = 1): void {
  h.buckets.forEach((b, i) => {
    if (valueS <= b) h.counts[i]! += times;
  });
  h.count += times;
  h.sum += valueS * times;
}

/**
 * Histograms built from the ledger, incrementally: each call folds in the batches committed since the
 * last call. Landing→searchable latency is per record: batch commit time minus the record's landing
 * time. Batch duration is commit time minus plan time. Rebuilt from SQLite after a restart.
 */
export class LedgerHistograms {
  landingToSearchable = emptyHistogram(LATENCY_BUCKETS_S);
  batchDuration = emptyHistogram(LATENCY_BUCKETS_S);
  private seen = new Set<string>();
  private table: string | null = null;

  update(db: Sqlite, tableName: string): void {
    if (this.table !== tableName) {
      this.landingToSearchable = emptyHistogram(LATENCY_BUCKETS_S);
      this.batchDuration = emptyHistogram(LATENCY_BUCKETS_S);
      this.seen = new Set();
      this.table = tableName;
    }
    const rows = db
      .prepare(
        `SELECT batch_id, seq_from, seq_to, planned_at_ms, committed_at_ms FROM batches WHERE table_name = ? AND state = 'committed' ORDER BY seq_from`,
      )
      .all(tableName) as {
      batch_id: string;
      seq_from: number;
      seq_to: number;
      planned_at_ms: number;
      committed_at_ms: number;
    }[];
    // A batch covers file segments (two lanes), not every record of seq_from..seq_to.
    const byLanded = db.prepare(
      `SELECT b.landed_at_ms AS l, COUNT(*) AS n FROM batch_segments s JOIN bronze b ON b.file_id = s.file_id AND b.seq BETWEEN s.seq_from AND s.seq_to WHERE s.batch_id = ? GROUP BY b.landed_at_ms`,
    );
    for (const r of rows) {
      if (this.seen.has(r.batch_id)) continue;
      this.seen.add(r.batch_id);
      observe(this.batchDuration, Math.max(0, r.committed_at_ms - r.planned_at_ms) / 1000);
      for (const g of byLanded.all(r.batch_id) as { l: number; n: number }[])
        observe(this.landingToSearchable, Math.max(0, r.committed_at_ms - g.l) / 1000, g.n);
    }
  }
}
