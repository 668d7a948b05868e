import type { Sqlite } from '../store/sqlite/db.js';

export type ReplayKind = 'reconcile' | 'replay';

export interface ReplayRow {
  readonly replayId: string;
  readonly tableName: string;
  readonly kind: ReplayKind;
  readonly state: 'planned' | 'committed';
  /** reconcile: the table version found at startup (batches above it are re-materialized). */
  readonly fromVersion: number | null;
  /** reconcile: the ledger's highest committed table version at that moment. */
  readonly ledgerVersion: number | null;
  /** replay: bronze is folded up to this seq. */
  readonly upToSeq: number | null;
  readonly plannedAtMs: number;
  readonly committedAtMs: number | null;
  readonly tableVersion: number | null;
  readonly idsTouched: number | null;
  readonly rowsInserted: number | null;
  readonly rowsUpdated: number | null;
  readonly rowsDeleted: number | null;
  readonly textsEmbedded: number | null;
  readonly textsReused: number | null;
}

export interface ReplayCounts {
  readonly idsTouched: number;
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
  readonly rowsDeleted: number;
  readonly textsEmbedded: number;
  readonly textsReused: number;
}

type DbReplay = {
  replay_id: string;
  table_name: string;
  kind: ReplayKind;
  state: 'planned' | 'committed';
  from_version: number | null;
  ledger_version: number | null;
  up_to_seq: number | null;
  planned_at_ms: number;
  committed_at_ms: number | null;
  table_version: number | null;
  ids_touched: number | null;
  rows_inserted: number | null;
  rows_updated: number | null;
  rows_deleted: number | null;
  texts_embedded: number | null;
  texts_reused: number | null;
};

const replayFrom = (r: DbReplay): ReplayRow => ({
  replayId: r.replay_id,
  tableName: r.table_name,
  kind: r.kind,
  state: r.state,
  fromVersion: r.from_version,
  ledgerVersion: r.ledger_version,
  upToSeq: r.up_to_seq,
  plannedAtMs: r.planned_at_ms,
  committedAtMs: r.committed_at_ms,
  tableVersion: r.table_version,
  idsTouched: r.ids_touched,
  rowsInserted: r.rows_inserted,
  rowsUpdated: r.rows_updated,
  rowsDeleted: r.rows_deleted,
  textsEmbedded: r.texts_embedded,
  textsReused: r.texts_reused,
});

/**
 * Ledger of reconcile and replay runs (whole-table work outside the micro-batches). Planned before
 * the first write, committed after the last, so a crash mid-way resumes exactly the same work.
 */
export class Replays {
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
