import type { QuarantineCode } from '../../contract/types.js';
import { LandingWriter } from '../../bronze/landing-writer.js';
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
import type { Sqlite } from './db.js';
import { EVENT_COLS, eventFrom, fileFrom, run, type DbEvent, type DbFile } from './rows.js';

/** Catalog columns of migration 5, written at insert. */
const EXTRA_COLS = 'from_byte, landed_bytes, continuation_of, dev, ino, complete_at_ms, complete_by';
const EXTRA_MARKS = '?, ?, ?, ?, ?, ?, ?';
const extraValues = (info: NewFileInfo): (number | string | null)[] => [
  info.fromByte ?? 0,
  info.size,
  info.continuationOf ?? null,
  info.dev ?? null,
  info.ino ?? null,
  info.completeAtMs ?? null,
  info.completeBy ?? null,
];

/**
 * Bronze on SQLite, synchronous (better-sqlite3): the immutable record store, file catalog and
 * quarantine. `SqliteBronze` is the port; this class is also what other SQLite adapters compose.
 */
export class BronzeSql {
  constructor(private readonly db: Sqlite) {}

  /** Removes what a crashed landing left behind; returns the paths whose landing must be redone. */
  recoverLanding(): string[] {
    const rows = this.db.prepare(`SELECT file_id, path FROM files WHERE state = 'landing'`).all() as {
      file_id: number;
      path: string;
    }[];
    if (rows.length === 0) return [];
    this.db
      .transaction(() => {
        for (const r of rows) {
          this.db.prepare('DELETE FROM bronze WHERE file_id = ?').run(r.file_id);
          this.db.prepare('DELETE FROM quarantine WHERE file_id = ?').run(r.file_id);
          this.db.prepare('DELETE FROM files WHERE file_id = ?').run(r.file_id);
        }
      })
      .immediate();
    return rows.map((r) => r.path);
  }

  filesBySha(sha256: string): FileRow[] {
    return (
      this.db.prepare('SELECT * FROM files WHERE sha256 = ? ORDER BY file_id').all(sha256) as DbFile[]
    ).map(fileFrom);
  }

  latestFileByPath(p: string): FileRow | null {
    const r = this.db.prepare('SELECT * FROM files WHERE path = ? ORDER BY file_id DESC LIMIT 1').get(p) as
      DbFile | undefined;
    return r ? fileFrom(r) : null;
  }

  file(fileId: number): FileRow | null {
    const r = this.db.prepare('SELECT * FROM files WHERE file_id = ?').get(fileId) as DbFile | undefined;
    return r ? fileFrom(r) : null;
  }

  files(): FileRow[] {
    return (this.db.prepare('SELECT * FROM files ORDER BY file_id').all() as DbFile[]).map(fileFrom);
  }

  beginFile(info: NewFileInfo, nowMs: number): number {
    const r = this.db
      .prepare(
        `INSERT INTO files (path, sha256, size, mtime_ms, format, manifest_json, manifest_sha256, state, landed_at_ms, ${EXTRA_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, 'landing', ?, ${EXTRA_MARKS})`,
      )
      .run(
        info.path,
        info.sha256,
        info.size,
        Math.trunc(info.mtimeMs),
        info.format,
        info.manifestJson,
        info.manifestSha256,
        nowMs,
        ...extraValues(info),
      );
    return Number(r.lastInsertRowid);
  }

  /** Records a file that is refused as a whole (no records read), e.g. an incomplete manifest match. */
  recordRefused(
    info: NewFileInfo,
    state: 'incomplete' | 'failed',
    detail: string,
    nowMs: number,
    read = 0,
  ): FileRow {
    const r = this.db
      .prepare(
        `INSERT INTO files (path, sha256, size, mtime_ms, format, manifest_json, manifest_sha256, state, detail, records_read, landed_at_ms, ${EXTRA_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${EXTRA_MARKS})`,
      )
      .run(
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
        ...extraValues(info),
      );
    return this.file(Number(r.lastInsertRowid))!;
  }

