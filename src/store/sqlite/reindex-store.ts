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
import type { Sqlite } from './db.js';
import { LanesSql } from './lanes.js';
import { RegistrySql } from './registry.js';
import { settle } from './leases.js';

/** The reindex_jobs table, the key state and the serving pointer as the reindex job sees them. */
export class SqliteReindexStore implements ReindexStore {
  private readonly tables: RegistrySql;
  private readonly lanes: LanesSql;

  constructor(private readonly db: Sqlite) {
    this.tables = new RegistrySql(db);
    this.lanes = new LanesSql(db);
  }

  serving(): Promise<ServingTable | null> {
    return settle(() => {
      const s = this.tables.serving();
      return s ? { tableName: s.tableName, modelId: s.modelId, dim: s.dim } : null;
    });
  }

  active(): Promise<ReindexJob | null> {
    return settle(() => {
      const r = this.db
        .prepare(
          `SELECT * FROM reindex_jobs WHERE state IN ('building','catching_up','gating') ORDER BY job_id DESC LIMIT 1`,
        )
        .get() as DbJob | undefined;
      return r ? jobFrom(r) : null;
    });
  }

  latest(): Promise<ReindexJob | null> {
    return settle(() => {
      const r = this.db.prepare('SELECT * FROM reindex_jobs ORDER BY job_id DESC LIMIT 1').get() as
        DbJob | undefined;
      return r ? jobFrom(r) : null;
    });
  }

  get(jobId: number): Promise<ReindexJob | null> {
    return settle(() => this.getSync(jobId));
  }

  private getSync(jobId: number): ReindexJob | null {
    const r = this.db.prepare('SELECT * FROM reindex_jobs WHERE job_id = ?').get(jobId) as DbJob | undefined;
    return r ? jobFrom(r) : null;
  }

  tableState(tableName: string): Promise<string | null> {
    return settle(() => this.tables.get(tableName)?.state ?? null);
  }

  create(j: NewJob, nowMs: number): Promise<ReindexJob> {
    return settle(() =>
      this.db
        .transaction(() => {
          const name = this.freeName(j.tableBaseName, j.onDisk);
          this.tables.register(name, j.modelId, j.dim, j.pipelineVersion, 'building', nowMs);
          const total = (this.db.prepare('SELECT COUNT(*) AS n FROM key_state').get() as { n: number }).n;
          // A commit mark of the serving table, not a bronze seq: its two lanes commit out of seq order.
          const baseSeq = this.lanes.commitMark(j.sourceTable);
          const r = this.db
            .prepare(
              `INSERT INTO reindex_jobs (table_name, source_table, model_id, dim, settings_key, state, base_seq, caught_up_seq, records_total, pid, started_at_ms, updated_at_ms)
               VALUES (?, ?, ?, ?, ?, 'building', ?, ?, ?, ?, ?, ?)`,
            )
            .run(
              name,
              j.sourceTable,
              j.modelId,
              j.dim,
              j.settingsKey,
              baseSeq,
              baseSeq,
              total,
              process.pid,
              nowMs,
              nowMs,
            );
          return this.getSync(Number(r.lastInsertRowid))!;
        })
        .immediate(),
    );
  }

  /** BASE_vN with N above every registered table and free on disk (an orphan folder is never reused). */
  private freeName(base: string, onDisk: ReadonlySet<string>): string {
    let name = this.tables.nextName(base);
    for (let n = Number(/_v(\d+)$/.exec(name)![1]); onDisk.has(name); n++) name = `${base}_v${n + 1}`;
    return name;
  }

  resume(jobId: number, nowMs: number): Promise<ReindexJob> {
    return settle(() => {
      this.db
        .prepare(
          'UPDATE reindex_jobs SET attempts = attempts + 1, pid = ?, updated_at_ms = ? WHERE job_id = ?',
        )
        .run(process.pid, nowMs, jobId);
      return this.getSync(jobId)!;
    });
  }

  abandon(jobId: number, reason: string, nowMs: number): Promise<void> {
    return settle(() =>
      this.db
        .transaction(() => {
          const job = this.getSync(jobId)!;
          this.finish(jobId, 'abandoned', reason, nowMs);
          if (this.tables.get(job.tableName)?.state === 'building')
            this.tables.setState(job.tableName, 'failed');
        })
        .immediate(),
    );
  }

  fail(jobId: number, message: string, nowMs: number): Promise<void> {
    return settle(() =>
      this.db
        .transaction(() => {
          this.tables.setState(this.getSync(jobId)!.tableName, 'failed');
          this.finish(jobId, 'failed', message, nowMs);
        })
        .immediate(),
    );
  }

