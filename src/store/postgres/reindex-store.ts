import type {
  JobProgress,
  KeyRow,
  NewJob,
  ReindexJob,
  ReindexStore,
  ServingTable,
  SwapOutcome,
  SwapRequest,
} from '../../ports/reindex-store.js';
import { type DbJob, JOB_PROGRESS_COLUMNS as PROGRESS_COLUMNS, jobFrom } from '../rows-maintenance.js';
import type { PgDatabase, PgQueryable } from './connect.js';
import { lockTableCommits } from './batches.js';
import { commitMarkIn, idsCommittedBetweenIn, watermarkIn } from './lanes.js';
import { lockServing, servingIn, swapIn } from './registry.js';

async function getIn(q: PgQueryable, jobId: number): Promise<ReindexJob | null> {
  const r = await q.query<DbJob>('SELECT * FROM reindex_jobs WHERE job_id = $1', [jobId]);
  return r.rows[0] ? jobFrom(r.rows[0]) : null;
}

async function progressIn(q: PgQueryable, jobId: number, p: JobProgress, nowMs: number): Promise<void> {
  const sets: string[] = ['updated_at_ms = $1'];
  const params: unknown[] = [nowMs];
  for (const [k, col] of Object.entries(PROGRESS_COLUMNS) as [keyof JobProgress, string][]) {
    if (p[k] === undefined) continue;
    params.push(p[k]);
    sets.push(`${col} = $${params.length}`);
  }
  params.push(jobId);
  await q.query(`UPDATE reindex_jobs SET ${sets.join(', ')} WHERE job_id = $${params.length}`, params);
}

async function finishIn(
  q: PgQueryable,
  jobId: number,
  state: 'swapped' | 'failed' | 'abandoned',
  error: string | null,
  nowMs: number,
): Promise<void> {
  await q.query(
    'UPDATE reindex_jobs SET state = $1, error = $2, finished_at_ms = $3, updated_at_ms = $3, eta_ms = NULL WHERE job_id = $4',
    [state, error, nowMs, jobId],
  );
}

/**
 * The reindex job's store over PostgreSQL. `create`, `abandon`, `fail` and `swapIfUnchanged` run under the
 * serving lock (SERVING_LOCK, advisory, transaction-scoped); the swap also takes the source table's commit
 * lock, so no batch commits to the source between "is it still caught up?" and the pointer move.
 * `sourceMarks` is one REPEATABLE READ READ ONLY snapshot.
 */
export class PgReindexStore implements ReindexStore {
  constructor(private readonly db: PgDatabase) {}

  async serving(): Promise<ServingTable | null> {
    const s = await servingIn(this.db);
    return s ? { tableName: s.tableName, modelId: s.modelId, dim: s.dim } : null;
  }

  async active(): Promise<ReindexJob | null> {
    const r = await this.db.query<DbJob>(
      `SELECT * FROM reindex_jobs WHERE state IN ('building','catching_up','gating') ORDER BY job_id DESC LIMIT 1`,
    );
    return r.rows[0] ? jobFrom(r.rows[0]) : null;
  }

  async latest(): Promise<ReindexJob | null> {
    const r = await this.db.query<DbJob>('SELECT * FROM reindex_jobs ORDER BY job_id DESC LIMIT 1');
    return r.rows[0] ? jobFrom(r.rows[0]) : null;
  }

  get(jobId: number): Promise<ReindexJob | null> {
    return getIn(this.db, jobId);
  }

  async tableState(tableName: string): Promise<string | null> {
    const r = await this.db.query<{ state: string }>(
      'SELECT state FROM vector_tables WHERE table_name = $1',
      [tableName],
    );
    return r.rows[0]?.state ?? null;
  }

