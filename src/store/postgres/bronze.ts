import { LandingWriter } from '../../bronze/landing-writer.js';
import type { QuarantineCode } from '../../contract/types.js';
import type {
  Bronze,
  BronzeEvent,
  BronzeTotals,
  FileLanding,
  FileRow,
  FileState,
  LandingCounts,
  ManifestEvent,
  NewFileInfo,
  QuarantineEntry,
  SliceRecord,
} from '../../ports/bronze.js';
import { WORKER_LEASE_PREFIX } from '../../ports/leases.js';
import type { PgDatabase } from './connect.js';
import { eventFrom, fileFrom, type DbEvent, type DbFile } from '../rows.js';

/**
 * Held (transaction-scoped) by every bronze append from allocating its seqs until it commits, so that
 * seq order = commit order across all writers: a reader that sees seq N sees every seq below it that will
 * ever exist. A PostgreSQL sequence alone does not give that (numbers are taken at nextval, made visible
 * at commit, in any order), and publishedUpTo / the lane watermark depend on it (docs/scale-out.md).
 */
export const BRONZE_APPEND_LOCK = 5_372_911_017;

/**
 * Held exclusively while a landing's catalog row is inserted (its file id allocated and committed), and
 * shared by lane discovery: discovery's one snapshot then holds every file id allocated so far.
 */
export const CATALOG_LOCK = 5_372_911_019;

const EVENT_COLS = `b.seq, b.file_id, f.path, b.line, b.byte_offset, b.record_id, b.version, b.event_time, b.event_time_ms, b.op, b.text, b.metadata_json, b.landed_at_ms`;

const INSERT_FILE_COLS =
  'path, sha256, size, mtime_ms, format, manifest_json, manifest_sha256, state, detail, records_read, landed_at_ms, from_byte, landed_bytes, continuation_of, dev, ino, complete_at_ms, complete_by';

function fileValues(
  info: NewFileInfo,
  state: FileState,
  detail: string | null,
  read: number,
  nowMs: number,
): unknown[] {
  return [
    info.path,
    info.sha256,
    info.size,
    Math.trunc(info.mtimeMs),
    info.format,
    info.manifestJson,
    info.manifestSha256,
    state,
    detail,
    read,
    nowMs,
    info.fromByte ?? 0,
    info.size,
    info.continuationOf ?? null,
    info.dev ?? null,
    info.ino ?? null,
    info.completeAtMs ?? null,
    info.completeBy ?? null,
  ];
}

const PUBLISHED_UP_TO = `
  SELECT COALESCE(
    (SELECT MIN(b.seq) - 1 FROM bronze b JOIN files f ON f.file_id = b.file_id WHERE f.state = 'landing'),
    (SELECT MAX(seq) FROM bronze),
    0) AS s`;

/**
 * The bronze port over PostgreSQL. Each method is one statement or one transaction; appends are
 * serialized by BRONZE_APPEND_LOCK (seq order = commit order). Writers and readers may run in several
 * processes on several machines against the same database.
 */
export interface PgBronzeOptions {
  /** Records (or quarantined lines) buffered per slice. Default 5000. */
  readonly flushEvery?: number;
  /** Test-only: runs inside each slice's transaction after its records are inserted (widens races). */
  readonly afterAppend?: () => Promise<void>;
  /** This process as the owner of the files it lands (several workers); default none (NULL). */
  readonly owner?: string;
  /** Whether an owner is a dead process of this host (its landings are removed at once). Default never. */
  readonly holderDead?: (holder: string) => boolean;
}