  landSlice(
    fileId: number,
    recs: readonly SliceRecord[],
    qs: readonly QuarantineEntry[],
    nowMs: number,
  ): { seqFrom: number | null; seqTo: number | null } {
    const insB = this.db.prepare(
      `INSERT INTO bronze (file_id, line, byte_offset, record_id, version, event_time, event_time_ms, op, text, metadata_json, landed_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insQ = this.db.prepare(
      `INSERT INTO quarantine (file_id, line, byte_offset, code, field, message, raw, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    let seqFrom: number | null = null;
    let seqTo: number | null = null;
    this.db
      .transaction(() => {
        for (const { rec, line, offset } of recs) {
          const r = insB.run(
            fileId,
            line,
            offset,
            rec.id,
            rec.version,
            rec.eventTime,
            rec.eventTimeMs,
            rec.op,
            rec.text,
            JSON.stringify(rec.metadata),
            nowMs,
          );
          const seq = Number(r.lastInsertRowid);
          seqFrom ??= seq;
          seqTo = seq;
        }
        for (const q of qs) insQ.run(fileId, q.line, q.offset, q.code, q.field, q.message, q.raw, nowMs);
      })
      .immediate();
    return { seqFrom, seqTo };
  }

  finishFile(
    fileId: number,
    state: Exclude<FileState, 'landing'>,
    detail: string | null,
    counts: LandingCounts,
    seqFrom: number | null,
    seqTo: number | null,
    newFields: readonly string[],
  ): FileRow {
    this.db
      .transaction(() => {
        const visible = state === 'verified' || state === 'unverified';
        if (!visible) {
          // Nothing from an incomplete file is published: its records leave bronze in the same transaction.
          this.db.prepare('DELETE FROM bronze WHERE file_id = ?').run(fileId);
        }
        // A failed attempt (file changed while read, I/O error) counts for nothing: it will be landed again.
        if (state === 'failed') this.db.prepare('DELETE FROM quarantine WHERE file_id = ?').run(fileId);
        const c = state === 'failed' ? { read: 0, landed: 0, quarantined: 0 } : counts;
        this.db
          .prepare(
            `UPDATE files SET state = ?, detail = ?, records_read = ?, records_landed = ?, records_quarantined = ?, seq_from = ?, seq_to = ?, new_fields_json = ? WHERE file_id = ?`,
          )
          .run(
            state,
            detail,
            c.read,
            visible ? c.landed : 0,
            c.quarantined,
            visible ? seqFrom : null,
            visible ? seqTo : null,
            newFields.length ? JSON.stringify(newFields) : null,
            fileId,
          );
      })
      .immediate();
    return this.file(fileId)!;
  }

  /** Where the source now is and until when it is watched for growth after landing (null: not watched). */
  setStored(fileId: number, storedPath: string | null, watchUntilMs: number | null): void {
    this.db
      .prepare('UPDATE files SET stored_path = ?, watch_until_ms = ? WHERE file_id = ?')
      .run(storedPath, watchUntilMs, fileId);
  }

  /** Landed rows whose source is still watched for growth (including expired watches, to finish them). */
  watchedFiles(): FileRow[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM files WHERE watch_until_ms IS NOT NULL AND state IN ('verified','unverified') ORDER BY file_id`,
        )
        .all() as DbFile[]
    ).map(fileFrom);
  }

  /** Records a late or orphan manifest once per (path, content, state); returns true when new. */
  recordManifestEvent(e: Omit<ManifestEvent, 'eventId'>): boolean {
    const r = this.db
      .prepare(
        'INSERT OR IGNORE INTO manifest_events (path, manifest_sha256, state, file_id, detail, at_ms) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(e.path, e.manifestSha256, e.state, e.fileId, e.detail, e.atMs);
    return r.changes > 0;
  }

  /** Newest first. */
  manifestEvents(limit = 50): ManifestEvent[] {
    return (
      this.db.prepare('SELECT * FROM manifest_events ORDER BY event_id DESC LIMIT ?').all(limit) as {
        event_id: number;
        path: string;
        manifest_sha256: string;
        state: ManifestEvent['state'];
        file_id: number | null;
        detail: string | null;
        at_ms: number;
      }[]
    ).map((r) => ({
      eventId: r.event_id,
      path: r.path,
      manifestSha256: r.manifest_sha256,
      state: r.state,
      fileId: r.file_id,
      detail: r.detail,
      atMs: r.at_ms,
    }));
  }

  /** Late/orphan manifests recorded, by state. */
  manifestEventCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.db
      .prepare('SELECT state, COUNT(*) AS n FROM manifest_events GROUP BY state')
      .all() as { state: string; n: number }[])
      out[r.state] = r.n;
    return out;
  }

  /** Highest seq the processor may read: below any file still landing. */
  publishedUpTo(): number {
    const landing = this.db
      .prepare(
        `SELECT MIN(seq) AS s FROM bronze b JOIN files f ON f.file_id = b.file_id WHERE f.state = 'landing'`,
      )
      .get() as { s: number | null };
    const max = this.db.prepare('SELECT MAX(seq) AS s FROM bronze').get() as { s: number | null };
    if (landing.s !== null) return landing.s - 1;
    return max.s ?? 0;
  }

  eventsInRange(from: number, to: number): BronzeEvent[] {
    return (
      this.db
        .prepare(
          `SELECT ${EVENT_COLS} FROM bronze b JOIN files f ON f.file_id = b.file_id WHERE b.seq BETWEEN ? AND ? ORDER BY b.seq`,
        )
        .all(from, to) as DbEvent[]
    ).map(eventFrom);
  }

  eventsBySeq(seqs: readonly number[]): BronzeEvent[] {
    const out: BronzeEvent[] = [];
    const stmt = this.db.prepare(
      `SELECT ${EVENT_COLS} FROM bronze b JOIN files f ON f.file_id = b.file_id WHERE b.seq = ?`,
    );
    for (const s of seqs) {
      const r = stmt.get(s) as DbEvent | undefined;
      if (r) out.push(eventFrom(r));
    }
    return out;
  }

  maxSeq(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM bronze').get() as { s: number }).s;
  }

  quarantineFor(fileId: number): (QuarantineEntry & { fileId: number })[] {
    return (
      this.db
        .prepare(
          'SELECT file_id, line, byte_offset, code, field, message, raw FROM quarantine WHERE file_id = ? ORDER BY q_id',
        )
        .all(fileId) as {
        file_id: number;
        line: number;
        byte_offset: number;
        code: QuarantineCode;
        field: string | null;
        message: string;
        raw: string;
      }[]
    ).map((r) => ({
      fileId: r.file_id,
      line: r.line,
      offset: r.byte_offset,
      code: r.code,
      field: r.field,
      message: r.message,
      raw: r.raw,
    }));
  }

  /**
   * Record accounting over the catalog: read = landed + quarantined + withheld, where withheld are
   * records that passed the contract in a file that was not published (incomplete).
   */
  totals(): BronzeTotals {
    return this.db.transaction((): BronzeTotals => this.totalsNow()).deferred();
  }

  private totalsNow(): BronzeTotals {
    const files: Record<string, number> = {};
    for (const r of this.db.prepare('SELECT state, COUNT(*) AS n FROM files GROUP BY state').all() as {
      state: string;
      n: number;
    }[])
      files[r.state] = r.n;
    const c = this.db
      .prepare(
        'SELECT COALESCE(SUM(records_read),0) AS r, COALESCE(SUM(records_landed),0) AS l, COALESCE(SUM(records_quarantined),0) AS q FROM files',
      )
      .get() as { r: number; l: number; q: number };
    const b = this.db.prepare('SELECT COUNT(*) AS n FROM bronze').get() as { n: number };
    return { files, read: c.r, landed: c.l, quarantined: c.q, withheld: c.r - c.l - c.q, bronzeRecords: b.n };
  }

  /** Quarantined records per reason code (all files). */
  quarantineByCode(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.db
      .prepare('SELECT code, COUNT(*) AS n FROM quarantine GROUP BY code ORDER BY code')
      .all() as { code: string; n: number }[])
      out[r.code] = r.n;
    return out;
  }
}

/** The bronze port over SQLite: each method one transaction (or one statement) of `BronzeSql`. */
export class SqliteBronze implements Bronze {
  constructor(readonly sql: BronzeSql) {}

  recoverLanding(): Promise<string[]> {
    return run(() => this.sql.recoverLanding());
  }
  beginFile(info: NewFileInfo, nowMs: number): Promise<FileLanding> {
    return run(() => new LandingWriter(this, this.sql.beginFile(info, nowMs), nowMs));
  }
  landSlice(
    fileId: number,
    recs: readonly SliceRecord[],
    qs: readonly QuarantineEntry[],
    nowMs: number,
  ): Promise<{ seqFrom: number | null; seqTo: number | null }> {
    return run(() => this.sql.landSlice(fileId, recs, qs, nowMs));
  }
  finishFile(
    fileId: number,
    state: Exclude<FileState, 'landing'>,
    detail: string | null,
    counts: LandingCounts,
    seqFrom: number | null,
    seqTo: number | null,
    newFields: readonly string[],
  ): Promise<FileRow> {
    return run(() => this.sql.finishFile(fileId, state, detail, counts, seqFrom, seqTo, newFields));
  }
  recordRefused(
    info: NewFileInfo,
    state: 'incomplete' | 'failed',
    detail: string,
    nowMs: number,
    read?: number,
  ): Promise<FileRow> {
    return run(() => this.sql.recordRefused(info, state, detail, nowMs, read));
  }
  setStored(fileId: number, storedPath: string | null, watchUntilMs: number | null): Promise<void> {
    return run(() => this.sql.setStored(fileId, storedPath, watchUntilMs));
  }
  recordManifestEvent(e: Omit<ManifestEvent, 'eventId'>): Promise<boolean> {
    return run(() => this.sql.recordManifestEvent(e));
  }
  filesBySha(sha256: string): Promise<FileRow[]> {
    return run(() => this.sql.filesBySha(sha256));
  }
  latestFileByPath(p: string): Promise<FileRow | null> {
    return run(() => this.sql.latestFileByPath(p));
  }
  file(fileId: number): Promise<FileRow | null> {
    return run(() => this.sql.file(fileId));
  }
  files(): Promise<FileRow[]> {
    return run(() => this.sql.files());
  }
  watchedFiles(): Promise<FileRow[]> {
    return run(() => this.sql.watchedFiles());
  }
  manifestEvents(limit?: number): Promise<ManifestEvent[]> {
    return run(() => this.sql.manifestEvents(limit));
  }
  manifestEventCounts(): Promise<Record<string, number>> {
    return run(() => this.sql.manifestEventCounts());
  }
  eventsInRange(from: number, to: number): Promise<BronzeEvent[]> {
    return run(() => this.sql.eventsInRange(from, to));
  }
  eventsBySeq(seqs: readonly number[]): Promise<BronzeEvent[]> {
    return run(() => this.sql.eventsBySeq(seqs));
  }
  maxSeq(): Promise<number> {
    return run(() => this.sql.maxSeq());
  }
  publishedUpTo(): Promise<number> {
    return run(() => this.sql.publishedUpTo());
  }
  quarantineFor(fileId: number): Promise<(QuarantineEntry & { fileId: number })[]> {
    return run(() => this.sql.quarantineFor(fileId));
  }
  totals(): Promise<BronzeTotals> {
    return run(() => this.sql.totals());
  }
  quarantineByCode(): Promise<Record<string, number>> {
    return run(() => this.sql.quarantineByCode());
  }
}
