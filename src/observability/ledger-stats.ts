import type { ReadModel } from '../ports/read-model.js';

export type { LedgerCounters } from '../ports/read-model.js';

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

  async update(readModel: ReadModel, tableName: string): Promise<void> {
    if (this.table !== tableName) {
      this.landingToSearchable = emptyHistogram(LATENCY_BUCKETS_S);
      this.batchDuration = emptyHistogram(LATENCY_BUCKETS_S);
      this.seen = new Set();
      this.table = tableName;
    }
    // A batch covers file segments (two lanes), not every record of seq_from..seq_to.
    for (const r of await readModel.committedActivity(tableName, -Infinity, this.seen)) {
      if (this.seen.has(r.batchId)) continue;
      this.seen.add(r.batchId);
      observe(this.batchDuration, Math.max(0, r.committedAtMs - r.plannedAtMs) / 1000);
      for (const g of r.landed)
        observe(this.landingToSearchable, Math.max(0, r.committedAtMs - g.landedAtMs) / 1000, g.records);
    }
  }
}
