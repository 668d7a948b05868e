import { SeamlineError } from '../../errors/errors.js';
import { WORKER_LEASE_PREFIX } from '../../ports/leases.js';
import {
  batchIdFor,
  type BatchClaim,
  type BatchCounts,
  type BatchRow,
  type CommitIncidents,
  type FileProgress,
  type FileSearchable,
  type Lane,
  type Ledger,
  type Lanes,
  type Segment,
} from '../../ports/ledger.js';
import type { PgDatabase, PgQueryable } from './connect.js';
import { closeIncidentsIn } from './incidents.js';
import { batchFrom, progressFrom, type DbBatch, type DbProgress } from '../rows.js';

/** Serializes the commits of one table (its commit numbers), whichever worker commits. */
export const lockTableCommits = (q: PgQueryable, tableName: string) =>
  q.query(`SELECT pg_advisory_xact_lock(hashtextextended('seamline.commit:' || $1, 0))`, [tableName]);

const conflict = (e: unknown): boolean => (e as { code?: unknown } | null)?.code === '23505';

/**
 * The batch part of the ledger port over PostgreSQL (plan, commit, fail, reads), to be composed into the
 * full PgLedger. Several workers may plan and commit for one table at once:
 * - `plan` moves each file's planned mark with a conditional UPDATE: a concurrent planner of the same file
 *   blocks on the row, re-checks the condition after the winner commits, and fails with LEDGER_CONFLICT;
 * - `commit` takes a per-table advisory lock for the commit number, and moves each file's committed mark
 *   only over a committed PREFIX of the file: batches of one file committed out of order (two workers)
 *   never mark records published that are not (NOTES-pg item 11, docs/scale-out.md).
 */
