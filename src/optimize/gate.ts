import type { Logger } from '../observability/logger.js';
import type { Clock } from '../ports/clock.js';
import type { LeaseStore } from '../ports/leases.js';
import { MAINTENANCE_ACK, MAINTENANCE_LEASE, selfHolder } from '../runtime/lock.js';

export interface MaintenanceGateOptions {
  /** Longest the writer stays paused for one maintenance window (the "lease bound"). Default 20 000 ms. */
  readonly maxPauseMs: number;
  /** How often the paused writer re-checks the lease. Default 100 ms. */
  readonly pollMs?: number;
  /** Holder string of the writer (default: this process, host:pid). */
  readonly holder?: string;
}

export interface GateStats {
  readonly pauses: number;
  readonly pausedMsTotal: number;
  readonly pausedMsMax: number;
  /** Pauses that ended because the bound passed, not because maintenance finished. */
  readonly timeouts: number;
}

/**
 * The processor's side of the maintenance lease: called between batches (never inside one), it
 * returns at once when no optimizer holds the lease; otherwise it acknowledges the pause (so the
 * optimizer knows the batch in flight has finished) and waits until the lease is released, expires,
 * or `maxPauseMs` passes — ingest is never stopped for longer than that bound.
 */
export class MaintenanceGate {
  private readonly pollMs: number;
  private readonly holder: string;
  private pauses = 0;
  private pausedMsTotal = 0;
  private pausedMsMax = 0;
  private timeouts = 0;

  constructor(
    private readonly leases: LeaseStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: MaintenanceGateOptions,
  ) {
    this.pollMs = opts.pollMs ?? 100;
    this.holder = opts.holder ?? selfHolder();
  }

  private async heldByOther(nowMs: number): Promise<boolean> {
    const h = await this.leases.liveHolder(MAINTENANCE_LEASE, nowMs);
    return h !== null && h.holder !== this.holder;
  }

  /** Waits (bounded) while maintenance runs. Returns the milliseconds paused (0 on the fast path). */
  async waitIfHeld(signal?: AbortSignal): Promise<number> {
    const started = this.clock.nowMs();
    if (!(await this.heldByOther(started))) return 0;
    const ackTtl = Math.max(1000, this.pollMs * 10);
    let timedOut = false;
    this.logger.info(
      { event: 'maintenance.pause', max_pause_ms: this.opts.maxPauseMs },
      'maintenance lease held: pausing new merges',
    );
    try {
      for (;;) {
        const now = this.clock.nowMs();
        if (signal?.aborted || !(await this.heldByOther(now))) break;
        if (now - started >= this.opts.maxPauseMs) {
          timedOut = true;
          break;
        }
        // Renewed every poll: a stale ack (crashed writer) expires within ackTtl.
        await this.leases.tryAcquire(MAINTENANCE_ACK, this.holder, ackTtl, now);
        await this.clock.sleep(this.pollMs, signal);
      }
    } finally {
      await this.leases.release(MAINTENANCE_ACK, this.holder);
    }
    const waited = this.clock.nowMs() - started;
    this.pauses += 1;
    this.pausedMsTotal += waited;
    this.pausedMsMax = Math.max(this.pausedMsMax, waited);
    if (timedOut) {
      this.timeouts += 1;
      this.logger.warn(
        { event: 'maintenance.pause_timeout', paused_ms: waited, max_pause_ms: this.opts.maxPauseMs },
        'maintenance took longer than the pause bound: resuming merges',
      );
    } else {
      this.logger.info(
        { event: 'maintenance.resume', paused_ms: waited },
        'maintenance done: resuming merges',
      );
    }
    return waited;
  }

  stats(): GateStats {
    return {
      pauses: this.pauses,
      pausedMsTotal: this.pausedMsTotal,
      pausedMsMax: this.pausedMsMax,
      timeouts: this.timeouts,
    };
  }
}
