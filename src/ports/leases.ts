/** Who holds a lease and until when. */
export interface LeaseInfo {
  readonly holder: string;
  readonly expiresAtMs: number;
}

/**
 * Named, expiring leases (the single writer, the maintenance lease and its ack, the reindex job).
 * Every method is one atomic operation; a lease is free when absent, expired, or held by a process
 * on this host that no longer exists (a SIGKILLed holder must not block a restart).
 * Needs serializable behaviour per lease name: two concurrent `tryAcquire` never both succeed.
 */
export interface LeaseStore {
  /** Takes or extends the lease for `holder` (re-entrant); false when another live holder has it. */
  tryAcquire(name: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean>;
  /** The unexpired holder, dead or alive. */
  holder(name: string, nowMs: number): Promise<LeaseInfo | null>;
  /** Like holder(), but a lease whose holder process died on this host counts as free. */
  liveHolder(name: string, nowMs: number): Promise<LeaseInfo | null>;
  /**
   * Extends the lease only if `holder` still holds it unexpired (never steals). False means it was
   * lost (expired and taken, or released): the caller must leave its critical section.
   */
  renew(name: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean>;
  /** Removes the lease if `holder` holds it (never someone else's). */
  release(name: string, holder: string): Promise<void>;
}

/**
 * A worker's liveness (several workers on PostgreSQL, issue 16): each worker process holds the lease
 * `worker:<holder>` while it runs (renewed by its timers). Batch claims and landing owners count as held
 * only while it is unexpired (and the holder is not a dead process of this host).
 */
export const WORKER_LEASE_PREFIX = 'worker:';
export const workerLease = (holder: string): string => `${WORKER_LEASE_PREFIX}${holder}`;