  create(j: NewJob, nowMs: number): Promise<ReindexJob> {
    return this.db.tx(async (q) => {
      await lockServing(q);
      const names = (
        await q.query<{ table_name: string }>(
          'SELECT table_name FROM vector_tables WHERE starts_with(table_name, $1)',
          [`${j.tableBaseName}_v`],
        )
      ).rows.map((r) => r.table_name);
      // BASE_vN with N above every registered table and free on disk (an orphan folder is never reused).
      let n = 0;
      for (const t of names) {
        const m = /_v(\d+)$/.exec(t);
        if (m && t === `${j.tableBaseName}_v${m[1]}`) n = Math.max(n, Number(m[1]));
      }
      let name = `${j.tableBaseName}_v${n + 1}`;
      for (let k = n + 1; j.onDisk.has(name); k++) name = `${j.tableBaseName}_v${k + 1}`;
      await q.query(
        `INSERT INTO vector_tables (table_name, model_id, dim, pipeline_version, state, created_at_ms) VALUES ($1, $2, $3, $4, 'building', $5)`,
        [name, j.modelId, j.dim, j.pipelineVersion, nowMs],
      );
      const total = (await q.query<{ n: number }>('SELECT COUNT(*) AS n FROM key_state')).rows[0]!.n;
      // A commit mark of the serving table, not a bronze seq: its two lanes commit out of seq order.
      const baseSeq = await commitMarkIn(q, j.sourceTable);
      const r = await q.query<DbJob>(
        `INSERT INTO reindex_jobs (table_name, source_table, model_id, dim, settings_key, state, base_seq, caught_up_seq, records_total, pid, started_at_ms, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, 'building', $6, $6, $7, $8, $9, $9) RETURNING *`,
        [name, j.sourceTable, j.modelId, j.dim, j.settingsKey, baseSeq, total, process.pid, nowMs],
      );
      return jobFrom(r.rows[0]!);
    });
  }

  async resume(jobId: number, nowMs: number): Promise<ReindexJob> {
    const r = await this.db.query<DbJob>(
      'UPDATE reindex_jobs SET attempts = attempts + 1, pid = $1, updated_at_ms = $2 WHERE job_id = $3 RETURNING *',
      [process.pid, nowMs, jobId],
    );
    return jobFrom(r.rows[0]!);
  }

  async abandon(jobId: number, reason: string, nowMs: number): Promise<void> {
    await this.db.tx(async (q) => {
      await lockServing(q);
      const job = (await getIn(q, jobId))!;
      await finishIn(q, jobId, 'abandoned', reason, nowMs);
      await q.query(
        `UPDATE vector_tables SET state = 'failed' WHERE table_name = $1 AND state = 'building'`,
        [job.tableName],
      );
    });
  }

  async fail(jobId: number, message: string, nowMs: number): Promise<void> {
    await this.db.tx(async (q) => {
      await lockServing(q);
      const job = (await getIn(q, jobId))!;
      await q.query(`UPDATE vector_tables SET state = 'failed' WHERE table_name = $1`, [job.tableName]);
      await finishIn(q, jobId, 'failed', message, nowMs);
    });
  }

  progress(jobId: number, p: JobProgress, nowMs: number): Promise<void> {
    return progressIn(this.db, jobId, p, nowMs);
  }

  async setGates(jobId: number, gates: unknown, nowMs: number): Promise<void> {
    await this.db.query(
      'UPDATE reindex_jobs SET gates_json = $1::jsonb, updated_at_ms = $2 WHERE job_id = $3',
      [JSON.stringify(gates), nowMs, jobId],
    );
  }

  async keyPage(afterId: string, limit: number): Promise<KeyRow[]> {
    const r = await this.db.query<{ record_id: string; seq: number; deleted: boolean }>(
      'SELECT record_id, seq, deleted FROM key_state WHERE record_id > $1 ORDER BY record_id LIMIT $2',
      [afterId, limit],
    );
    return r.rows.map((x) => ({ id: x.record_id, seq: x.seq, deleted: x.deleted }));
  }

  sourceMarks(sourceTable: string): Promise<{ commitMark: number; watermark: number }> {
    return this.db.tx(
      async (q) => ({
        commitMark: await commitMarkIn(q, sourceTable),
        watermark: await watermarkIn(q, sourceTable),
      }),
      { isolation: 'repeatable read', readOnly: true },
    );
  }

  idsCommittedBetween(sourceTable: string, afterMark: number, upToMark: number): Promise<string[]> {
    return idsCommittedBetweenIn(this.db, sourceTable, afterMark, upToMark);
  }

