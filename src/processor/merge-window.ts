import type { Logger } from 'pino';
import { SeamlineError } from '../errors/errors.js';
import type { Clock } from '../ports/clock.js';
import type { LeaseStore } from '../ports/leases.js';
import { MAINTENANCE_ACK, MAINTENANCE_LEASE } from '../runtime/lock.js';

/**
 * What a merge does to the table's existing fragments (docs/decisions/processor-merge-window.md):
 * `append` only adds rows under new keys (LanceDB commits it as an update that modifies no existing
 * fragment, which compaction and index builds commit alongside); `rewrite` updates or deletes
 * existing rows (it modifies fragments a compaction may be rewriting: the compaction would lose).
 */
export type MergeKind = 'append' | 'rewrite';

/** The kind of a planned merge: rows it will update or delete, or ids whose surplus chunks it removes. Pure. */
export function mergeKindOf(
  expected: { readonly updated: number; readonly deleted: number },
  scopeIds: number,
): MergeKind {
  return expected.updated === 0 && expected.deleted === 0 && scopeIds === 0 ? 'append' : 'rewrite';
}

/** Called by the processor right before a batch's fold and merge (after embedding). */
export type MergeGate = (kind: MergeKind, signal?: AbortSignal) => Promise<unknown>;

export interface MergeWindowOptions {
  /** Longest a rewrite merge waits for one maintenance window (optimize.maxWriterPauseMs). */
  readonly maxPauseMs: number;
  /** How often a waiting rewrite re-checks the lease. Default 100 ms. */
  readonly pollMs?: number;
  /** Holder string of this writer (its ack carries it). */
  readonly holder: string;
  /** The daemon's stop signal: a rewrite waiting for a window gives up (ABORTED) instead of merging. */
  readonly stop?: AbortSignal;
}

export interface MergeWindowStats {
  /** Maintenance windows this writer saw. */
  readonly windows: number;
  /** Append merges that went ahead inside a window. */
  readonly appendsInWindow: number;
  /** Rewrite merges that waited for a window, their total and longest wait. */
  readonly rewriteWaits: number;
  readonly rewriteWaitMsMax: number;
  /** Waits that ended because the bound passed, not because maintenance finished. */
  readonly timeouts: number;
}

/**
 * The writer's side of the maintenance lease, per merge instead of per batch. While the optimize job
 * holds the lease (its window: compaction, index builds, pruning) the processor keeps planning,
 * embedding and merging **appends**; only a **rewrite** merge waits (bounded by `maxPauseMs`) for the
 * window to end. The ack (`maintenance-ack`) means "this writer makes no rewrite merge until the
 * lease is released": it is written whenever the writer sees the lease held, between batches
 * (`between`) and before each merge (`beforeMerge`), and removed before the writer's next rewrite.
 *
 * Replaces pausing every batch between batches (MaintenanceGate), which stopped the live lane for
 * the whole window: at 20,000 rows an HNSW build or a compaction holds the lease 8–20 s.
 */
export class MergeWindow {
  private readonly pollMs: number;
  private acked = false;
  private windowStartMs: number | null = null;
  private appendsThisWindow = 0;
  private windows = 0;
  private appendsInWindow = 0;
  private rewriteWaits = 0;
  private rewriteWaitMsMax = 0;
  private timeouts = 0;

  constructor(
    private readonly leases: LeaseStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: MergeWindowOptions,
  ) {
    this.pollMs = opts.pollMs ?? 100;
  }

  private get ackTtlMs(): number {
    return Math.max(1000, this.pollMs * 10);
  }

  private async heldByOther(nowMs: number): Promise<boolean> {
    const h = await this.leases.liveHolder(MAINTENANCE_LEASE, nowMs);
    return h !== null && h.holder !== this.opts.holder;
  }

