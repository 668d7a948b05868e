import type { Sqlite } from '../store/sqlite/db.js';

/** One minute of the serving table's activity, built from the batches committed in it. */
export interface MinuteBucket {
  /** Start of the minute (epoch ms). */
  readonly t: number;
  records: number;
  batches: number;
  /** Per record landing → searchable: the worst and the sum (mean = sumFreshMs / records). */
  maxFreshMs: number;
  sumFreshMs: number;
  /** Records published per lane, when the ledger records lanes. */
  byLane: Record<string, number>;
}

export interface BacklogSample {
  readonly t: number;
  readonly backlog: number;
  /** Per-lane backlog when the caller knows it (empty otherwise). */
  readonly byLane: Readonly<Record<string, number>>;
}

export interface HistoryView {
  readonly windowMs: number;
  readonly stepMs: number;
  readonly nowMs: number;
  readonly table: string | null;
  /** Oldest first, one per minute of the window (empty minutes included, so charts are honest). */
  readonly minutes: readonly {
    t: number;
    records: number;
    batches: number;
    recordsPerSecond: number;
    maxFreshSeconds: number | null;
    meanFreshSeconds: number | null;
    byLane: Readonly<Record<string, number>>;
  }[];
  readonly backlog: readonly BacklogSample[];
}

/**
 * The status page's last hour, in memory and bounded: at most `windowMs / stepMs` minute buckets and
 * `maxSamples` backlog samples, whatever runs. Minute buckets are folded in from the ledger
 * incrementally (each committed batch once), so they are rebuilt after a restart; backlog samples are
 * what this process saw.
 */
export class ActivityHistory {
  private readonly minutes = new Map<number, MinuteBucket>();
  private readonly samples: BacklogSample[] = [];
  private table: string | null = null;
  private lastCommitMs = -Infinity;
  private seenAtLast = new Set<string>();

  constructor(
    readonly windowMs = 3_600_000,
    readonly stepMs = 60_000,
    readonly maxSamples = 720,
  ) {}

  /** Records a backlog sample (drops the oldest past maxSamples or the window). */
  sample(nowMs: number, backlog: number, byLane: Readonly<Record<string, number>> = {}): void {
    this.samples.push({ t: nowMs, backlog, byLane });
    while (this.samples.length > this.maxSamples || this.samples[0]!.t < nowMs - this.windowMs)
      this.samples.shift();
  }

  /** Folds in the batches of `tableName` committed since the last call (within the window). */
  update(db: Sqlite, tableName: string, nowMs: number): void {
    if (this.table !== tableName) {
      this.table = tableName;
      this.minutes.clear();
      this.lastCommitMs = -Infinity;
      this.seenAtLast = new Set();
    }
    const from = Math.max(this.lastCommitMs, nowMs - this.windowMs);
    const hasLane = (
      db.prepare(`SELECT name FROM pragma_table_info('batches')`).all() as { name: string }[]
    ).some((c) => c.name === 'lane');
    const rows = db
      .prepare(
        `SELECT batch_id, seq_from, seq_to, committed_at_ms, ${hasLane ? 'lane' : 'NULL'} AS lane
           FROM batches WHERE table_name = ? AND state = 'committed' AND committed_at_ms >= ?
          ORDER BY committed_at_ms, batch_id`,
      )
      .all(tableName, from) as {
      batch_id: string;
      seq_from: number;
      seq_to: number;
      committed_at_ms: number;
      lane: string | null;
    }[];
    // A batch covers file segments (the lanes ledger); its overall seq range can hold other files' records
    // (files landing at the same time interleave their seqs), so count through the segments.
    const byLanded = db.prepare(
      `SELECT b.landed_at_ms AS l, COUNT(*) AS n FROM batch_segments s
         JOIN bronze b ON b.file_id = s.file_id AND b.seq BETWEEN s.seq_from AND s.seq_to
        WHERE s.batch_id = ? GROUP BY b.landed_at_ms`,
    );
    for (const r of rows) {
      if (r.committed_at_ms === this.lastCommitMs && this.seenAtLast.has(r.batch_id)) continue;
      if (r.committed_at_ms > this.lastCommitMs) {
        this.lastCommitMs = r.committed_at_ms;
        this.seenAtLast = new Set();
      }
      this.seenAtLast.add(r.batch_id);
      const t = Math.floor(r.committed_at_ms / this.stepMs) * this.stepMs;
      let b = this.minutes.get(t);
      if (!b) {
        b = { t, records: 0, batches: 0, maxFreshMs: 0, sumFreshMs: 0, byLane: {} };
        this.minutes.set(t, b);
      }
      b.batches += 1;
      let n = 0;
      for (const g of byLanded.all(r.batch_id) as { l: number; n: number }[]) {
        const fresh = Math.max(0, r.committed_at_ms - g.l);
        b.maxFreshMs = Math.max(b.maxFreshMs, fresh);
        b.sumFreshMs += fresh * g.n;
        n += g.n;
      }
      b.records += n;
      if (r.lane !== null) b.byLane[String(r.lane)] = (b.byLane[String(r.lane)] ?? 0) + n;
    }
    this.prune(nowMs);
  }

  private prune(nowMs: number): void {
    const oldest = Math.floor((nowMs - this.windowMs) / this.stepMs) * this.stepMs;
    for (const t of this.minutes.keys()) if (t < oldest) this.minutes.delete(t);
  }

  view(nowMs: number): HistoryView {
    this.prune(nowMs);
    const last = Math.floor(nowMs / this.stepMs) * this.stepMs;
    const n = Math.round(this.windowMs / this.stepMs);
    const minutes = [];
    for (let i = n - 1; i >= 0; i--) {
      const t = last - i * this.stepMs;
      const b = this.minutes.get(t);
      // The current minute is partial: its rate is over the part that has passed.
      const span = t === last ? Math.max(1, nowMs - t) : this.stepMs;
      minutes.push({
        t,
        records: b?.records ?? 0,
        batches: b?.batches ?? 0,
        recordsPerSecond: ((b?.records ?? 0) * 1000) / span,
        maxFreshSeconds: b && b.records > 0 ? b.maxFreshMs / 1000 : null,
        meanFreshSeconds: b && b.records > 0 ? b.sumFreshMs / b.records / 1000 : null,
        byLane: { ...(b?.byLane ?? {}) },
      });
    }
    return {
      windowMs: this.windowMs,
      stepMs: this.stepMs,
      nowMs,
      table: this.table,
      minutes,
      backlog: [...this.samples],
    };
  }
}
