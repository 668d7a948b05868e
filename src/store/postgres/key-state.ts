import type { BronzeEvent } from '../../ports/bronze.js';
import type { KeyState, Ledger } from '../../ports/ledger.js';
import type { PgDatabase } from './connect.js';

type DbKey = { record_id: string; version: number; event_time_ms: number; seq: number; deleted: boolean };
const keyFrom = (r: DbKey): KeyState => ({
  id: r.record_id,
  version: r.version,
  eventTimeMs: r.event_time_ms,
  seq: r.seq,
  deleted: r.deleted,
});

const higher = (a: BronzeEvent, b: BronzeEvent): boolean =>
  a.version !== b.version
    ? a.version > b.version
    : a.eventTimeMs !== b.eventTimeMs
      ? a.eventTimeMs > b.eventTimeMs
      : a.seq > b.seq;

/**
 * The key-state part of the ledger port over PostgreSQL (fold, reads), to be composed into the full
 * PgLedger. `fold` is one statement: events are first reduced to one per id (the highest, or with
 * unsafeLastWins the last, exactly what applying them one by one would leave) because one INSERT … ON
 * CONFLICT may not touch a row twice, then upserted in id order so concurrent folds lock rows in the same
 * order (no deadlock between workers folding overlapping ids).
 */
export class PgKeyState implements Pick<
  Ledger,
  'fold' | 'keyStates' | 'allKeyStates' | 'allKeyIds' | 'keyStateCounts'
> {
  constructor(private readonly db: PgDatabase) {}

  async fold(events: readonly BronzeEvent[], unsafeLastWins = false): Promise<void> {
    if (events.length === 0) return;
    const best = new Map<string, BronzeEvent>();
    for (const e of events) {
      const cur = best.get(e.id);
      if (!cur || unsafeLastWins || higher(e, cur)) best.set(e.id, e);
    }
    const rows = [...best.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const guard = unsafeLastWins
      ? ''
      : 'WHERE (excluded.version, excluded.event_time_ms, excluded.seq) > (key_state.version, key_state.event_time_ms, key_state.seq)';
    await this.db.tx(async (q) => {
      await q.query(
        `INSERT INTO key_state (record_id, version, event_time_ms, seq, deleted)
         SELECT u.id, u.ver, u.etms, u.seq, u.del
           FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::boolean[]) AS u(id, ver, etms, seq, del)
          ORDER BY u.id
         ON CONFLICT (record_id) DO UPDATE SET version = excluded.version, event_time_ms = excluded.event_time_ms,
           seq = excluded.seq, deleted = excluded.deleted ${guard}`,
        [
          rows.map((e) => e.id),
          rows.map((e) => e.version),
          rows.map((e) => e.eventTimeMs),
          rows.map((e) => e.seq),
          rows.map((e) => e.op === 'delete'),
        ],
      );
    });
  }

  async keyStates(ids: readonly string[]): Promise<Map<string, KeyState>> {
    const out = new Map<string, KeyState>();
    if (ids.length === 0) return out;
    const r = await this.db.query<DbKey>(
      'SELECT record_id, version, event_time_ms, seq, deleted FROM key_state WHERE record_id = ANY($1::text[])',
      [ids],
    );
    for (const row of r.rows) out.set(row.record_id, keyFrom(row));
    return out;
  }

  async *allKeyStates(pageSize = 5000): AsyncIterable<KeyState[]> {
    let after = '';
    for (;;) {
      const r = await this.db.query<DbKey>(
        'SELECT record_id, version, event_time_ms, seq, deleted FROM key_state WHERE record_id > $1 ORDER BY record_id LIMIT $2',
        [after, pageSize],
      );
      if (r.rows.length === 0) return;
      yield r.rows.map(keyFrom);
      after = r.rows[r.rows.length - 1]!.record_id;
    }
  }

  async *allKeyIds(pageSize = 5000): AsyncIterable<string[]> {
    for await (const page of this.allKeyStates(pageSize)) yield page.map((k) => k.id);
  }

  async keyStateCounts(): Promise<{ ids: number; live: number; deleted: number }> {
    const r = await this.db.query<{ n: number; d: number }>(
      'SELECT COUNT(*) AS n, COUNT(*) FILTER (WHERE deleted) AS d FROM key_state',
    );
    const { n, d } = r.rows[0]!;
    return { ids: n, live: n - d, deleted: d };
  }
}
