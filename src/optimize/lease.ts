import type { Clock } from '../ports/clock.js';
import type { LeaseStore } from '../ports/leases.js';
import { TABLE_WRITER_PREFIX } from '../processor/workers.js';
import { MAINTENANCE_ACK, MAINTENANCE_LEASE, WRITER_LEASE, selfHolder } from '../runtime/lock.js';

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
 * writer to acknowledge, renew in the background (on the injected clock), and notice when the lease
 * has been lost.
 */
export class MaintenanceLease {
  private readonly stopRenewal = new AbortController();
  private lostFlag = false;
  private released = false;
  readonly acquiredAtMs: number;

  private constructor(
    private readonly leases: LeaseStore,
    private readonly clock: Clock,
    private readonly opts: MaintenanceLeaseOptions,
    readonly holder: string,
  ) {
    this.acquiredAtMs = clock.nowMs();
  }

  /** Takes the lease, or returns null when another live optimizer holds it. */
  static async acquire(
    leases: LeaseStore,
    clock: Clock,
    opts: MaintenanceLeaseOptions,
  ): Promise<MaintenanceLease | null> {
    const holder = opts.holder ?? `${selfHolder()}:optimize`;
    if (!(await leases.tryAcquire(MAINTENANCE_LEASE, holder, opts.ttlMs, clock.nowMs()))) return null;
    const l = new MaintenanceLease(leases, clock, opts, holder);
    void l.renewLoop(Math.max(50, Math.floor(opts.ttlMs / 3)));
    return l;
  }

  /** Renews every `everyMs` until released or lost; never rejects (a failed renew counts as lost later). */
  private async renewLoop(everyMs: number): Promise<void> {
    const signal = this.stopRenewal.signal;
    while (!signal.aborted) {
      await this.clock.sleep(everyMs, signal);
      if (signal.aborted) return;
      try {
        if (!(await this.renew())) return;
      } catch {
        /* a busy database: the next turn retries; the ttl bounds how long that may go on */
      }
    }
  }

  /** Renews now. False (and `lost` from then on) when the lease is no longer ours. */
  async renew(): Promise<boolean> {
    if (this.released || this.lostFlag) return false;
    if (!(await this.leases.renew(MAINTENANCE_LEASE, this.holder, this.opts.ttlMs, this.clock.nowMs())))
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
   *
   * Several workers (PostgreSQL) hold no single `writer` lease: each merges into a table under its
   * short `table-writer:<table>` lease and asks the maintenance window before a rewrite while holding
   * it. Once the window is open (this lease held), seeing that table lease free once means no rewrite
   * that started before the window is still in flight; every later one waits for the window.
   */
  async waitForWriterPause(signal?: AbortSignal, tableName?: string): Promise<WriterPause> {
    const started = this.clock.nowMs();
    const poll = this.opts.pollMs ?? 50;
    for (;;) {
      const now = this.clock.nowMs();
      const writer =
        (await this.leases.liveHolder(WRITER_LEASE, now)) ??
        (tableName === undefined ? null : await this.leases.liveHolder(TABLE_WRITER_PREFIX + tableName, now));
      const ack = await this.leases.liveHolder(MAINTENANCE_ACK, now);
      if (writer === null || (ack !== null && ack.holder === writer.holder))
        return { quiet: true, writer: writer?.holder ?? null, waitedMs: now - started };
      if (now - started >= this.opts.drainWaitMs || signal?.aborted || this.lostFlag)
        return { quiet: false, writer: writer.holder, waitedMs: now - started };
      await this.clock.sleep(poll, signal);
    }
  }

  /** Idempotent. */
  async release(): Promise<void> {
    this.stopRenewal.abort();
    if (this.released) return;
    this.released = true;
    await this.leases.release(MAINTENANCE_LEASE, this.holder);
  }
}
