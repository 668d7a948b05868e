import type { BronzeEvent } from '../../ports/bronze.js';
import type {
  FileProgress,
  FileSearchable,
  Lane,
  LaneBacklog,
  LaneClassifier,
  Lanes,
  Segment,
} from '../../ports/ledger.js';
import type { PgDatabase, PgQueryable } from './connect.js';
import { PgBatches } from './batches.js';
import { CATALOG_LOCK } from './bronze.js';
import { eventFrom, progressFrom, type DbEvent, type DbProgress } from '../rows.js';

export const VISIBLE = `('verified','unverified')`;
export const EVENT_COLS = `b.seq, b.file_id, f.path, b.line, b.byte_offset, b.record_id, b.version, b.event_time, b.event_time_ms, b.op, b.text, b.metadata_json, b.landed_at_ms`;

/** Serializes `discover` per table: two workers must not both classify and insert the same file. */
const lockDiscover = (q: PgQueryable, tableName: string) =>
  q.query(`SELECT pg_advisory_xact_lock(hashtextextended('seamline.discover:' || $1, 0))`, [tableName]);

async function cursorOf(q: PgQueryable, tableName: string): Promise<number> {
  const r = await q.query<{ s: number }>(
    'SELECT settled_file_id AS s FROM lane_cursors WHERE table_name = $1',
    [tableName],
  );
  return r.rows[0]?.s ?? 0;
}

/** The contiguous watermark, read through `q` (one statement: one snapshot under READ COMMITTED). */
export async function watermarkIn(q: PgQueryable, tableName: string): Promise<number> {
  const r = await q.query<{ s: number | null }>(
    `SELECT MIN(s) AS s FROM (
       SELECT MIN(committed_to) AS s FROM file_progress WHERE table_name = $1 AND committed_to < seq_to
       UNION ALL
       SELECT MIN(f.seq_from) - 1 FROM files f
        WHERE f.file_id > COALESCE((SELECT settled_file_id FROM lane_cursors WHERE table_name = $1), 0)
          AND f.state IN ${VISIBLE} AND f.seq_from IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM file_progress p WHERE p.table_name = $1 AND p.file_id = f.file_id)
       UNION ALL
       SELECT MIN(b.seq) - 1 FROM bronze b JOIN files f ON f.file_id = b.file_id WHERE f.state = 'landing'
       UNION ALL
       SELECT COALESCE(MAX(seq), 0) FROM bronze
     ) x`,
    [tableName],
  );
  return Math.max(0, r.rows[0]?.s ?? 0);
}

export async function commitMarkIn(q: PgQueryable, tableName: string): Promise<number> {
  const r = await q.query<{ n: number }>(
    'SELECT COALESCE(MAX(commit_no), 0) AS n FROM batches WHERE table_name = $1',
    [tableName],
  );
  return r.rows[0]!.n;
}

export async function idsCommittedBetweenIn(
  q: PgQueryable,
  tableName: string,
  afterMark: number,
  upToMark: number,
): Promise<string[]> {
  const r = await q.query<{ id: string }>(
    `SELECT DISTINCT b.record_id AS id FROM batches t JOIN batch_segments s ON s.batch_id = t.batch_id
     JOIN bronze b ON b.file_id = s.file_id AND b.seq BETWEEN s.seq_from AND s.seq_to
     WHERE t.table_name = $1 AND t.state = 'committed' AND t.commit_no > $2 AND t.commit_no <= $3 ORDER BY b.record_id`,
    [tableName, afterMark, upToMark],
  );
  return r.rows.map((x) => x.id);
}

/**
 * The lanes port over PostgreSQL (per (table, file) progress, lane cursors, watermark). `discover` runs
 * under a per-table advisory transaction lock (and its insert is keyed (table, file) with ON CONFLICT DO
 * NOTHING as a second guard); the watermark is one statement; `markAndWatermark` is one REPEATABLE READ
 * READ ONLY transaction.
 */
export class PgLanes implements Lanes {
  private readonly batches: PgBatches;

  constructor(private readonly db: PgDatabase) {
    this.batches = new PgBatches(db);
  }