  /** Writes (or renews) the ack and books the window's start. */
  private async ack(nowMs: number): Promise<void> {
    await this.leases.tryAcquire(MAINTENANCE_ACK, this.opts.holder, this.ackTtlMs, nowMs);
    this.acked = true;
    if (this.windowStartMs === null) {
      this.windowStartMs = nowMs;
      this.appendsThisWindow = 0;
      this.windows += 1;
      this.logger.info(
        { event: 'maintenance.window_open' },
        'maintenance lease held: appends go on, rewrites wait',
      );
    }
  }

  /** Removes the ack (before a rewrite may run). */
  private async dropAck(): Promise<void> {
    if (!this.acked) return;
    await this.leases.release(MAINTENANCE_ACK, this.opts.holder);
    this.acked = false;
  }

  /** Books the end of a window this writer saw (the lease was found free). */
  private closeWindow(nowMs: number): void {
    if (this.windowStartMs === null) return;
    this.logger.info(
      {
        event: 'maintenance.window_closed',
        window_ms: nowMs - this.windowStartMs,
        appends: this.appendsThisWindow,
      },
      'maintenance done',
    );
    this.windowStartMs = null;
  }

  /**
   * Between batches: acknowledges a window as soon as it opens (the optimizer waits for the ack
   * before it starts), or clears the ack once it has closed. Returns whether a window is open.
   */
  async between(): Promise<boolean> {
    const now = this.clock.nowMs();
    if (await this.heldByOther(now)) {
      await this.ack(now);
      return true;
    }
    await this.dropAck();
    this.closeWindow(now);
    return false;
  }

  /**
   * Right before a merge: an append goes ahead (acknowledging an open window); a rewrite waits until
   * no window is open, at most `maxPauseMs`. Returns the milliseconds waited.
   */
  async beforeMerge(kind: MergeKind, signal?: AbortSignal): Promise<number> {
    const started = this.clock.nowMs();
    if (kind === 'append') {
      if (await this.heldByOther(started)) {
        await this.ack(started);
        this.appendsThisWindow += 1;
        this.appendsInWindow += 1;
      }
      return 0;
    }
    let waited = false;
    for (;;) {
      const now = this.clock.nowMs();
      // The ack goes first, then the lease is read: an optimizer that takes the lease after this
      // read finds no ack and waits for one (it comes at this writer's next check).
      await this.dropAck();
      if (!(await this.heldByOther(now))) {
        this.closeWindow(now);
        break;
      }
      const stop = signal ?? this.opts.stop;
      if (stop?.aborted)
        throw new SeamlineError(
          'ABORTED',
          'stopping while a maintenance window holds back a merge that rewrites existing rows; the batch runs again at the next start',
        );
      if (now - started >= this.opts.maxPauseMs) {
        this.timeouts += 1;
        this.logger.warn(
          {
            event: 'maintenance.pause_timeout',
            paused_ms: now - started,
            max_pause_ms: this.opts.maxPauseMs,
          },
          'maintenance took longer than the pause bound: merging anyway',
        );
        break;
      }
      if (!waited) {
        waited = true;
        this.logger.info(
          { event: 'maintenance.merge_wait', max_pause_ms: this.opts.maxPauseMs },
          'maintenance lease held: this merge rewrites existing rows and waits for the window to end',
        );
      }
      await this.ack(now);
      await this.clock.sleep(this.pollMs, stop);
    }
    const ms = this.clock.nowMs() - started;
    if (waited) {
      this.rewriteWaits += 1;
      this.rewriteWaitMsMax = Math.max(this.rewriteWaitMsMax, ms);
      // The same event (and field) the between-batches pause logged: soak tests and dashboards count it.
      this.logger.info({ event: 'maintenance.resume', paused_ms: ms }, 'maintenance done: merging');
    }
    return ms;
  }

  /** Drops the ack (shutdown). */
  async close(): Promise<void> {
    await this.dropAck();
    this.closeWindow(this.clock.nowMs());
  }

  stats(): MergeWindowStats {
    return {
      windows: this.windows,
      appendsInWindow: this.appendsInWindow,
      rewriteWaits: this.rewriteWaits,
      rewriteWaitMsMax: this.rewriteWaitMsMax,
      timeouts: this.timeouts,
    };
  }
}
