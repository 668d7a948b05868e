import type { Sqlite } from '../store/sqlite/db.js';
import { LanesSql } from '../store/sqlite/lanes.js';

export type JobState = 'building' | 'catching_up' | 'gating' | 'swapped' | 'failed' | 'abandoned';
export const ACTIVE_STATES: readonly JobState[] = ['building', 'catching_up', 'gating'];

export interface ReindexJob {
  readonly jobId: number;
  readonly tableName: string;
  readonly sourceTable: string;
  readonly modelId: string;
  readonly dim: number;
  /** Model, pipeline version and chunking the build used: a job resumes only under the same key. */
  readonly settingsKey: string;
  readonly state: JobState;
  /** The source table's committed seq when the build started: catch-up replays everything after it. */
  readonly baseSeq: number;
  /** Every batch the source table committed up to this seq is in the new table. */
  readonly caughtUpSeq: number;
  /** Last key-state id built (ids are built in id order). */
  readonly cursorId: string;
  readonly recordsTotal: number;
  readonly recordsDone: number;
  readonly rowsWritten: number;
  readonly textsEmbedded: number;
  readonly textsReused: number;
  readonly rateRps: number | null;
  readonly etaMs: number | null;
  readonly gates: unknown;
  readonly error: string | null;
  readonly pid: number | null;
  readonly attempts: number;
  readonly startedAtMs: number;
  readonly updatedAtMs: number;
  readonly finishedAtMs: number | null;
}

type DbJob = {
  job_id: number;
  table_name: string;
  source_table: string;
  model_id: string;
  dim: number;
  settings_key: string;
  state: JobState;
  base_seq: number;
  caught_up_seq: number;
  cursor_id: string;
  records_total: number;
  records_done: number;
  rows_written: number;
  texts_embedded: number;
  texts_reused: number;
  rate_rps: number | null;
  eta_ms: number | null;
  gates_json: string | null;
  error: string | null;
  pid: number | null;
  attempts: number;
  started_at_ms: number;
  updated_at_ms: number;
  finished_at_ms: number | null;
};

const jobFrom = (r: DbJob): ReindexJob => ({
  jobId: r.job_id,
  tableName: r.table_name,
  sourceTable: r.source_table,
  modelId: r.model_id,
  dim: r.dim,
  settingsKey: r.settings_key,
  state: r.state,
  baseSeq: r.base_seq,
  caughtUpSeq: r.caught_up_seq,
  cursorId: r.cursor_id,
  recordsTotal: r.records_total,
  recordsDone: r.records_done,
  rowsWritten: r.rows_written,
  textsEmbedded: r.texts_embedded,
  textsReused: r.texts_reused,
  rateRps: r.rate_rps,
  etaMs: r.eta_ms,
  gates: r.gates_json === null ? null : (JSON.parse(r.gates_json) as unknown),
  error: r.error,
  pid: r.pid,
  attempts: r.attempts,
  startedAtMs: r.started_at_ms,
  updatedAtMs: r.updated_at_ms,
  finishedAtMs: r.finished_at_ms,
});

export interface JobProgress {
  readonly cursorId?: string;
  readonly recordsDone?: number;
  readonly rowsWritten?: number;
  readonly textsEmbedded?: number;
  readonly textsReused?: number;
  readonly caughtUpSeq?: number;
  readonly rateRps?: number | null;
  readonly etaMs?: number | null;
  readonly state?: JobState;
}

/** The reindex job rows in SQLite: the resumable state of a build and what `status` reports. */
export class ReindexJobs {
  constructor(private readonly db: Sqlite) {}

  active(): ReindexJob | null {
    const r = this.db
      .prepare(
        `SELECT * FROM reindex_jobs WHERE state IN ('building','catching_up','gating') ORDER BY job_id DESC LIMIT 1`,
      )
      .get() as DbJob | undefined;
    return r ? jobFrom(r) : null;
  }

  latest(): ReindexJob | null {
    const r = this.db.prepare('SELECT * FROM reindex_jobs ORDER BY job_id DESC LIMIT 1').get() as
      DbJob | undefined;
    return r ? jobFrom(r) : null;
  }

  get(jobId: number): ReindexJob | null {
    const r = this.db.prepare('SELECT * FROM reindex_jobs WHERE job_id = ?').get(jobId) as DbJob | undefined;
    return r ? jobFrom(r) : null;
  }