export class PgBronze implements Bronze {
  private readonly flushEvery: number;
  private readonly afterAppend: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: PgDatabase,
    opts: PgBronzeOptions = {},
  ) {
    this.flushEvery = opts.flushEvery ?? 5000;
    this.afterAppend = opts.afterAppend;
    this.owner = opts.owner ?? null;
    this.holderDead = opts.holderDead ?? (() => false);
  }

  private readonly owner: string | null;
  private readonly holderDead: (holder: string) => boolean;

  async recoverLanding(nowMs: number = Date.now()): Promise<string[]> {
    // Only landings no live worker owns (NOTES-pg.md item 2): owner NULL (a single writer), this process
    // (a previous life of the same pid cannot be running), or an owner whose worker lease expired or
    // who is a dead process of this host. A live worker's landing in progress is left alone.
    return this.db.tx(async (q) => {
      const rows = (
        await q.query<{ file_id: number; path: string; owner: string | null; live: boolean }>(
          `SELECT f.file_id, f.path, f.owner,
                  EXISTS (SELECT 1 FROM leases l WHERE l.name = $1 || f.owner AND l.expires_at_ms > $2) AS live
             FROM files f WHERE f.state = 'landing' ORDER BY f.file_id FOR UPDATE`,
          [WORKER_LEASE_PREFIX, nowMs],
        )
      ).rows.filter((r) => r.owner === null || r.owner === this.owner || !r.live || this.holderDead(r.owner));
      if (rows.length === 0) return [];
      const ids = rows.map((r) => r.file_id);
      await q.query('DELETE FROM bronze WHERE file_id = ANY($1::bigint[])', [ids]);
      await q.query('DELETE FROM quarantine WHERE file_id = ANY($1::bigint[])', [ids]);
      await q.query('DELETE FROM files WHERE file_id = ANY($1::bigint[])', [ids]);
      return rows.map((r) => r.path);
    });
  }

  async beginFile(info: NewFileInfo, nowMs: number): Promise<FileLanding> {
    // File ids are allocated and committed under CATALOG_LOCK: lane discovery (shared) then never sees a
    // file id above one still uncommitted (it would move its cursor over that file for good).
    const fileId = await this.db.tx(async (q) => {
      await q.query('SELECT pg_advisory_xact_lock($1::bigint)', [CATALOG_LOCK]);
      const r = await q.query<{ file_id: number }>(
        `INSERT INTO files (${INSERT_FILE_COLS}, owner) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19) RETURNING file_id`,
        [...fileValues(info, 'landing', null, 0, nowMs), this.owner],
      );
      return r.rows[0]!.file_id;
    });
    return new LandingWriter(this, fileId, nowMs, this.flushEvery);
  }

  async landSlice(
    fileId: number,
    recs: readonly SliceRecord[],
    qs: readonly QuarantineEntry[],
    nowMs: number,
  ): Promise<{ seqFrom: number | null; seqTo: number | null }> {
    if (recs.length === 0 && qs.length === 0) return { seqFrom: null, seqTo: null };
    return this.db.tx(async (q) => {
      let seqFrom: number | null = null;
      let seqTo: number | null = null;
      if (recs.length > 0) {
        await q.query('SELECT pg_advisory_xact_lock($1::bigint)', [BRONZE_APPEND_LOCK]);
        const col = <T>(f: (r: SliceRecord) => T): T[] => recs.map(f);
        // One statement per slice; WITH ORDINALITY + ORDER BY: seqs increase in slice order.
        const r = await q.query<{ lo: number; hi: number }>(
          `WITH ins AS (
             INSERT INTO bronze (file_id, line, byte_offset, record_id, version, event_time, event_time_ms, op, text, metadata_json, landed_at_ms)
             SELECT $1, u.line, u.off, u.id, u.ver, u.et, u.etms, u.op, u.txt, u.meta, $2
               FROM unnest($3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::text[])
                    WITH ORDINALITY AS u(line, off, id, ver, et, etms, op, txt, meta, ord)
              ORDER BY u.ord
             RETURNING seq)
           SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM ins`,
          [
            fileId,
            nowMs,
            col((x) => x.line),
            col((x) => x.offset),
            col((x) => x.rec.id),
            col((x) => x.rec.version),
            col((x) => x.rec.eventTime),
            col((x) => x.rec.eventTimeMs),
            col((x) => x.rec.op),
            col((x) => x.rec.text),
            col((x) => JSON.stringify(x.rec.metadata)),
          ],
        );
        seqFrom = r.rows[0]!.lo;
        seqTo = r.rows[0]!.hi;
        await this.afterAppend?.();
      }
      if (qs.length > 0) {
        await q.query(
          `INSERT INTO quarantine (file_id, line, byte_offset, code, field, message, raw, at_ms)
           SELECT $1, u.line, u.off, u.code, u.field, u.msg, u.raw, $2
             FROM unnest($3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::bytea[])
                  WITH ORDINALITY AS u(line, off, code, field, msg, raw, ord)
            ORDER BY u.ord`,
          [
            fileId,
            nowMs,
            qs.map((x) => x.line),
            qs.map((x) => x.offset),
            qs.map((x) => x.code),
            qs.map((x) => x.field),
            qs.map((x) => x.message),
            qs.map((x) => Buffer.from(x.raw, 'utf8')),
          ],
        );
      }
      return { seqFrom, seqTo };
    });
  }

  async finishFile(
    fileId: number,
    state: Exclude<FileState, 'landing'>,
    detail: string | null,
    counts: LandingCounts,
    seqFrom: number | null,
    seqTo: number | null,
    newFields: readonly string[],
  ): Promise<FileRow> {
    return this.db.tx(async (q) => {
      const visible = state === 'verified' || state === 'unverified';
      // Nothing from an incomplete file is published: its records leave bronze in the same transaction.
      if (!visible) await q.query('DELETE FROM bronze WHERE file_id = $1', [fileId]);
      // A failed attempt counts for nothing: it will be landed again.
      if (state === 'failed') await q.query('DELETE FROM quarantine WHERE file_id = $1', [fileId]);
      const c = state === 'failed' ? { read: 0, landed: 0, quarantined: 0 } : counts;
      const r = await q.query<DbFile>(
        `UPDATE files SET state = $1, detail = $2, records_read = $3, records_landed = $4, records_quarantined = $5,
           seq_from = $6, seq_to = $7, new_fields_json = $8::jsonb WHERE file_id = $9 RETURNING *`,
        [
          state,
          detail,
          c.read,
          visible ? c.landed : 0,
          c.quarantined,
          visible ? seqFrom : null,
          visible ? seqTo : null,
          newFields.length ? JSON.stringify(newFields) : null,
          fileId,
        ],
      );
      return fileFrom(r.rows[0]!);
    });
  }

  async recordRefused(
    info: NewFileInfo,
    state: 'incomplete' | 'failed',
    detail: string,
    nowMs: number,
    read = 0,
  ): Promise<FileRow> {
    const r = await this.db.query<DbFile>(
      `INSERT INTO files (${INSERT_FILE_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18) RETURNING *`,
      fileValues(info, state, detail, read, nowMs),
    );
    return fileFrom(r.rows[0]!);
  }

  async setStored(fileId: number, storedPath: string | null, watchUntilMs: number | null): Promise<void> {
    await this.db.query('UPDATE files SET stored_path = $1, watch_until_ms = $2 WHERE file_id = $3', [
      storedPath,
      watchUntilMs,
      fileId,
    ]);
  }

  async recordManifestEvent(e: Omit<ManifestEvent, 'eventId'>): Promise<boolean> {
    const r = await this.db.query(
      `INSERT INTO manifest_events (path, manifest_sha256, state, file_id, detail, at_ms) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (path, manifest_sha256, state) DO NOTHING`,
      [e.path, e.manifestSha256, e.state, e.fileId, e.detail, e.atMs],
    );
    return r.rowCount > 0;
  }

  async filesBySha(sha256: string): Promise<FileRow[]> {
    return this.fileRows('SELECT * FROM files WHERE sha256 = $1 ORDER BY file_id', [sha256]);
  }

  async latestFileByPath(p: string): Promise<FileRow | null> {
    return (
      (await this.fileRows('SELECT * FROM files WHERE path = $1 ORDER BY file_id DESC LIMIT 1', [p]))[0] ??
      null
    );
  }

  async file(fileId: number): Promise<FileRow | null> {
    return (await this.fileRows('SELECT * FROM files WHERE file_id = $1', [fileId]))[0] ?? null;
  }

  async files(): Promise<FileRow[]> {
    return this.fileRows('SELECT * FROM files ORDER BY file_id', []);
  }

  async watchedFiles(): Promise<FileRow[]> {
    return this.fileRows(
      `SELECT * FROM files WHERE watch_until_ms IS NOT NULL AND state IN ('verified','unverified') ORDER BY file_id`,
      [],
    );
  }

  async manifestEvents(limit = 50): Promise<ManifestEvent[]> {
    const r = await this.db.query<{
      event_id: number;
      path: string;
      manifest_sha256: string;
      state: ManifestEvent['state'];
      file_id: number | null;
      detail: string | null;
      at_ms: number;
    }>('SELECT * FROM manifest_events ORDER BY event_id DESC LIMIT $1', [limit]);
    return r.rows.map((x) => ({
      eventId: x.event_id,
      path: x.path,
      manifestSha256: x.manifest_sha256,
      state: x.state,
      fileId: x.file_id,
      detail: x.detail,
      atMs: x.at_ms,
    }));
  }

  async manifestEventCounts(): Promise<Record<string, number>> {
    const r = await this.db.query<{ state: string; n: number }>(
      'SELECT state, COUNT(*) AS n FROM manifest_events GROUP BY state',
    );
    return Object.fromEntries(r.rows.map((x) => [x.state, x.n]));
  }

  async eventsInRange(from: number, to: number): Promise<BronzeEvent[]> {
    const r = await this.db.query<DbEvent>(
      `SELECT ${EVENT_COLS} FROM bronze b JOIN files f ON f.file_id = b.file_id WHERE b.seq BETWEEN $1 AND $2 ORDER BY b.seq`,
      [from, to],
    );
    return r.rows.map(eventFrom);
  }

  async eventsBySeq(seqs: readonly number[]): Promise<BronzeEvent[]> {
    if (seqs.length === 0) return [];
    const r = await this.db.query<DbEvent>(
      `SELECT ${EVENT_COLS} FROM bronze b JOIN files f ON f.file_id = b.file_id WHERE b.seq = ANY($1::bigint[])`,
      [seqs],
    );
    const bySeq = new Map(r.rows.map((x) => [x.seq, eventFrom(x)]));
    return seqs.flatMap((s) => bySeq.get(s) ?? []);
  }

  async maxSeq(): Promise<number> {
    return (await this.db.query<{ s: number }>('SELECT COALESCE(MAX(seq), 0) AS s FROM bronze')).rows[0]!.s;
  }

  /** One statement (one snapshot); correct across writers because appends commit in seq order. */
  async publishedUpTo(): Promise<number> {
    return (await this.db.query<{ s: number }>(PUBLISHED_UP_TO)).rows[0]!.s;
  }

  async quarantineFor(fileId: number): Promise<(QuarantineEntry & { fileId: number })[]> {
    const r = await this.db.query<{
      file_id: number;
      line: number;
      byte_offset: number;
      code: QuarantineCode;
      field: string | null;
      message: string;
      raw: Buffer;
    }>(
      'SELECT file_id, line, byte_offset, code, field, message, raw FROM quarantine WHERE file_id = $1 ORDER BY q_id',
      [fileId],
    );
    return r.rows.map((x) => ({
      fileId: x.file_id,
      line: x.line,
      offset: x.byte_offset,
      code: x.code,
      field: x.field,
      message: x.message,
      raw: x.raw.toString('utf8'),
    }));
  }

  /** One REPEATABLE READ snapshot: the counts agree with each other. */
  async totals(): Promise<BronzeTotals> {
    return this.db.tx(
      async (q) => {
        const files: Record<string, number> = {};
        for (const r of (
          await q.query<{ state: string; n: number }>('SELECT state, COUNT(*) AS n FROM files GROUP BY state')
        ).rows)
          files[r.state] = r.n;
        const c = (
          await q.query<{ r: number; l: number; q: number }>(
            'SELECT COALESCE(SUM(records_read),0) AS r, COALESCE(SUM(records_landed),0) AS l, COALESCE(SUM(records_quarantined),0) AS q FROM files',
          )
        ).rows[0]!;
        const b = (await q.query<{ n: number }>('SELECT COUNT(*) AS n FROM bronze')).rows[0]!;
        return {
          files,
          read: c.r,
          landed: c.l,
          quarantined: c.q,
          withheld: c.r - c.l - c.q,
          bronzeRecords: b.n,
        };
      },
      { isolation: 'repeatable read', readOnly: true },
    );
  }

  async quarantineByCode(): Promise<Record<string, number>> {
    const r = await this.db.query<{ code: string; n: number }>(
      'SELECT code, COUNT(*) AS n FROM quarantine GROUP BY code ORDER BY code',
    );
    return Object.fromEntries(r.rows.map((x) => [x.code, x.n]));
  }

  private async fileRows(sql: string, params: unknown[]): Promise<FileRow[]> {
    return (await this.db.query<DbFile>(sql, params)).rows.map(fileFrom);
  }
}
