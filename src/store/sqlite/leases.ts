import type { LeaseInfo, LeaseStore } from '../../ports/leases.js';
import { holderDead } from '../../runtime/holder.js';
import type { Sqlite } from './db.js';

type Row = { holder: string; expires_at_ms: number };

/** The leases table (name, holder, expiry); acquisition runs in one IMMEDIATE transaction. */
export class SqliteLeases implements LeaseStore {
  constructor(private readonly db: Sqlite) {}

  private row(name: string): Row | undefined {
    return this.db.prepare('SELECT holder, expires_at_ms FROM leases WHERE name = ?').get(name) as
      Row | undefined;
  }

  tryAcquireSync(name: string, holder: string, ttlMs: number, nowMs: number): boolean {
    return this.db
      .transaction(() => {
        const cur = this.row(name);
        if (cur && cur.holder !== holder && cur.expires_at_ms > nowMs && !holderDead(cur.holder))
          return false;
        this.db
          .prepare(
            'INSERT INTO leases (name, holder, expires_at_ms) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms',
          )
          .run(name, holder, nowMs + ttlMs);
        return true;
      })
      .immediate();
  }

  holderSync(name: string, nowMs: number): LeaseInfo | null {
    const cur = this.row(name);
    if (!cur || cur.expires_at_ms <= nowMs) return null;
    return { holder: cur.holder, expiresAtMs: cur.expires_at_ms };
  }

  /** Sync read for read models (status, search) that are not async yet. */
  liveHolderSync(name: string, nowMs: number): LeaseInfo | null {
    const h = this.holderSync(name, nowMs);
    return h && !holderDead(h.holder) ? h : null;
  }

  tryAcquire(name: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean> {
    return settle(() => this.tryAcquireSync(name, holder, ttlMs, nowMs));
  }

  holder(name: string, nowMs: number): Promise<LeaseInfo | null> {
    return settle(() => this.holderSync(name, nowMs));
  }

  liveHolder(name: string, nowMs: number): Promise<LeaseInfo | null> {
    return settle(() => this.liveHolderSync(name, nowMs));
  }

  renew(name: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean> {
    return settle(
      () =>
        this.db
          .prepare('UPDATE leases SET expires_at_ms = ? WHERE name = ? AND holder = ? AND expires_at_ms > ?')
          .run(nowMs + ttlMs, name, holder, nowMs).changes === 1,
    );
  }

  release(name: string, holder: string): Promise<void> {
    return settle(() => {
      this.db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?').run(name, holder);
    });
  }
}

/** Runs a synchronous statement as a promise: a thrown error becomes a rejection, never a sync throw. */
export function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}
