/**
 * The two processor lanes, as pure policy over plain data and nowMs (docs/processor.md#lanes):
 * which lane a newly landed file joins, how many records the next backlog batch may hold (the time
 * box), and when the backlog lane may run again (the throughput cap). The ledger stores the outcome;
 * none of this decides what the table ends up holding, only when.
 */

import type { Lane, LaneReason } from '../ports/ledger.js';

export { LANES, type Lane, type LaneReason, type Segment } from '../ports/ledger.js';

/** Classification rules (config `processor.lanes`). */
export interface LaneRules {
  /** A file with more records than this goes to the backlog lane. */
  readonly liveMaxFileRecords: number;
  /** A file that became complete longer ago than this when the processor first sees it goes to the backlog. */
  readonly liveMaxAgeMs: number;
  /** When the live lane already holds this many records not yet planned, further files go to the backlog. */
  readonly liveMaxQueuedRecords: number;
  /** Files written before this processor started (found at start-up) go to the backlog. */
  readonly startupToBacklog: boolean;
}

/** What the processor knows about a landed file when it first sees it. */
export interface FileFacts {
  readonly records: number;
  /** When the file became complete (see completeAtMs). */
  readonly completeAtMs: number;
  readonly mtimeMs: number;
}

export interface ClassifyContext {
  readonly nowMs: number;
  /** When this processor started (files last written before it were found at start-up). */
  readonly startedAtMs: number;
  /** Records already waiting in the live lane (not yet planned). */
  readonly liveQueuedRecords: number;
}

export function classifyFile(
  f: FileFacts,
  rules: LaneRules,
  ctx: ClassifyContext,
): { lane: Lane; reason: LaneReason } {
  if (f.records === 0) return { lane: 'live', reason: 'empty' };
  if (f.records > rules.liveMaxFileRecords) return { lane: 'backlog', reason: 'large' };
  if (rules.startupToBacklog && f.mtimeMs < ctx.startedAtMs) return { lane: 'backlog', reason: 'startup' };
  if (ctx.nowMs - f.completeAtMs > rules.liveMaxAgeMs) return { lane: 'backlog', reason: 'old' };
  if (ctx.liveQueuedRecords + f.records > rules.liveMaxQueuedRecords)
    return { lane: 'backlog', reason: 'burst' };
  return { lane: 'live', reason: 'fresh' };
}

/**
 * When a file became complete: its last write (mtime) when that is plausible, i.e. not after landing
 * started and not older than `maxAgeMs` before it (a copied file can carry any mtime); else when
 * landing started. The freshness metric measures from here.
 */
export function completeAtMs(mtimeMs: number, landedAtMs: number, maxAgeMs: number): number {
  return mtimeMs <= landedAtMs && mtimeMs >= landedAtMs - maxAgeMs ? mtimeMs : landedAtMs;
}

/** Time box and cap of the backlog lane (config `processor.backlog`). */
export interface BacklogRules {
  /** No backlog batch should hold the embedder longer than this (ms). */
  readonly timeBoxMs: number;
  /** Records of the first backlog batch, before any throughput was measured. */
  readonly initialRecords: number;
  /** Lower bound of a backlog batch (records). */
  readonly minRecords: number;
  /** Upper bound (the processor's maxRecords). */
  readonly maxRecords: number;
  /** Cap: backlog records per second (0 = no records cap). */
  readonly maxRecordsPerSecond: number;
  /** Cap: largest share of the processor's time the backlog lane may take (0 < share ≤ 1). */
  readonly maxShare: number;
  /**
   * Anti-starvation: when the live lane is never idle, one backlog batch runs before the next live
   * batch once the backlog has waited this long (ms). Bounds what a saturated live lane can do to a backfill.
   */
  readonly maxWaitMs: number;
}

/** Shortest embedding time taken at face value by the sizer (ms). */
const MIN_MEASURABLE_MS = 5;

/**
 * Sizes backlog batches from the measured embedding throughput (records per embedding-ms, smoothed),
 * so that one batch embeds for about timeBoxMs: the embedder is held no longer, and a live file waits
 * behind at most one such slice (plus its merge). Sizing on the whole batch instead was tried: the
 * fixed merge cost then shrank batches to a few records and cut backfill throughput several-fold. Growth is limited to 2x per batch so a run of cheap
 * batches (vectors reused, nothing embedded) cannot produce one huge expensive batch.
 */
export class BatchSizer {
  private perMs: number | null = null;
  private last: number;

  constructor(private readonly rules: BacklogRules) {
    this.last = clamp(rules.initialRecords, rules.minRecords, rules.maxRecords);
  }

  /** Records for the next backlog batch. */
  next(): number {
    const r = this.rules;
    if (this.perMs === null) return this.last;
    const want = Math.round(this.perMs * r.timeBoxMs);
    this.last = clamp(Math.min(want, this.last * 2), r.minRecords, r.maxRecords);
    return this.last;
  }

  /**
   * Feeds one batch's figures (any lane): records in, texts actually embedded, and milliseconds spent
   * embedding. A batch that embedded nothing (every vector reused) says nothing about the embedder.
   * Below 5 ms a timer reading is noise, so a faster batch counts as if it took 5 ms: a lower bound on
   * the rate, never an overestimate. Ignoring fast batches instead (as before) left a fast model stuck
   * at initialRecords for as long as its batches stayed under 5 ms.
   */
  observe(records: number, embedded: number, embedMs: number): void {
    if (records <= 0 || embedded <= 0) return;
    const rate = records / Math.max(embedMs, MIN_MEASURABLE_MS);
    this.perMs = this.perMs === null ? rate : 0.7 * this.perMs + 0.3 * rate;
  }

  /** Smoothed records per second (null before the first measurement). */
  recordsPerSecond(): number | null {
    return this.perMs === null ? null : this.perMs * 1000;
  }
}

/**
 * The backlog lane's throughput cap: a token bucket over records (maxRecordsPerSecond) and a time share
 * (after a backlog batch of d ms the lane rests d·(1−share)/share ms). Live batches are never capped.
 */
export class BacklogPacer {
  private readyAtMs = 0;
  private tokens: number;
  private lastMs: number | null = null;

  constructor(private readonly rules: BacklogRules) {
    this.tokens = Math.max(rules.maxRecordsPerSecond, 1);
  }

  /** Milliseconds until the backlog lane may start its next batch (0 = now). */
  waitMs(nowMs: number): number {
    let wait = Math.max(0, this.readyAtMs - nowMs);
    const rps = this.rules.maxRecordsPerSecond;
    if (rps > 0) {
      this.refill(nowMs);
      if (this.tokens < 0) wait = Math.max(wait, Math.ceil((-this.tokens * 1000) / rps));
    }
    return wait;
  }

  /** Records a finished backlog batch. */
  done(records: number, durationMs: number, endMs: number): void {
    const share = this.rules.maxShare;
    if (share < 1) this.readyAtMs = endMs + Math.ceil((durationMs * (1 - share)) / share);
    if (this.rules.maxRecordsPerSecond > 0) {
      this.refill(endMs);
      this.tokens -= records;
    }
  }

  private refill(nowMs: number): void {
    const rps = this.rules.maxRecordsPerSecond;
    if (this.lastMs !== null)
      this.tokens = Math.min(Math.max(rps, 1), this.tokens + ((nowMs - this.lastMs) * rps) / 1000);
    this.lastMs = nowMs;
  }
}

const clamp = (n: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, Math.floor(n)));
