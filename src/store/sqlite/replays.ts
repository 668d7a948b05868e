import type { ReplayCounts, ReplayKind, ReplayRow, Replays } from '../../ports/ledger.js';
import type { Sqlite } from './db.js';
import { replayFrom, run, type DbReplay } from './rows.js';

/**
 * Ledger of reconcile and replay runs (whole-table work outside the micro-batches). Planned before
 * the first write, committed after the last, so a crash mid-way resumes exactly the same work.
 */
export class ReplaysSql {
  constructor(private readonly db: Sqlite) {}

  pending(tableName: string, kind: ReplayKind): ReplayRow | null {
    const r = this.db
      .prepare(
        `SELECT * FROM replays WHERE table_name = ? AND kind = ? AND state = 'planned' ORDER BY planned_at_ms LIMIT 1`,
      )
      .get(tableName, kind) as DbReplay | undefined;
    return r ? replayFrom(r) : null;
  }

  /** Plans a run. Its id is `TABLE:KIND:N` (N = runs of that kind so far + 1): deterministic given the ledger. */
  plan(
    tableName: string,
    kind: ReplayKind,
    p: { fromVersion?: number; ledgerVersion?: number; upToSeq?: number },
    nowMs: number,
  ): ReplayRow {
    return this.db
      .transaction(() => {
        const n = (
          this.db
            .prepare('SELECT COUNT(*) AS n FROM replays WHERE table_name = ? AND kind = ?')
            .get(tableName, kind) as { n: number }
        ).n;
        const id = `${tableName}:${kind}:${n + 1}`;
        this.db
          .prepare(
            `INSERT INTO replays (replay_id, table_name, kind, state, from_version, ledger_version, up_to_seq, planned_at_ms) VALUES (?, ?, ?, 'planned', ?, ?, ?, ?)`,
          )
          .run(id, tableName, kind, p.fromVersion ?? null, p.ledgerVersion ?? null, p.upToSeq ?? null, nowMs);
        return this.get(id)!;
      })
      .immediate();
  }

  commit(replayId: string, tableVersion: number, c: ReplayCounts, nowMs: number): void {
    this.db
      .prepare(
        `UPDATE replays SET state = 'committed', committed_at_ms = ?, table_version = ?, ids_touched = ?, rows_inserted = ?, rows_updated = ?, rows_deleted = ?, texts_embedded = ?, texts_reused = ? WHERE replay_id = ?`,
      )
      .run(
        nowMs,
        tableVersion,
        c.idsTouched,
        c.rowsInserted,
        c.rowsUpdated,
        c.rowsDeleted,
        c.textsEmbedded,
        c.textsReused,
        replayId,
      );
  }

  /** Re-points the batches recorded above `fromVersion` at `tableVersion` and commits the run, in one transaction. */
  commitReconcile(
    replayId: string,
    tableName: string,
    fromVersion: number,
    tableVersion: number,
    c: ReplayCounts,
    nowMs: number,
  ): void {
    this.db
      .transaction(() => {
        this.db
          .prepare(
            `UPDATE batches SET table_version = ? WHERE table_name = ? AND state = 'committed' AND table_version > ?`,
          )
          .run(tableVersion, tableName, fromVersion);
        this.commit(replayId, tableVersion, c, nowMs);
      })
      .immediate();
  }

  get(replayId: string): ReplayRow | null {
    const r = this.db.prepare('SELECT * FROM replays WHERE replay_id = ?').get(replayId) as
      DbReplay | undefined;
    return r ? replayFrom(r) : null;
  }

  list(tableName?: string, limit = 50): ReplayRow[] {
    const rows = tableName
      ? (this.db
          .prepare(
            'SELECT * FROM replays WHERE table_name = ? ORDER BY planned_at_ms DESC, replay_id DESC LIMIT ?',
          )
          .all(tableName, limit) as DbReplay[])
      : (this.db
          .prepare('SELECT * FROM replays ORDER BY planned_at_ms DESC, replay_id DESC LIMIT ?')
          .all(limit) as DbReplay[]);
    return rows.map(replayFrom);
  }
}

/** The replays port over SQLite. */
export class SqliteReplays implements Replays {
  constructor(readonly sql: ReplaysSql) {}

  pending(tableName: string, kind: ReplayKind): Promise<ReplayRow | null> {
    return run(() => this.sql.pending(tableName, kind));
  }
  plan(
    tableName: string,
    kind: ReplayKind,
    p: { fromVersion?: number; ledgerVersion?: number; upToSeq?: number },
    nowMs: number,
  ): Promise<ReplayRow> {
    return run(() => this.sql.plan(tableName, kind, p, nowMs));
  }
  commit(replayId: string, tableVersion: number, c: ReplayCounts, nowMs: number): Promise<void> {
    return run(() => this.sql.commit(replayId, tableVersion, c, nowMs));
  }
  commitReconcile(
    replayId: string,
    tableName: string,
    fromVersion: number,
    tableVersion: number,
    c: ReplayCounts,
    nowMs: number,
  ): Promise<void> {
    return run(() => this.sql.commitReconcile(replayId, tableName, fromVersion, tableVersion, c, nowMs));
  }
  get(replayId: string): Promise<ReplayRow | null> {
    return run(() => this.sql.get(replayId));
  }
  list(tableName?: string, limit?: number): Promise<ReplayRow[]> {
    return run(() => this.sql.list(tableName, limit));
  }
}