  discover(tableName: string, nowMs: number, classify: LaneClassifier): Promise<number> {
    return this.db.tx(async (q) => {
      await lockDiscover(q, tableName);
      // No landing's catalog row is being inserted meanwhile (see CATALOG_LOCK).
      await q.query('SELECT pg_advisory_xact_lock_shared($1::bigint)', [CATALOG_LOCK]);
      const cur = await cursorOf(q, tableName);
      // ONE statement (one snapshot) gives both the files to add and where the cursor may move: with two
      // reads, a file still landing at the first could publish before the second, and the cursor would
      // step over it for good (READ COMMITTED takes a snapshot per statement).
      const all = (
        await q.query<{
          file_id: number;
          state: string;
          known: boolean;
          seq_from: number | null;
          seq_to: number | null;
          records_landed: number;
          mtime_ms: number;
          landed_at_ms: number;
          complete_at_ms: number | null;
        }>(
          `SELECT f.file_id, f.state, f.seq_from, f.seq_to, f.records_landed, f.mtime_ms, f.landed_at_ms, f.complete_at_ms,
                  EXISTS (SELECT 1 FROM file_progress p WHERE p.table_name = $2 AND p.file_id = f.file_id) AS known
             FROM files f WHERE f.file_id > $1 ORDER BY f.file_id`,
          [cur, tableName],
        )
      ).rows;
      const files = all.filter((f) => (f.state === 'verified' || f.state === 'unverified') && !f.known);
      const firstLanding = all.find((f) => f.state === 'landing');
      // The cursor stops below the oldest file still landing: it may publish after newer files.
      const settled = firstLanding ? firstLanding.file_id - 1 : (all[all.length - 1]?.file_id ?? cur);
      let liveQueued = await unplannedIn(q, tableName, 'live');
      const rows: unknown[][] = [];
      for (const f of files) {
        const records = f.seq_from === null ? 0 : f.records_landed;
        const c = classify(
          {
            fileId: f.file_id,
            seqFrom: f.seq_from,
            seqTo: f.seq_to,
            records,
            mtimeMs: f.mtime_ms,
            landedAtMs: f.landed_at_ms,
            completeAtMs: f.complete_at_ms,
          },
          liveQueued,
        );
        // A file without records (all quarantined) still passes through one batch: the quarantine gate counts it.
        const before = f.seq_from === null ? -1 : f.seq_from - 1;
        rows.push([
          f.file_id,
          c.lane,
          c.reason,
          f.seq_from ?? 0,
          f.seq_to ?? 0,
          records,
          c.completeAtMs,
          f.landed_at_ms,
          before,
        ]);
        if (c.lane === 'live') liveQueued += records;
      }
      let added = 0;
      if (rows.length > 0) {
        const col = (i: number) => rows.map((r) => r[i]);
        const r = await q.query(
          `INSERT INTO file_progress (table_name, file_id, lane, reason, seq_from, seq_to, records, complete_at_ms, landed_at_ms, queued_at_ms, planned_to, committed_to)
           SELECT $1, u.fid, u.lane, u.reason, u.sf, u.st, u.rec, u.cat, u.lat, $2, u.bef, u.bef
             FROM unnest($3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])
                  AS u(fid, lane, reason, sf, st, rec, cat, lat, bef)
           ON CONFLICT (table_name, file_id) DO NOTHING`,
          [tableName, nowMs, col(0), col(1), col(2), col(3), col(4), col(5), col(6), col(7), col(8)],
        );
        added = r.rowCount;
      }
      if (settled > cur)
        await q.query(
          `INSERT INTO lane_cursors (table_name, settled_file_id) VALUES ($1, $2)
           ON CONFLICT (table_name) DO UPDATE SET settled_file_id = GREATEST(lane_cursors.settled_file_id, excluded.settled_file_id)`,
          [tableName, settled],
        );
      return added;
    });
  }

  async openFiles(tableName: string, lane: Lane, limit: number): Promise<FileProgress[]> {
    const r = await this.db.query<DbProgress>(
      'SELECT * FROM file_progress WHERE table_name = $1 AND lane = $2 AND planned_to < seq_to ORDER BY file_id LIMIT $3',
      [tableName, lane, limit],
    );
    return r.rows.map(progressFrom);
  }

  async nthSeqAfter(fileId: number, afterSeq: number, n: number): Promise<number | null> {
    const r = await this.db.query<{ seq: number }>(
      'SELECT seq FROM bronze WHERE file_id = $1 AND seq > $2 ORDER BY seq LIMIT 1 OFFSET $3',
      [fileId, afterSeq, n - 1],
    );
    return r.rows[0]?.seq ?? null;
  }

  unplannedRecords(tableName: string, lane: Lane): Promise<number> {
    return unplannedIn(this.db, tableName, lane);
  }

  async backlog(tableName: string): Promise<LaneBacklog> {
    return backlogIn(this.db, tableName);
  }

  undiscovered(tableName: string): Promise<{ files: number; records: number }> {
    return undiscoveredIn(this.db, tableName);
  }

  progress(tableName: string, fileId: number): Promise<FileProgress | null> {
    return this.batches.progress(tableName, fileId);
  }

  async recentSearchable(tableName: string, sinceMs: number): Promise<FileSearchable[]> {
    const r = await this.db.query<{
      file_id: number;
      lane: Lane;
      records: number;
      complete_at_ms: number;
      landed_at_ms: number;
      queued_at_ms: number;
      searchable_at_ms: number;
      planned_at_ms: number;
    }>(
      `SELECT p.file_id, p.lane, p.records, p.complete_at_ms, p.landed_at_ms, p.queued_at_ms, p.searchable_at_ms,
         COALESCE((SELECT t.planned_at_ms FROM batch_segments s JOIN batches t ON t.batch_id = s.batch_id
           WHERE s.file_id = p.file_id AND t.table_name = p.table_name AND s.seq_to = p.seq_to LIMIT 1), p.queued_at_ms) AS planned_at_ms
       FROM file_progress p WHERE p.table_name = $1 AND p.searchable_at_ms >= $2 ORDER BY p.searchable_at_ms`,
      [tableName, sinceMs],
    );
    return r.rows.map((x) => ({
      fileId: x.file_id,
      lane: x.lane,
      records: x.records,
      completeAtMs: x.complete_at_ms,
      landedAtMs: x.landed_at_ms,
      queuedAtMs: x.queued_at_ms,
      plannedAtMs: x.planned_at_ms,
      searchableAtMs: x.searchable_at_ms,
    }));
  }

