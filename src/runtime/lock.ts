import { SeamlineError } from '../errors/errors.js';
import { workerLease, type LeaseStore } from '../ports/leases.js';
import { selfHolder } from './holder.js';

export { holderDead, selfHolder } from './holder.js';
export type { LeaseInfo, LeaseStore } from '../ports/leases.js';

export const WRITER_LEASE = 'writer';
export const WRITER_TTL_MS = 30_000;

/**
 * The maintenance lease: held by the optimize job for its short critical section (compaction,
 * index build). The processor does not start a new merge while it is held (bounded wait).
 */
export const MAINTENANCE_LEASE = 'maintenance';
/** Written by the writer while it is paused for maintenance: "my batch in flight is done". */
export const MAINTENANCE_ACK = 'maintenance-ack';

/** Takes the single-writer lease or refuses with a clear error naming the holder. */
export async function acquireWriter(leases: LeaseStore, dataDir: string, nowMs: number): Promise<string> {
  const me = selfHolder();
  if (!(await leases.tryAcquire(WRITER_LEASE, me, WRITER_TTL_MS, nowMs))) {
    const h = await leases.holder(WRITER_LEASE, nowMs);
    throw new SeamlineError(
      'LOCKED',
      `another seamline process (${h?.holder ?? 'unknown'}) is writing to ${dataDir}; stop it first (its lease expires at ${h ? new Date(h.expiresAtMs).toISOString() : '?'})`,
    );
  }
  return me;
}

/**
 * Several workers on PostgreSQL (issue 16): the one worker that watches and lands the landing folder at a
 * time (the others only process). Taken and renewed between landing passes; a dead lander's lease expires
 * (or its pid is gone on this host) and another worker takes over, recovering its partial landings.
 */
export const LANDER_LEASE = 'lander';
export const LANDER_TTL_MS = 30_000;

/** Several workers: this process's liveness lease (`worker:<holder>`, never refused). Returns the holder. */
export async function acquireWorker(leases: LeaseStore, nowMs: number): Promise<string> {
  const me = selfHolder();
  await leases.tryAcquire(workerLease(me), me, WRITER_TTL_MS, nowMs);
  return me;
}