export class PgBatches
  implements
    Pick<Ledger, 'pendingBatch' | 'claimPending' | 'plan' | 'batch' | 'markAttempt' | 'commit' | 'fail'>,
    Pick<Lanes, 'segments' | 'progress'>
{
  constructor(
    private readonly db: PgDatabase,
    private readonly holderDead: (holder: string) => boolean = () => false,
  ) {}

  async pendingBatch(tableName: string, lane?: Lane): Promise<BatchRow | null> {
    const r = await this.db.query<DbBatch>(
      `SELECT * FROM batches WHERE table_name = $1 AND ($2::text IS NULL OR lane = $2) AND state IN ('planned','failed')
       ORDER BY seq_from LIMIT 1`,
      [tableName, lane ?? null],
    );
    return r.rows[0] ? batchFrom(r.rows[0]) : null;
  }

  async plan(
    tableName: string,
    lane: Lane,
    segments: readonly Segment[],
    modelId: string,
    pipelineVersion: string,
    nowMs: number,
    claim?: BatchClaim,
  ): Promise<BatchRow> {
    if (segments.length === 0) throw new SeamlineError('INTERNAL', 'a batch needs at least one segment');
    const nonEmpty = segments.filter((g) => g.records > 0);
    const from = nonEmpty.length ? Math.min(...nonEmpty.map((g) => g.seqFrom)) : 0;
    const to = nonEmpty.length ? Math.max(...nonEmpty.map((g) => g.seqTo)) : 0;
    // Empty segments (files of only quarantined lines) are named by their file instead.
    const id = nonEmpty.length ? batchIdFor(tableName, from, to) : `${tableName}:f${segments[0]!.fileId}`;
    try {
      return await this.db.tx(async (q) => {
        const b = await q.query<DbBatch>(
          `INSERT INTO batches (batch_id, table_name, seq_from, seq_to, lane, state, planned_at_ms, model_id, pipeline_version, claimed_by, claim_expires_at_ms)
           VALUES ($1, $2, $3, $4, $5, 'planned', $6, $7, $8, $9, $10) RETURNING *`,
          [
            id,
            tableName,
            from,
            to,
            lane,
            nowMs,
            modelId,
            pipelineVersion,
            claim?.owner ?? null,
            claim ? nowMs + claim.ttlMs : null,
          ],
        );
        // File order: two planners touching the same files lock them in the same order (no deadlock).
        for (const g of [...segments].sort((x, y) => x.fileId - y.fileId)) {
          await q.query(
            'INSERT INTO batch_segments (batch_id, file_id, seq_from, seq_to, records) VALUES ($1, $2, $3, $4, $5)',
            [id, g.fileId, g.seqFrom, g.seqTo, g.records],
          );
          const m = await q.query(
            `UPDATE file_progress SET planned_to = $1, planned_records = planned_records + $2
             WHERE table_name = $3 AND file_id = $4 AND planned_to < $5`,
            [g.seqTo, g.records, tableName, g.fileId, g.seqFrom],
          );
          if (m.rowCount !== 1)
            throw new SeamlineError(
              'LEDGER_CONFLICT',
              `file ${g.fileId} of ${tableName} is already planned past seq ${g.seqFrom}`,
              { retryable: true },
            );
        }
        return batchFrom(b.rows[0]!);
      });
    } catch (e) {
      if (conflict(e))
        throw new SeamlineError('LEDGER_CONFLICT', `batch ${id} was planned by another worker`, {
          cause: e,
          retryable: true,
        });
      throw e;
    }
  }

  /**
   * Claims the lane's lowest pending batch no live worker holds: candidates are locked FOR UPDATE SKIP
   * LOCKED (a batch another worker is claiming right now is skipped, never waited for), then the first
   * free one gets the claim, in the same transaction.
   */
  claimPending(tableName: string, lane: Lane, claim: BatchClaim, nowMs: number): Promise<BatchRow | null> {
    return this.db.tx(async (q) => {
      const rows = (
        await q.query<DbBatch & { claimed_by: string | null; live: boolean }>(
          `SELECT b.*, (b.claim_expires_at_ms > $4 AND EXISTS (
                   SELECT 1 FROM leases l WHERE l.name = $3 || b.claimed_by AND l.expires_at_ms > $4)) AS live
             FROM batches b WHERE b.table_name = $1 AND b.lane = $2 AND b.state IN ('planned','failed')
            ORDER BY b.seq_from LIMIT 32 FOR UPDATE SKIP LOCKED`,
          [tableName, lane, WORKER_LEASE_PREFIX, nowMs],
        )
      ).rows;
      const free = rows.find(
        (r) =>
          r.claimed_by === null || r.claimed_by === claim.owner || !r.live || this.holderDead(r.claimed_by),
      );
      if (!free) return null;
      const r = await q.query<DbBatch>(
        'UPDATE batches SET claimed_by = $1, claim_expires_at_ms = $2 WHERE batch_id = $3 RETURNING *',
        [claim.owner, nowMs + claim.ttlMs, free.batch_id],
      );
      return batchFrom(r.rows[0]!);
    });
  }

  async batch(batchId: string): Promise<BatchRow | null> {
    const r = await this.db.query<DbBatch>('SELECT * FROM batches WHERE batch_id = $1', [batchId]);
    return r.rows[0] ? batchFrom(r.rows[0]) : null;
  }

  async markAttempt(batchId: string): Promise<void> {
    await this.db.query(
      `UPDATE batches SET attempts = attempts + 1, state = 'planned' WHERE batch_id = $1 AND state <> 'committed'`,
      [batchId],
    );
  }

  async commit(
    batchId: string,
    tableVersion: number,
    counts: BatchCounts,
    nowMs: number,
    closeIncidents?: CommitIncidents,
  ): Promise<FileSearchable[]> {
    return this.db.tx(async (q) => {
      const t = await q.query<{ table_name: string }>('SELECT table_name FROM batches WHERE batch_id = $1', [
        batchId,
      ]);
      const tableName = t.rows[0]?.table_name;
      if (tableName !== undefined) await lockTableCommits(q, tableName);
      const r = await q.query<DbBatch>(
        `UPDATE batches SET state = 'committed', committed_at_ms = $1, table_version = $2, records_in = $3, ids_touched = $4,
           rows_inserted = $5, rows_updated = $6, rows_deleted = $7, texts_embedded = $8, texts_reused = $9, error = NULL,
           commit_no = (SELECT COALESCE(MAX(b2.commit_no), 0) + 1 FROM batches b2 WHERE b2.table_name = batches.table_name)
         WHERE batch_id = $10 AND state <> 'committed' RETURNING *`,
        [
          nowMs,
          tableVersion,
          counts.recordsIn,
          counts.idsTouched,
          counts.rowsInserted,
          counts.rowsUpdated,
          counts.rowsDeleted,
          counts.textsEmbedded,
          counts.textsReused,
          batchId,
        ],
      );
      if (r.rowCount !== 1)
        throw new SeamlineError(
          'LEDGER_CONFLICT',
          `batch ${batchId} was not in a committable state (already committed by another writer, or never planned)`,
        );
      const b = batchFrom(r.rows[0]!);
      // The committed mark covers only a committed prefix of each file: up to just below the file's lowest
      // segment not yet committed, else its highest committed segment.
      const marked = await q.query<DbProgress>(
        `WITH seg AS (SELECT file_id, records FROM batch_segments WHERE batch_id = $1),
         m AS (
           SELECT fp.file_id, seg.records,
             GREATEST(fp.committed_to, COALESCE(
               (SELECT MIN(s.seq_from) - 1 FROM batch_segments s JOIN batches x ON x.batch_id = s.batch_id
                 WHERE x.table_name = fp.table_name AND s.file_id = fp.file_id AND x.state <> 'committed'),
               (SELECT MAX(s.seq_to) FROM batch_segments s JOIN batches x ON x.batch_id = s.batch_id
                 WHERE x.table_name = fp.table_name AND s.file_id = fp.file_id AND x.state = 'committed'),
               fp.committed_to)) AS new_to
           FROM file_progress fp JOIN seg ON seg.file_id = fp.file_id
           WHERE fp.table_name = $2)
         UPDATE file_progress fp SET committed_to = m.new_to, committed_records = fp.committed_records + m.records,
           searchable_at_ms = CASE WHEN fp.searchable_at_ms IS NULL AND m.new_to >= fp.seq_to THEN $3 ELSE fp.searchable_at_ms END
         FROM m WHERE fp.table_name = $2 AND fp.file_id = m.file_id
         RETURNING fp.*`,
        [batchId, b.tableName, nowMs],
      );
      if (closeIncidents) await closeIncidentsIn(q, batchId, closeIncidents, nowMs);
      return marked.rows
        .filter((p) => p.searchable_at_ms === nowMs && p.committed_to >= p.seq_to)
        .sort((x, y) => x.file_id - y.file_id)
        .map((p) => ({
          fileId: p.file_id,
          lane: p.lane,
          records: p.records,
          completeAtMs: p.complete_at_ms,
          landedAtMs: p.landed_at_ms,
          queuedAtMs: p.queued_at_ms,
          plannedAtMs: b.plannedAtMs,
          searchableAtMs: nowMs,
        }));
    });
  }

  async fail(batchId: string, error: string): Promise<void> {
    await this.db.query(
      `UPDATE batches SET state = 'failed', error = $1 WHERE batch_id = $2 AND state <> 'committed'`,
      [error, batchId],
    );
  }

  async segments(batchId: string): Promise<Segment[]> {
    const r = await this.db.query<{ file_id: number; seq_from: number; seq_to: number; records: number }>(
      'SELECT file_id, seq_from, seq_to, records FROM batch_segments WHERE batch_id = $1 ORDER BY seq_from, file_id',
      [batchId],
    );
    return r.rows.map((x) => ({
      fileId: x.file_id,
      seqFrom: x.seq_from,
      seqTo: x.seq_to,
      records: x.records,
    }));
  }

  async progress(tableName: string, fileId: number): Promise<FileProgress | null> {
    const r = await this.db.query<DbProgress>(
      'SELECT * FROM file_progress WHERE table_name = $1 AND file_id = $2',
      [tableName, fileId],
    );
    return r.rows[0] ? progressFrom(r.rows[0]) : null;
  }
}
