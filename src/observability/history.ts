import type { ReadModel } from '../ports/read-model.js';

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
  async update(readModel: ReadModel, tableName: string, nowMs: number): Promise<void> {
    if (this.table !== tableName) {
      this.table = tableName;
      this.minutes.clear();
      this.lastCommitMs = -Infinity;
      this.seenAtLast = new Set();
    }
    const from = Math.max(this.lastCommitMs, nowMs - this.windowMs);
    const rows = await readModel.committedActivity(tableName, from, this.seenAtLast);
    for (const r of rows) {
      if (r.committedAtMs === this.lastCommitMs && this.seenAtLast.has(r.batchId)) continue;
      if (r.committedAtMs > this.lastCommitMs) {
        this.lastCommitMs = r.committedAtMs;
        this.seenAtLast = new Set();
      }
      this.seenAtLast.add(r.batchId);
      const t = Math.floor(r.committedAtMs / this.stepMs) * this.stepMs;
      let b = this.minutes.get(t);
      if (!b) {
        b = { t, records: 0, batches: 0, maxFreshMs: 0, sumFreshMs: 0, byLane: {} };
        this.minutes.set(t, b);
      }
      b.batches += 1;
      let n = 0;
      for (const g of r.landed) {
        const fresh = Math.max(0, r.committedAtMs - g.landedAtMs);
        b.maxFreshMs = Math.max(b.maxFreshMs, fresh);
        b.sumFreshMs += fresh * g.records;
        n += g.records;
      }
      b.records += n;
      if (r.lane !== null) b.byLane[r.lane] = (b.byLane[r.lane] ?? 0) + n;
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
