import { hostname } from 'node:os';
import type { Sqlite } from '../store/sqlite/db.js';
import { SeamlineError } from '../errors/errors.js';

/** Holder string of this process. */
export const selfHolder = (): string => `${hostname()}:${process.pid}`;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when a holder string names a process on this host that no longer exists. */
export function holderDead(holder: string): boolean {
  const [host, pid] = holder.split(':');
  return host === hostname() && pid !== undefined && /^\d+$/.test(pid) && !pidAlive(Number(pid));
}

export interface LeaseInfo {
  readonly holder: string;
  readonly expiresAtMs: number;
}

/**
 * Leases in SQLite (holder, expiry). A lease is free when absent, expired, or held by a dead process
 * on this host (a SIGKILLed holder must not block a restart).
 */
export class Leases {
  constructor(private readonly db: Sqlite) {}

  tryAcquire(name: string, holder: string, ttlMs: number, nowMs: number): boolean {
    return this.db
      .transaction(() => {
        const cur = this.db.prepare('SELECT holder, expires_at_ms FROM leases WHERE name = ?').get(name) as
          { holder: string; expires_at_ms: number } | undefined;
        if (cur && cur.holder !== holder && cur.expires_at_ms > nowMs) {
          if (!holderDead(cur.holder)) return false;
        }
        this.db
          .prepare(
            'INSERT INTO leases (name, holder, expires_at_ms) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms',
          )
          .run(name, holder, nowMs + ttlMs);
        return true;
      })
      .immediate();
  }

  holder(name: string, nowMs: number): { holder: string; expiresAtMs: number } | null {
    const cur = this.db.prepare('SELECT holder, expires_at_ms FROM leases WHERE name = ?').get(name) as
      { holder: string; expires_at_ms: number } | undefined;
    if (!cur || cur.expires_at_ms <= nowMs) return null;
    return { holder: cur.holder, expiresAtMs: cur.expires_at_ms };
  }

  /** Like holder(), but a lease whose holder process died on this host counts as free. */
  liveHolder(name: string, nowMs: number): LeaseInfo | null {
    const h = this.holder(name, nowMs);
    return h && !holderDead(h.holder) ? h : null;
  }

  /**
   * Extends a lease only if `holder` still holds it (never steals). False means the lease was lost
   * (expired and taken by someone else, or released): the caller must stop its critical section.
   */
  renew(name: string, holder: string, ttlMs: number, nowMs: number): boolean {
    const r = this.db
      .prepare('UPDATE leases SET expires_at_ms = ? WHERE name = ? AND holder = ? AND expires_at_ms > ?')
      .run(nowMs + ttlMs, name, holder, nowMs);
    return r.changes === 1;
  }

  release(name: string, holder: string): void {
    this.db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?').run(name, holder);
  }
}

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
export function acquireWriter(leases: Leases, dataDir: string, nowMs: number): string {
  const me = selfHolder();
  if (!leases.tryAcquire(WRITER_LEASE, me, WRITER_TTL_MS, nowMs)) {
    const h = leases.holder(WRITER_LEASE, nowMs);
    throw new SeamlineError(
      'LOCKED',
      `another seamline process (${h?.holder ?? 'unknown'}) is writing to ${dataDir}; stop it first (its lease expires at ${h ? new Date(h.expiresAtMs).toISOString() : '?'})`,
    );
  }
  return me;
}