  create(
    j: {
      tableName: string;
      sourceTable: string;
      modelId: string;
      dim: number;
      settingsKey: string;
      baseSeq: number;
      recordsTotal: number;
    },
    nowMs: number,
  ): ReindexJob {
    const r = this.db
      .prepare(
        `INSERT INTO reindex_jobs (table_name, source_table, model_id, dim, settings_key, state, base_seq, caught_up_seq, records_total, pid, started_at_ms, updated_at_ms)
         VALUES (?, ?, ?, ?, ?, 'building', ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        j.tableName,
        j.sourceTable,
        j.modelId,
        j.dim,
        j.settingsKey,
        j.baseSeq,
        j.baseSeq,
        j.recordsTotal,
        process.pid,
        nowMs,
        nowMs,
      );
    return this.get(Number(r.lastInsertRowid))!;
  }

  /** A resumed job: counts this attempt and records the new pid. */
  resume(jobId: number, nowMs: number): ReindexJob {
    this.db
      .prepare('UPDATE reindex_jobs SET attempts = attempts + 1, pid = ?, updated_at_ms = ? WHERE job_id = ?')
      .run(process.pid, nowMs, jobId);
    return this.get(jobId)!;
  }

  progress(jobId: number, p: JobProgress, nowMs: number): void {
    const sets: string[] = ['updated_at_ms = @now'];
    const cols: Record<keyof JobProgress, string> = {
      cursorId: 'cursor_id',
      recordsDone: 'records_done',
      rowsWritten: 'rows_written',
      textsEmbedded: 'texts_embedded',
      textsReused: 'texts_reused',
      caughtUpSeq: 'caught_up_seq',
      rateRps: 'rate_rps',
      etaMs: 'eta_ms',
      state: 'state',
    };
    const params: Record<string, unknown> = { now: nowMs, id: jobId };
    for (const [k, col] of Object.entries(cols) as [keyof JobProgress, string][]) {
      if (p[k] === undefined) continue;
      sets.push(`${col} = @${k}`);
      params[k] = p[k];
    }
    this.db.prepare(`UPDATE reindex_jobs SET ${sets.join(', ')} WHERE job_id = @id`).run(params);
  }

  setGates(jobId: number, gates: unknown, nowMs: number): void {
    this.db
      .prepare('UPDATE reindex_jobs SET gates_json = ?, updated_at_ms = ? WHERE job_id = ?')
      .run(JSON.stringify(gates), nowMs, jobId);
  }

  finish(
    jobId: number,
    state: 'swapped' | 'failed' | 'abandoned',
    error: string | null,
    nowMs: number,
  ): void {
    this.db
      .prepare(
        'UPDATE reindex_jobs SET state = ?, error = ?, finished_at_ms = ?, updated_at_ms = ?, eta_ms = NULL WHERE job_id = ?',
      )
      .run(state, error, nowMs, nowMs, jobId);
  }

  /** The key state after `afterId` in id order (the build's pages). */
  keyPage(afterId: string, limit: number): { id: string; seq: number; deleted: boolean }[] {
    return (
      this.db
        .prepare(
          'SELECT record_id, seq, deleted FROM key_state WHERE record_id > ? ORDER BY record_id LIMIT ?',
        )
        .all(afterId, limit) as { record_id: string; seq: number; deleted: number }[]
    ).map((r) => ({ id: r.record_id, seq: r.seq, deleted: r.deleted === 1 }));
  }

  /**
   * Gives the new table the serving table's coverage at the swap: one synthetic committed batch (its
   * table version, for the startup reconcile) whose segments are each file's committed prefix, and
   * the per-file progress, so its processor continues with exactly what the old table had not
   * committed. Runs inside the swap transaction (nothing commits to the source meanwhile).
   */
  recordCoverage(
    tableName: string,
    sourceTable: string,
    commitMark: number,
    tableVersion: number,
    modelId: string,
    pipelineVersion: string,
    counts: { idsTouched: number; rowsInserted: number; textsEmbedded: number; textsReused: number },
    nowMs: number,
  ): void {
    const batchId = `${tableName}:reindex:${commitMark}`;
    const lanes = new LanesSql(this.db);
    const r = this.db
      .prepare(
        `INSERT INTO batches (batch_id, table_name, seq_from, seq_to, lane, state, planned_at_ms, committed_at_ms, table_version, records_in, ids_touched, rows_inserted, rows_updated, rows_deleted, texts_embedded, texts_reused, model_id, pipeline_version, commit_no)
         VALUES (?, ?, 0, 0, 'backlog', 'committed', ?, ?, ?, 0, ?, ?, 0, 0, ?, ?, ?, ?, 1)
         ON CONFLICT(batch_id) DO NOTHING`,
      )
      .run(
        batchId,
        tableName,
        nowMs,
        nowMs,
        tableVersion,
        counts.idsTouched,
        counts.rowsInserted,
        counts.textsEmbedded,
        counts.textsReused,
        modelId,
        pipelineVersion,
      );
    if (r.changes === 0) return;
    const c = lanes.copyCoverage(sourceTable, tableName, batchId, nowMs);
    const range = this.db
      .prepare(
        'SELECT MIN(seq_from) AS a, MAX(seq_to) AS b FROM batch_segments WHERE batch_id = ? AND records > 0',
      )
      .get(batchId) as { a: number | null; b: number | null };
    this.db
      .prepare('UPDATE batches SET seq_from = ?, seq_to = ?, records_in = ? WHERE batch_id = ?')
      .run(range.a ?? 0, range.b ?? 0, c.records, batchId);
  }
}
