import { clampLimit, EXCERPT_CHARS, RECORD_CHARS } from '../../observability/activity.js';
import type {
  BatchActivity,
  CommittedBatchActivity,
  FileActivity,
  LedgerCounters,
  QuarantineFilter,
  QuarantineList,
  QuarantineListEntry,
  ReadModel,
} from '../../ports/read-model.js';
import {
  batchActivityFrom,
  type DbBatchActivity,
  type DbBatchCounters,
  type DbFileActivity,
  type DbQuarantine,
  fileActivityFrom,
  ledgerCountersFrom,
  quarantineEntryFrom,
} from '../rows-activity.js';
import type { PgDatabase } from './connect.js';
import { backlogIn, undiscoveredIn, watermarkIn } from './lanes.js';

type QRow = Omit<DbQuarantine, 'raw'> & { raw: Buffer };

/**
 * Characters of a quarantined line: raw is BYTEA (valid UTF-8 written from a JS string, possibly with NUL,
 * which convert_from refuses: then the byte count stands in).
 */
const RAW_CHARS = `CASE WHEN position('\\x00'::bytea IN q.raw) = 0 THEN length(convert_from(q.raw, 'UTF8')) ELSE octet_length(q.raw) END`;

/** A bounded prefix of raw: up to 4 bytes a character, so `chars` whole characters fit (cut in JS). */
const rawPrefix = (chars: number) => `substring(q.raw FROM 1 FOR ${(chars + 1) * 4})`;

/** The prefix decoded and cut at `max + 1` whole characters, so the excerpt knows it was cut. */
const toEntry = (r: QRow, max: number): QuarantineListEntry =>
  quarantineEntryFrom(
    {
      ...r,
      raw: Array.from(r.raw.toString('utf8'))
        .slice(0, max + 1)
        .join(''),
    },
    max,
  );

/**
 * The read models over PostgreSQL: read-only SQL, every list bounded. Single-statement reads are one
 * snapshot each (READ COMMITTED); the counters that must agree with each other are read in one
 * REPEATABLE READ READ ONLY transaction.
 */
export class PgReadModel implements ReadModel {
  constructor(private readonly db: PgDatabase) {}

  async recentFiles(
    opts: { limit?: number | undefined; table?: string | null } = {},
  ): Promise<FileActivity[]> {
    const r = await this.db.query<
      DbFileActivity & { lane: string | null; n: number | null; at: number | null; last: number | null }
    >(
      `SELECT f.file_id, f.path, f.format, f.state, f.detail, f.records_read, f.records_landed, f.records_quarantined,
              f.landed_at_ms, p.lane, p.committed_records AS n, p.searchable_at_ms AS at,
              (SELECT MAX(t.committed_at_ms) FROM batch_segments s JOIN batches t ON t.batch_id = s.batch_id
                WHERE p.file_id IS NOT NULL AND s.file_id = p.file_id AND t.table_name = p.table_name AND t.state = 'committed') AS last
         FROM files f LEFT JOIN file_progress p ON p.table_name = $1 AND p.file_id = f.file_id
        ORDER BY f.file_id DESC LIMIT $2`,
      [opts.table ?? null, clampLimit(opts.limit)],
    );
    return r.rows.map((x) =>
      fileActivityFrom(x, x.lane === null ? null : { lane: x.lane, n: x.n, at: x.at, last: x.last }),
    );
  }

  async recentBatches(
    opts: { limit?: number | undefined; table?: string | null | undefined; state?: string | undefined } = {},
  ): Promise<BatchActivity[]> {
    const r = await this.db.query<DbBatchActivity>(
      `SELECT batch_id, table_name, state, lane, seq_from, seq_to, records_in, ids_touched, rows_inserted, rows_updated,
              rows_deleted, texts_embedded, texts_reused, attempts, error, model_id, planned_at_ms, committed_at_ms
         FROM batches WHERE ($1::text IS NULL OR table_name = $1) AND ($2::text IS NULL OR state = $2)
        ORDER BY planned_at_ms DESC, ctid DESC LIMIT $3`,
      [opts.table || null, opts.state || null, clampLimit(opts.limit)],
    );
    return r.rows.map(batchActivityFrom);
  }

