import type { LeaseInfo, LeaseStore } from '../../ports/leases.js';
import type { PgDatabase } from './connect.js';

type Row = { holder: string; expires_at_ms: number };

/**
 * Named, expiring leases over PostgreSQL (the per-table writer lease of several workers, the maintenance
 * lease). `tryAcquire` reads and writes under a transaction-scoped advisory lock on the lease name, so two
 * workers can never both take it (an absent row cannot be locked with FOR UPDATE). Expiry compares the
 * caller's `nowMs` (its injected clock): workers on several machines need clocks closer than the TTL margin.
 * `holderDead` says whether a holder is a process of THIS host that no longer exists (the SQLite adapter's
 * rule); holders on other hosts are only ever freed by expiry.
 */
export class PgLeases implements LeaseStore {
  constructor(
    private readonly db: PgDatabase,
    private readonly holderDead: (holder: string) => boolean = () => false,
  ) {}

  async tryAcquire(name: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean> {
    return this.db.tx(async (q) => {
      await q.query(`SELECT pg_advisory_xact_lock(hashtextextended('seamline.lease:' || $1, 0))`, [name]);
      const cur = (await q.query<Row>('SELECT holder, expires_at_ms FROM leases WHERE name = $1', [name]))
        .rows[0];
      if (cur && cur.holder !== holder && cur.expires_at_ms > nowMs && !this.holderDead(cur.holder))
        return false;
      await q.query(
        `INSERT INTO leases (name, holder, expires_at_ms) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms`,
        [name, holder, nowMs + ttlMs],
      );
      return true;
    });
  }

  async holder(name: string, nowMs: number): Promise<LeaseInfo | null> {
    const cur = (await this.db.query<Row>('SELECT holder, expires_at_ms FROM leases WHERE name = $1', [name]))
      .rows[0];
    if (!cur || cur.expires_at_ms <= nowMs) return null;
    return { holder: cur.holder, expiresAtMs: cur.expires_at_ms };
  }

  async liveHolder(name: string, nowMs: number): Promise<LeaseInfo | null> {
    const h = await this.holder(name, nowMs);
    return h && !this.holderDead(h.holder) ? h : null;
  }

  async renew(name: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean> {
    const r = await this.db.query(
      'UPDATE leases SET expires_at_ms = $1 WHERE name = $2 AND holder = $3 AND expires_at_ms > $4',
      [nowMs + ttlMs, name, holder, nowMs],
    );
    return r.rowCount === 1;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.db.query('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]);
  }
}