  progress(jobId: number, p: JobProgress, nowMs: number): Promise<void> {
    return settle(() => this.progressSync(jobId, p, nowMs));
  }

  private progressSync(jobId: number, p: JobProgress, nowMs: number): void {
    const sets: string[] = ['updated_at_ms = @now'];
    const params: Record<string, unknown> = { now: nowMs, id: jobId };
    for (const [k, col] of Object.entries(PROGRESS_COLUMNS) as [keyof JobProgress, string][]) {
      if (p[k] === undefined) continue;
      sets.push(`${col} = @${k}`);
      params[k] = p[k];
    }
    this.db.prepare(`UPDATE reindex_jobs SET ${sets.join(', ')} WHERE job_id = @id`).run(params);
  }

  setGates(jobId: number, gates: unknown, nowMs: number): Promise<void> {
    return settle(() => {
      this.db
        .prepare('UPDATE reindex_jobs SET gates_json = ?, updated_at_ms = ? WHERE job_id = ?')
        .run(JSON.stringify(gates), nowMs, jobId);
    });
  }

  private finish(
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

  keyPage(afterId: string, limit: number): Promise<KeyRow[]> {
    return settle(() =>
      (
        this.db
          .prepare(
            'SELECT record_id, seq, deleted FROM key_state WHERE record_id > ? ORDER BY record_id LIMIT ?',
          )
          .all(afterId, limit) as { record_id: string; seq: number; deleted: number }[]
      ).map((r) => ({ id: r.record_id, seq: r.seq, deleted: r.deleted === 1 })),
    );
  }

  sourceMarks(sourceTable: string): Promise<{ commitMark: number; watermark: number }> {
    return settle(() =>
      this.db
        .transaction(() => ({
          commitMark: this.lanes.commitMark(sourceTable),
          watermark: this.lanes.watermark(sourceTable),
        }))
        .deferred(),
    );
  }

  idsCommittedBetween(sourceTable: string, afterMark: number, upToMark: number): Promise<string[]> {
    return settle(() => this.lanes.idsCommittedBetween(sourceTable, afterMark, upToMark));
  }

  swapIfUnchanged(s: SwapRequest, nowMs: number): Promise<SwapOutcome> {
    return settle(() =>
      this.db
        .transaction((): SwapOutcome => {
          const cur = this.tables.serving();
          if (!cur || cur.tableName !== s.sourceTable)
            return { kind: 'serving-moved', servingNow: cur?.tableName ?? null };
          if (this.lanes.commitMark(s.sourceTable) !== s.caughtUpSeq) return { kind: 'behind' };
          const idsTouched = this.getSync(s.jobId)!.recordsDone;
          this.recordCoverage(s, idsTouched, nowMs);
          this.tables.swap(s.tableName, nowMs);
          this.progressSync(s.jobId, s.counters, nowMs);
          this.finish(s.jobId, 'swapped', null, nowMs);
          return { kind: 'swapped' };
        })
        .immediate(),
    );
  }

  /**
   * Gives the new table the serving table's coverage at the swap: one synthetic committed batch (its
   * table version, for the startup reconcile) whose segments are each file's committed prefix, and
   * the per-file progress, so its processor continues with exactly what the old table had not
   * committed. Runs inside the swap transaction (nothing commits to the source meanwhile).
   */
  private recordCoverage(s: SwapRequest, idsTouched: number, nowMs: number): void {
    const batchId = `${s.tableName}:reindex:${s.caughtUpSeq}`;
    const r = this.db
      .prepare(
        `INSERT INTO batches (batch_id, table_name, seq_from, seq_to, lane, state, planned_at_ms, committed_at_ms, table_version, records_in, ids_touched, rows_inserted, rows_updated, rows_deleted, texts_embedded, texts_reused, model_id, pipeline_version, commit_no)
         VALUES (?, ?, 0, 0, 'backlog', 'committed', ?, ?, ?, 0, ?, ?, 0, 0, ?, ?, ?, ?, 1)
         ON CONFLICT(batch_id) DO NOTHING`,
      )
      .run(
        batchId,
        s.tableName,
        nowMs,
        nowMs,
        s.tableVersion,
        idsTouched,
        s.counters.rowsWritten,
        s.counters.textsEmbedded,
        s.counters.textsReused,
        s.modelId,
        s.pipelineVersion,
      );
    if (r.changes === 0) return;
    const c = this.lanes.copyCoverage(s.sourceTable, s.tableName, batchId, nowMs);
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
