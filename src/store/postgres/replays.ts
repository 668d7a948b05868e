import type { ReplayCounts, ReplayKind, ReplayRow, Replays } from '../../ports/ledger.js';
import type { PgDatabase, PgQueryable } from './connect.js';
import { replayFrom, type DbReplay } from '../rows.js';

async function commitIn(
  q: PgQueryable,
  replayId: string,
  tableVersion: number,
  c: ReplayCounts,
  nowMs: number,
) {
  await q.query(
    `UPDATE replays SET state = 'committed', committed_at_ms = $1, table_version = $2, ids_touched = $3, rows_inserted = $4,
       rows_updated = $5, rows_deleted = $6, texts_embedded = $7, texts_reused = $8 WHERE replay_id = $9`,
    [
      nowMs,
      tableVersion,
      c.idsTouched,
      c.rowsInserted,
      c.rowsUpdated,
      c.rowsDeleted,
      c.textsEmbedded,
      c.textsReused,
      replayId,
    ],
  );
}

/**
 * Reconcile and replay runs over PostgreSQL. `plan` counts and inserts under an advisory lock per
 * (table, kind), so two workers planning at once get runs N and N+1, never the same id.
 */
export class PgReplays implements Replays {
  constructor(private readonly db: PgDatabase) {}

  async pending(tableName: string, kind: ReplayKind): Promise<ReplayRow | null> {
    const r = await this.db.query<DbReplay>(
      `SELECT * FROM replays WHERE table_name = $1 AND kind = $2 AND state = 'planned' ORDER BY planned_at_ms, replay_id LIMIT 1`,
      [tableName, kind],
    );
    return r.rows[0] ? replayFrom(r.rows[0]) : null;
  }

  async plan(
    tableName: string,
    kind: ReplayKind,
    p: { fromVersion?: number; ledgerVersion?: number; upToSeq?: number },
    nowMs: number,
  ): Promise<ReplayRow> {
    return this.db.tx(async (q) => {
      await q.query(
        `SELECT pg_advisory_xact_lock(hashtextextended('seamline.replay:' || $1 || ':' || $2, 0))`,
        [tableName, kind],
      );
      const n = (
        await q.query<{ n: number }>(
          'SELECT COUNT(*) AS n FROM replays WHERE table_name = $1 AND kind = $2',
          [tableName, kind],
        )
      ).rows[0]!.n;
      const r = await q.query<DbReplay>(
        `INSERT INTO replays (replay_id, table_name, kind, state, from_version, ledger_version, up_to_seq, planned_at_ms)
         VALUES ($1, $2, $3, 'planned', $4, $5, $6, $7) RETURNING *`,
        [
          `${tableName}:${kind}:${n + 1}`,
          tableName,
          kind,
          p.fromVersion ?? null,
          p.ledgerVersion ?? null,
          p.upToSeq ?? null,
          nowMs,
        ],
      );
      return replayFrom(r.rows[0]!);
    });
  }

  commit(replayId: string, tableVersion: number, c: ReplayCounts, nowMs: number): Promise<void> {
    return commitIn(this.db, replayId, tableVersion, c, nowMs);
  }

  async commitReconcile(
    replayId: string,
    tableName: string,
    fromVersion: number,
    tableVersion: number,
    c: ReplayCounts,
    nowMs: number,
  ): Promise<void> {
    await this.db.tx(async (q) => {
      await q.query(
        `UPDATE batches SET table_version = $1 WHERE table_name = $2 AND state = 'committed' AND table_version > $3`,
        [tableVersion, tableName, fromVersion],
      );
      await commitIn(q, replayId, tableVersion, c, nowMs);
    });
  }

  async get(replayId: string): Promise<ReplayRow | null> {
    const r = await this.db.query<DbReplay>('SELECT * FROM replays WHERE replay_id = $1', [replayId]);
    return r.rows[0] ? replayFrom(r.rows[0]) : null;
  }

  async list(tableName?: string, limit = 50): Promise<ReplayRow[]> {
    const r = await this.db.query<DbReplay>(
      `SELECT * FROM replays WHERE ($1::text IS NULL OR table_name = $1) ORDER BY planned_at_ms DESC, replay_id DESC LIMIT $2`,
      [tableName ?? null, limit],
    );
    return r.rows.map(replayFrom);
  }
}
