import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../ports/clock.js';
import {
  MAINTENANCE_ACK,
  MAINTENANCE_LEASE,
  WRITER_LEASE,
  selfHolder,
  type Leases,
} from '../runtime/lock.js';

export interface MaintenanceLeaseOptions {
  /** Lease time-to-live; renewed every ttl/3 while held. A crashed optimizer's lease frees after this. */
  readonly ttlMs: number;
  /** How long to wait for the writer to finish its batch in flight and acknowledge the pause. */
  readonly drainWaitMs: number;
  readonly pollMs?: number;
  /** Holder string (default host:pid:optimize, distinct from the writer's host:pid). */
  readonly holder?: string;
}

export interface WriterPause {
  /** True when the writer acknowledged the pause or no writer is running. */
  readonly quiet: boolean;
  readonly writer: string | null;
  readonly waitedMs: number;
}

/**
 * The optimize job's side of the maintenance lease: acquire (never steal a live one), wait for the
 * writer to acknowledge, renew in the background, and notice when the lease has been lost.
 */
export class MaintenanceLease {
  private timer: NodeJS.Timeout | null = null;
  private lostFlag = false;
  private released = false;
  readonly acquiredAtMs: number;

  private constructor(
    private readonly leases: Leases,
    private readonly clock: Clock,
    private readonly opts: MaintenanceLeaseOptions,
    readonly holder: string,
  ) {
    this.acquiredAtMs = clock.nowMs();
  }

  /** Takes the lease, or returns null when another live optimizer holds it. */
  static acquire(leases: Leases, clock: Clock, opts: MaintenanceLeaseOptions): MaintenanceLease | null {
    const holder = opts.holder ?? `${selfHolder()}:optimize`;
    if (!leases.tryAcquire(MAINTENANCE_LEASE, holder, opts.ttlMs, clock.nowMs())) return null;
    const l = new MaintenanceLease(leases, clock, opts, holder);
    l.timer = setInterval(() => l.renew(), Math.max(50, Math.floor(opts.ttlMs / 3)));
    l.timer.unref();
    return l;
  }

  /** Renews now. False (and `lost` from then on) when the lease is no longer ours. */
  renew(): boolean {
    if (this.released || this.lostFlag) return false;
    if (!this.leases.renew(MAINTENANCE_LEASE, this.holder, this.opts.ttlMs, this.clock.nowMs()))
      this.lostFlag = true;
    return !this.lostFlag;
  }

  get lost(): boolean {
    return this.lostFlag;
  }

  heldForMs(): number {
    return this.clock.nowMs() - this.acquiredAtMs;
  }

  /**
   * Waits until the writer has paused between batches (its ack is present) or no live writer exists,
   * at most drainWaitMs. After that the caller proceeds anyway: conflicts are retried with a budget.
   */
  async waitForWriterPause(signal?: AbortSignal): Promise<WriterPause> {
    const started = this.clock.nowMs();
    const poll = this.opts.pollMs ?? 50;
    for (;;) {
      const now = this.clock.nowMs();
      const writer = this.leases.liveHolder(WRITER_LEASE, now);
      const ack = this.leases.liveHolder(MAINTENANCE_ACK, now);
      if (writer === null || (ack !== null && ack.holder === writer.holder))
        return { quiet: true, writer: writer?.holder ?? null, waitedMs: now - started };
      if (now - started >= this.opts.drainWaitMs || signal?.aborted || this.lostFlag)
        return { quiet: false, writer: writer.holder, waitedMs: now - started };
      try {
        await sleep(poll, undefined, signal ? { signal } : undefined);
      } catch {
        /* aborted: the next loop turn returns */
      }
    }
  }

  /** Idempotent. */
  release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.released) return;
    this.released = true;
    this.leases.release(MAINTENANCE_LEASE, this.holder);
  }
}
