import type { FileSearchable, Lane } from '../ports/ledger.js';
import { emptyHistogram, observe, type HistogramData } from './ledger-stats.js';

/** The freshness objective (config `processor.freshness`). */
export interface FreshnessObjective {
  readonly objectiveMs: number;
  /** e.g. 99 for p99. */
  readonly percentile: number;
  readonly windowMs: number;
  readonly minSamples: number;
}

/** Stages of a file's complete → searchable budget. */
export type FreshnessStage = 'detect' | 'land' | 'queue' | 'process';
export const FRESHNESS_STAGES: readonly FreshnessStage[] = ['detect', 'land', 'queue', 'process'];

/** Histogram buckets (seconds) of complete → searchable. */
export const FRESHNESS_BUCKETS_S = [0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60, 300, 1800, 3600];

/** What /readyz, status and the metrics read. */
export interface FreshnessVerdict {
  readonly lane: Lane;
  /** False when the objective is violated over the window. */
  readonly ok: boolean;
  /** True when the window holds enough samples to judge. */
  readonly judged: boolean;
  readonly samples: number;
  readonly percentile: number;
  /** The measured percentile (ms) over the window; null without samples. */
  readonly valueMs: number | null;
  readonly objectiveMs: number;
  /** Mean ms per stage over the samples above the objective (or all, when none is above). */
  readonly stagesMs: Readonly<Record<FreshnessStage, number>>;
  /** The stage that takes most of the budget among the slow samples. */
  readonly worstStage: FreshnessStage | null;
  /** One line for /readyz and status when not ok. */
  readonly reason: string | null;
}

/** Splits one file's complete → searchable time into its stages (never negative). */
export function stagesOf(f: FileSearchable): Record<FreshnessStage, number> {
  const d = (a: number, b: number): number => Math.max(0, b - a);
  return {
    detect: d(f.completeAtMs, f.landedAtMs),
    land: d(f.landedAtMs, f.queuedAtMs),
    queue: d(f.queuedAtMs, f.plannedAtMs),
    process: d(Math.max(f.queuedAtMs, f.plannedAtMs), f.searchableAtMs),
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentileOf(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/**
 * Judges the freshness objective for one lane from the files that became searchable (pure: the
 * caller passes the samples and nowMs from the injected clock). Files outside the window are ignored;
 * with fewer than minSamples the objective is not judged (ok).
 */
export function judgeFreshness(
  files: readonly FileSearchable[],
  o: FreshnessObjective,
  nowMs: number,
  lane: Lane = 'live',
): FreshnessVerdict {
  const w = files.filter((f) => f.lane === lane && f.records > 0 && f.searchableAtMs >= nowMs - o.windowMs);
  const totals = w.map((f) => Math.max(0, f.searchableAtMs - f.completeAtMs));
  const valueMs = percentileOf(
    [...totals].sort((a, b) => a - b),
    o.percentile,
  );
  const judged = w.length >= o.minSamples;
  const ok = !judged || valueMs === null || valueMs <= o.objectiveMs;
  const slow = w.filter((_, i) => totals[i]! > o.objectiveMs);
  const basis = (slow.length ? slow : w).map(stagesOf);
  const stagesMs = Object.fromEntries(
    FRESHNESS_STAGES.map((st) => [
      st,
      basis.length ? Math.round(basis.reduce((a, s) => a + s[st], 0) / basis.length) : 0,
    ]),
  ) as Record<FreshnessStage, number>;
  let worstStage: FreshnessStage | null = null;
  for (const st of FRESHNESS_STAGES)
    if (basis.length && (worstStage === null || stagesMs[st] > stagesMs[worstStage])) worstStage = st;
  const reason = ok
    ? null
    : `degraded: ${lane} lane freshness p${o.percentile} ${fmtS(valueMs)} > objective ${fmtS(o.objectiveMs)} over the last ${fmtS(o.windowMs)} (${w.length} file(s)); most of it in stage '${worstStage}' (${fmtS(stagesMs[worstStage!])} on average for the slow files)`;
  return {
    lane,
    ok,
    judged,
    samples: w.length,
    percentile: o.percentile,
    valueMs,
    objectiveMs: o.objectiveMs,
    stagesMs,
    worstStage,
    reason,
  };
}

/**
 * Per-file freshness (complete → searchable) per lane as cumulative Prometheus histograms, fed by the
 * daemon with the files each commit made searchable.
 */
export class FreshnessTracker {
  private readonly hist: Record<Lane, HistogramData> = {
    live: emptyHistogram(FRESHNESS_BUCKETS_S),
    backlog: emptyHistogram(FRESHNESS_BUCKETS_S),
  };

  /** Records the files a commit made searchable. */
  observe(files: readonly FileSearchable[]): void {
    for (const f of files) {
      if (f.records === 0) continue; // nothing of a file of only quarantined lines becomes searchable
      observe(this.hist[f.lane], Math.max(0, f.searchableAtMs - f.completeAtMs) / 1000);
    }
  }

  histogram(lane: Lane): HistogramData {
    return this.hist[lane];
  }
}

const fmtS = (ms: number): string =>
  ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(2)} s`;
