import type { BronzeEvent } from '../../ports/bronze.js';
import type {
  BatchClaim,
  BatchCounts,
  BatchRow,
  BatchTotals,
  CommitIncidents,
  FileSearchable,
  KeyState,
  Lane,
  Ledger,
  Segment,
} from '../../ports/ledger.js';
import type { PgDatabase } from './connect.js';
import { PgBatches } from './batches.js';
import { PgIncidents } from './incidents.js';
import { PgKeyState } from './key-state.js';
import { PgLanes, watermarkIn } from './lanes.js';
import { PgReplays } from './replays.js';
import { batchFrom, type DbBatch } from '../rows.js';

/**
 * The ledger port over PostgreSQL: batches (PgBatches), key state (PgKeyState), lanes (PgLanes),
 * incidents and replays over one pool. Each method is one statement or one transaction; the isolation
 * each write needs is written on the part that implements it (docs/scale-out.md#isolation).
 */
export class PgLedger implements Ledger {
  private readonly b: PgBatches;
  private readonly k: PgKeyState;
  private readonly lanePort: PgLanes;
  private readonly incidentPort: PgIncidents;
  private readonly replayPort: PgReplays;

  constructor(
    private readonly db: PgDatabase,
    holderDead: (holder: string) => boolean = () => false,
  ) {
    this.b = new PgBatches(db, holderDead);
    this.k = new PgKeyState(db);
    this.lanePort = new PgLanes(db);
    this.incidentPort = new PgIncidents(db);
    this.replayPort = new PgReplays(db);
  }

  lanes(): PgLanes {
    return this.lanePort;
  }
  incidents(): PgIncidents {
    return this.incidentPort;
  }
  replays(): PgReplays {
    return this.replayPort;
  }

  pendingBatch(tableName: string, lane?: Lane): Promise<BatchRow | null> {
    return this.b.pendingBatch(tableName, lane);
  }
  committedUpTo(tableName: string): Promise<number> {
    return watermarkIn(this.db, tableName);
  }
  plan(
    tableName: string,
    lane: Lane,
    segments: readonly Segment[],
    modelId: string,
    pipelineVersion: string,
    nowMs: number,
    claim?: BatchClaim,
  ): Promise<BatchRow> {
    return this.b.plan(tableName, lane, segments, modelId, pipelineVersion, nowMs, claim);
  }
  claimPending(tableName: string, lane: Lane, claim: BatchClaim, nowMs: number): Promise<BatchRow | null> {
    return this.b.claimPending(tableName, lane, claim, nowMs);
  }
  batch(batchId: string): Promise<BatchRow | null> {
    return this.b.batch(batchId);
  }
  markAttempt(batchId: string): Promise<void> {
    return this.b.markAttempt(batchId);
  }
  commit(
    batchId: string,
    tableVersion: number,
    counts: BatchCounts,
    nowMs: number,
    closeIncidents: CommitIncidents = 'resolved',
  ): Promise<FileSearchable[]> {
    return this.b.commit(batchId, tableVersion, counts, nowMs, closeIncidents);
  }
  fail(batchId: string, error: string): Promise<void> {
    return this.b.fail(batchId, error);
  }

  async batches(tableName?: string, limit = 50): Promise<BatchRow[]> {
    const r = tableName
      ? await this.db.query<DbBatch>(
          'SELECT * FROM batches WHERE table_name = $1 ORDER BY seq_from DESC LIMIT $2',
          [tableName, limit],
        )
      : await this.db.query<DbBatch>('SELECT * FROM batches ORDER BY planned_at_ms DESC LIMIT $1', [limit]);
    return r.rows.map(batchFrom);
  }

  async batchTotals(tableName: string): Promise<BatchTotals> {
    return this.db.tx(
      async (q) => {
        const by: Record<string, number> = {};
        for (const r of (
          await q.query<{ state: string; n: number }>(
            'SELECT state, COUNT(*) AS n FROM batches WHERE table_name = $1 GROUP BY state',
            [tableName],
          )
        ).rows)
          by[r.state] = r.n;
        const s = (
          await q.query<{ i: number; u: number; d: number; e: number; r: number }>(
            `SELECT COALESCE(SUM(rows_inserted),0) AS i, COALESCE(SUM(rows_updated),0) AS u, COALESCE(SUM(rows_deleted),0) AS d,
                    COALESCE(SUM(texts_embedded),0) AS e, COALESCE(SUM(texts_reused),0) AS r
               FROM batches WHERE table_name = $1 AND state = 'committed'`,
            [tableName],
          )
        ).rows[0]!;
        return {
          ...by,
          rowsInserted: s.i,
          rowsUpdated: s.u,
          rowsDeleted: s.d,
          textsEmbedded: s.e,
          textsReused: s.r,
        };
      },
      { isolation: 'repeatable read', readOnly: true },
    );
  }

  async lastCommittedVersion(tableName: string): Promise<number | null> {
    const r = await this.db.query<{ v: number | null }>(
      `SELECT MAX(table_version) AS v FROM batches WHERE table_name = $1 AND state = 'committed'`,
      [tableName],
    );
    return r.rows[0]?.v ?? null;
  }

  batchInputFiles(batchId: string): Promise<{ files: number; read: number; quarantined: number }> {
    return this.lanePort.inputFiles(batchId);
  }

  async recentOutputs(tableName: string, limit: number): Promise<{ recordsIn: number; rowsOut: number }[]> {
    const r = await this.db.query<{ records_in: number; rows_out: number }>(
      `SELECT records_in, rows_inserted + rows_updated + rows_deleted AS rows_out FROM batches
       WHERE table_name = $1 AND state = 'committed' AND records_in IS NOT NULL ORDER BY commit_no DESC LIMIT $2`,
      [tableName, limit],
    );
    return r.rows.map((x) => ({ recordsIn: x.records_in, rowsOut: x.rows_out }));
  }

  async committedAbove(tableName: string, version: number): Promise<BatchRow[]> {
    const r = await this.db.query<DbBatch>(
      `SELECT * FROM batches WHERE table_name = $1 AND state = 'committed' AND table_version > $2 ORDER BY seq_from`,
      [tableName, version],
    );
    return r.rows.map(batchFrom);
  }

  async idsOfCommittedAbove(tableName: string, version: number): Promise<string[]> {
    const r = await this.db.query<{ id: string }>(
      `SELECT DISTINCT b.record_id AS id FROM batches t JOIN batch_segments s ON s.batch_id = t.batch_id
       JOIN bronze b ON b.file_id = s.file_id AND b.seq BETWEEN s.seq_from AND s.seq_to
       WHERE t.table_name = $1 AND t.state = 'committed' AND t.table_version > $2 ORDER BY b.record_id`,
      [tableName, version],
    );
    return r.rows.map((x) => x.id);
  }

  fold(events: readonly BronzeEvent[], unsafeLastWins?: boolean): Promise<void> {
    return this.k.fold(events, unsafeLastWins);
  }
  keyStates(ids: readonly string[]): Promise<Map<string, KeyState>> {
    return this.k.keyStates(ids);
  }
  allKeyStates(pageSize?: number): AsyncIterable<KeyState[]> {
    return this.k.allKeyStates(pageSize);
  }
  allKeyIds(pageSize?: number): AsyncIterable<string[]> {
    return this.k.allKeyIds(pageSize);
  }
  keyStateCounts(): Promise<{ ids: number; live: number; deleted: number }> {
    return this.k.keyStateCounts();
  }
}