  swapIfUnchanged(s: SwapRequest, nowMs: number): Promise<SwapOutcome> {
    return this.db.tx(async (q): Promise<SwapOutcome> => {
      await lockServing(q);
      await lockTableCommits(q, s.sourceTable);
      const cur = await servingIn(q);
      if (!cur || cur.tableName !== s.sourceTable)
        return { kind: 'serving-moved', servingNow: cur?.tableName ?? null };
      if ((await commitMarkIn(q, s.sourceTable)) !== s.caughtUpSeq) return { kind: 'behind' };
      const idsTouched = (await getIn(q, s.jobId))!.recordsDone;
      await recordCoverage(q, s, idsTouched, nowMs);
      await swapIn(q, s.tableName, nowMs);
      await progressIn(q, s.jobId, s.counters, nowMs);
      await finishIn(q, s.jobId, 'swapped', null, nowMs);
      return { kind: 'swapped' };
    });
  }
}

/**
 * Gives the new table the serving table's coverage at the swap (as the SQLite adapter does): one
 * synthetic committed batch whose segments are each file's committed prefix, and the per-file progress.
 */
async function recordCoverage(
  q: PgQueryable,
  s: SwapRequest,
  idsTouched: number,
  nowMs: number,
): Promise<void> {
  const batchId = `${s.tableName}:reindex:${s.caughtUpSeq}`;
  const r = await q.query(
    `INSERT INTO batches (batch_id, table_name, seq_from, seq_to, lane, state, planned_at_ms, committed_at_ms, table_version, records_in, ids_touched, rows_inserted, rows_updated, rows_deleted, texts_embedded, texts_reused, model_id, pipeline_version, commit_no)
     VALUES ($1, $2, 0, 0, 'backlog', 'committed', $3, $3, $4, 0, $5, $6, 0, 0, $7, $8, $9, $10, 1)
     ON CONFLICT (batch_id) DO NOTHING`,
    [
      batchId,
      s.tableName,
      nowMs,
      s.tableVersion,
      idsTouched,
      s.counters.rowsWritten,
      s.counters.textsEmbedded,
      s.counters.textsReused,
      s.modelId,
      s.pipelineVersion,
    ],
  );
  if (r.rowCount === 0) return;
  const seg = await q.query<{ n: number }>(
    `INSERT INTO batch_segments (batch_id, file_id, seq_from, seq_to, records)
     SELECT $1, file_id, seq_from, committed_to, committed_records FROM file_progress
      WHERE table_name = $2 AND committed_to >= seq_from
     ON CONFLICT DO NOTHING RETURNING records AS n`,
    [batchId, s.sourceTable],
  );
  const records = seg.rows.reduce((a, x) => a + x.n, 0);
  await q.query(
    `INSERT INTO file_progress (table_name, file_id, lane, reason, seq_from, seq_to, records, complete_at_ms, landed_at_ms, queued_at_ms, planned_to, planned_records, committed_to, committed_records, searchable_at_ms)
     SELECT $1, file_id, lane, reason, seq_from, seq_to, records, complete_at_ms, landed_at_ms, $2, committed_to, committed_records, committed_to, committed_records, searchable_at_ms
       FROM file_progress WHERE table_name = $3
     ON CONFLICT (table_name, file_id) DO UPDATE SET lane = excluded.lane, reason = excluded.reason, seq_from = excluded.seq_from,
       seq_to = excluded.seq_to, records = excluded.records, complete_at_ms = excluded.complete_at_ms, landed_at_ms = excluded.landed_at_ms,
       queued_at_ms = excluded.queued_at_ms, planned_to = excluded.planned_to, planned_records = excluded.planned_records,
       committed_to = excluded.committed_to, committed_records = excluded.committed_records, searchable_at_ms = excluded.searchable_at_ms`,
    [s.tableName, nowMs, s.sourceTable],
  );
  await q.query(
    `INSERT INTO lane_cursors (table_name, settled_file_id) SELECT $1, settled_file_id FROM lane_cursors WHERE table_name = $2
     ON CONFLICT (table_name) DO UPDATE SET settled_file_id = excluded.settled_file_id`,
    [s.tableName, s.sourceTable],
  );
  const range = (
    await q.query<{ a: number | null; b: number | null }>(
      'SELECT MIN(seq_from) AS a, MAX(seq_to) AS b FROM batch_segments WHERE batch_id = $1 AND records > 0',
      [batchId],
    )
  ).rows[0]!;
  await q.query('UPDATE batches SET seq_from = $1, seq_to = $2, records_in = $3 WHERE batch_id = $4', [
    range.a ?? 0,
    range.b ?? 0,
    records,
    batchId,
  ]);
}