  segments(batchId: string): Promise<Segment[]> {
    return this.batches.segments(batchId);
  }

  async eventsForSegments(segs: readonly Segment[]): Promise<BronzeEvent[]> {
    if (segs.length === 0) return [];
    const r = await this.db.query<DbEvent>(
      `SELECT ${EVENT_COLS} FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS g(fid, lo, hi)
         JOIN bronze b ON b.file_id = g.fid AND b.seq BETWEEN g.lo AND g.hi
         JOIN files f ON f.file_id = b.file_id
       ORDER BY b.seq`,
      [segs.map((s) => s.fileId), segs.map((s) => s.seqFrom), segs.map((s) => s.seqTo)],
    );
    return r.rows.map(eventFrom);
  }

  async publishedEventsInRange(from: number, to: number): Promise<BronzeEvent[]> {
    const r = await this.db.query<DbEvent>(
      `SELECT ${EVENT_COLS} FROM bronze b JOIN files f ON f.file_id = b.file_id
       WHERE b.seq BETWEEN $1 AND $2 AND f.state IN ${VISIBLE} ORDER BY b.seq`,
      [from, to],
    );
    return r.rows.map(eventFrom);
  }

  watermark(tableName: string): Promise<number> {
    return watermarkIn(this.db, tableName);
  }

  commitMark(tableName: string): Promise<number> {
    return commitMarkIn(this.db, tableName);
  }

  markAndWatermark(tableName: string): Promise<{ mark: number; watermark: number }> {
    return this.db.tx(
      async (q) => ({ mark: await commitMarkIn(q, tableName), watermark: await watermarkIn(q, tableName) }),
      { isolation: 'repeatable read', readOnly: true },
    );
  }

  idsCommittedBetween(tableName: string, afterMark: number, upToMark: number): Promise<string[]> {
    return idsCommittedBetweenIn(this.db, tableName, afterMark, upToMark);
  }

  async inputFiles(batchId: string): Promise<{ files: number; read: number; quarantined: number }> {
    const r = await this.db.query<{ n: number; r: number; q: number }>(
      `SELECT COUNT(*) AS n, COALESCE(SUM(f.records_read),0) AS r, COALESCE(SUM(f.records_quarantined),0) AS q
       FROM batch_segments s JOIN files f ON f.file_id = s.file_id WHERE s.batch_id = $1 AND f.state IN ${VISIBLE}`,
      [batchId],
    );
    const x = r.rows[0]!;
    return { files: x.n, read: x.r, quarantined: x.q };
  }
}

async function unplannedIn(q: PgQueryable, tableName: string, lane: Lane): Promise<number> {
  const r = await q.query<{ n: number }>(
    'SELECT COALESCE(SUM(records - planned_records), 0) AS n FROM file_progress WHERE table_name = $1 AND lane = $2 AND planned_to < seq_to',
    [tableName, lane],
  );
  return r.rows[0]!.n;
}

export async function backlogIn(q: PgQueryable, tableName: string): Promise<LaneBacklog> {
  const out: LaneBacklog = {
    live: { files: 0, records: 0, oldestQueuedAtMs: null },
    backlog: { files: 0, records: 0, oldestQueuedAtMs: null },
  };
  const r = await q.query<{ lane: Lane; n: number; rec: number; q: number | null }>(
    `SELECT lane, COUNT(*) AS n, COALESCE(SUM(records - committed_records), 0) AS rec, MIN(queued_at_ms) AS q
     FROM file_progress WHERE table_name = $1 AND committed_to < seq_to GROUP BY lane`,
    [tableName],
  );
  for (const x of r.rows) out[x.lane] = { files: x.n, records: x.rec, oldestQueuedAtMs: x.q };
  return out;
}

export async function undiscoveredIn(
  q: PgQueryable,
  tableName: string,
): Promise<{ files: number; records: number }> {
  const r = await q.query<{ n: number; rec: number }>(
    `SELECT COUNT(*) AS n, COALESCE(SUM(records_landed), 0) AS rec FROM files f
     WHERE f.file_id > COALESCE((SELECT settled_file_id FROM lane_cursors WHERE table_name = $1), 0)
       AND f.state IN ${VISIBLE}
       AND NOT EXISTS (SELECT 1 FROM file_progress p WHERE p.table_name = $1 AND p.file_id = f.file_id)`,
    [tableName],
  );
  return { files: r.rows[0]!.n, records: r.rows[0]!.rec };
}