  async listQuarantine(f: QuarantineFilter = {}): Promise<QuarantineList> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.file !== undefined && f.file !== '') {
      params.push(f.file);
      where.push(`strpos(f.path, $${params.length}) > 0`);
    }
    if (f.code !== undefined && f.code !== '') {
      params.push(f.code);
      where.push(`q.code = $${params.length}`);
    }
    if (f.sinceMs !== undefined) {
      params.push(f.sinceMs);
      where.push(`q.at_ms >= $${params.length}`);
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const from = 'FROM quarantine q JOIN files f ON f.file_id = q.file_id';
    return this.db.tx(
      async (q) => {
        const total = (await q.query<{ n: number }>(`SELECT COUNT(*) AS n ${from} ${w}`, params)).rows[0]!.n;
        const rows = (
          await q.query<QRow>(
            `SELECT q.q_id, q.file_id, f.path, q.line, q.byte_offset, q.code, q.field, q.message,
                    ${rawPrefix(EXCERPT_CHARS)} AS raw, q.at_ms, ${RAW_CHARS} AS len
               ${from} ${w} ORDER BY q.q_id DESC LIMIT $${params.length + 1}`,
            [...params, clampLimit(f.limit)],
          )
        ).rows;
        return { total, entries: rows.map((x) => toEntry(x, EXCERPT_CHARS)) };
      },
      { isolation: 'repeatable read', readOnly: true },
    );
  }

  async quarantineRecord(qId: number): Promise<QuarantineListEntry | null> {
    const r = await this.db.query<QRow>(
      `SELECT q.q_id, q.file_id, f.path, q.line, q.byte_offset, q.code, q.field, q.message,
              ${rawPrefix(RECORD_CHARS)} AS raw, q.at_ms, ${RAW_CHARS} AS len
         FROM quarantine q JOIN files f ON f.file_id = q.file_id WHERE q.q_id = $1`,
      [qId],
    );
    return r.rows[0] ? toEntry(r.rows[0], RECORD_CHARS) : null;
  }

  async quarantineByCode(): Promise<{ code: string; count: number; lastAtMs: number }[]> {
    const r = await this.db.query<{ code: string; count: number; last: number }>(
      'SELECT code, COUNT(*) AS count, MAX(at_ms) AS last FROM quarantine GROUP BY code ORDER BY count DESC, code',
    );
    return r.rows.map((x) => ({ code: x.code, count: x.count, lastAtMs: x.last }));
  }

  ledgerCounters(tableName: string): Promise<LedgerCounters> {
    return this.db.tx(
      async (q) => {
        const b = (
          await q.query<DbBatchCounters>(
            `SELECT
               COUNT(*) FILTER (WHERE state = 'committed') AS committed,
               COALESCE(SUM(CASE WHEN state = 'failed' THEN attempts ELSE attempts - 1 END), 0) AS failed_attempts,
               COUNT(*) FILTER (WHERE state <> 'committed') AS pending,
               COALESCE(SUM(CASE WHEN state = 'committed' THEN records_in END), 0) AS published,
               COALESCE(SUM(rows_inserted), 0) AS ins, COALESCE(SUM(rows_updated), 0) AS upd, COALESCE(SUM(rows_deleted), 0) AS del,
               COALESCE(SUM(texts_embedded), 0) AS emb, COALESCE(SUM(texts_reused), 0) AS reu,
               COUNT(*) FILTER (WHERE error LIKE 'GATE_FAILED%') AS gate,
               COALESCE(MAX(CASE WHEN state = 'committed' THEN seq_to END), 0) AS committed_to
             FROM batches WHERE table_name = $1`,
            [tableName],
          )
        ).rows[0]!;
        const lb = await backlogIn(q, tableName);
        const backlog = lb.live.records + lb.backlog.records + (await undiscoveredIn(q, tableName)).records;
        const newest = (
          await q.query<{ t: number | null }>('SELECT MAX(event_time_ms) AS t FROM bronze WHERE seq <= $1', [
            b.committed_to,
          ])
        ).rows[0]!.t;
        const incidents: Record<string, number> = {};
        for (const r of (
          await q.query<{ failure_mode: string; n: number }>(
            'SELECT failure_mode, COUNT(*) AS n FROM incidents GROUP BY failure_mode',
          )
        ).rows)
          incidents[r.failure_mode] = r.n;
        const opt = (
          await q.query<{ n: number; c: number }>(
            'SELECT COUNT(*) AS n, COALESCE(SUM(conflicts), 0) AS c FROM optimize_runs',
          )
        ).rows[0]!;
        return ledgerCountersFrom(b, { backlog, newest, incidents, optimize: opt });
      },
      { isolation: 'repeatable read', readOnly: true },
    );
  }

  async committedActivity(
    tableName: string,
    sinceMs: number,
    skip: ReadonlySet<string>,
  ): Promise<CommittedBatchActivity[]> {
    return this.db.tx(
      async (q) => {
        const rows = (
          await q.query<{
            batch_id: string;
            planned_at_ms: number;
            committed_at_ms: number;
            lane: string | null;
          }>(
            `SELECT batch_id, planned_at_ms, committed_at_ms, lane FROM batches
              WHERE table_name = $1 AND state = 'committed' AND committed_at_ms >= $2
              ORDER BY committed_at_ms, batch_id COLLATE "C"`,
            [tableName, Number.isFinite(sinceMs) ? sinceMs : -Number.MAX_SAFE_INTEGER],
          )
        ).rows;
        const want = rows.filter((r) => !skip.has(r.batch_id)).map((r) => r.batch_id);
        const landed = new Map<string, { landedAtMs: number; records: number }[]>();
        if (want.length > 0)
          for (const g of (
            await q.query<{ batch_id: string; l: number; n: number }>(
              `SELECT s.batch_id, b.landed_at_ms AS l, COUNT(*) AS n FROM batch_segments s
                 JOIN bronze b ON b.file_id = s.file_id AND b.seq BETWEEN s.seq_from AND s.seq_to
                WHERE s.batch_id = ANY($1::text[]) GROUP BY s.batch_id, b.landed_at_ms ORDER BY s.batch_id, b.landed_at_ms`,
              [want],
            )
          ).rows) {
            const list = landed.get(g.batch_id) ?? [];
            list.push({ landedAtMs: g.l, records: g.n });
            landed.set(g.batch_id, list);
          }
        return rows.map((r) => ({
          batchId: r.batch_id,
          lane: r.lane === null ? null : String(r.lane),
          plannedAtMs: r.planned_at_ms,
          committedAtMs: r.committed_at_ms,
          landed: skip.has(r.batch_id) ? [] : (landed.get(r.batch_id) ?? []),
        }));
      },
      { isolation: 'repeatable read', readOnly: true },
    );
  }

  async committedBatchRanges(
    tableName: string,
  ): Promise<{ batchId: string; seqFrom: number; seqTo: number }[]> {
    const r = await this.db.query<{ batch_id: string; seq_from: number; seq_to: number }>(
      `SELECT batch_id, seq_from, seq_to FROM batches WHERE table_name = $1 AND state = 'committed' ORDER BY seq_from`,
      [tableName],
    );
    return r.rows.map((x) => ({ batchId: x.batch_id, seqFrom: x.seq_from, seqTo: x.seq_to }));
  }

  committedAmong(tableName: string, seqs: readonly number[]): Promise<Set<number>> {
    return this.db.tx(
      async (q) => {
        const wm = await watermarkIn(q, tableName);
        const out = new Set(seqs.filter((s) => s <= wm));
        const above = seqs.filter((s) => s > wm);
        if (above.length > 0)
          for (const r of (
            await q.query<{ seq: number }>(
              `SELECT b.seq FROM bronze b JOIN file_progress p ON p.table_name = $1 AND p.file_id = b.file_id
                WHERE b.seq = ANY($2::bigint[]) AND b.seq <= p.committed_to`,
              [tableName, above],
            )
          ).rows)
            out.add(r.seq);
        return out;
      },
      { isolation: 'repeatable read', readOnly: true },
    );
  }

  async idsInBronze(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const r = await this.db.query<{ id: string }>(
      'SELECT DISTINCT record_id AS id FROM bronze WHERE record_id = ANY($1::text[])',
      [ids],
    );
    return new Set(r.rows.map((x) => x.id));
  }
}
