import type { ContractRecord, QuarantineCode } from '../contract/types.js';
import type { Sqlite } from '../store/sqlite/db.js';

export type FileState = 'landing' | 'verified' | 'unverified' | 'incomplete' | 'failed';

/** What the loader knows about a file before landing it: the catalog row's identity. */
export interface NewFileInfo {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly format: string;
  readonly manifestJson: string | null;
  readonly manifestSha256: string | null;
  /** First byte this row reads (a continuation starts where its parent ended). Default 0. */
  readonly fromByte?: number;
  /** The row whose landed bytes this one continues (bytes appended after landing). */
  readonly continuationOf?: number | null;
  /** Identity of the source (device, inode) when landed. */
  readonly dev?: number | null;
  readonly ino?: number | null;
  /** When the completeness decision said "complete", and by which rule. */
  readonly completeAtMs?: number | null;
  readonly completeBy?: string | null;
}

export interface FileRow {
  readonly fileId: number;
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly format: string;
  readonly state: FileState;
  readonly detail: string | null;
  readonly recordsRead: number;
  readonly recordsLanded: number;
  readonly recordsQuarantined: number;
  readonly seqFrom: number | null;
  readonly seqTo: number | null;
  readonly manifestSha256: string | null;
  readonly landedAtMs: number;
  /** Fields not in the contract first seen in this file (schema drift), once per file. */
  readonly newFields: readonly string[];
  /** Bytes [fromByte, landedBytes) of the source are what this row read (landedBytes = size then). */
  readonly fromByte: number;
  readonly landedBytes: number;
  readonly continuationOf: number | null;
  readonly dev: number | null;
  readonly ino: number | null;
  /** Where the source is after landing (landing folder, archive, pending delete), while watched for growth. */
  readonly storedPath: string | null;
  readonly watchUntilMs: number | null;
  /** When the file became complete (the completeness decision; null for rows from before migration 5). */
  readonly completeAtMs: number | null;
  readonly completeBy: string | null;
}

export interface BronzeEvent {
  readonly seq: number;
  readonly fileId: number;
  readonly file: string;
  readonly line: number;
  readonly offset: number;
  readonly id: string;
  readonly version: number;
  readonly eventTime: string;
  readonly eventTimeMs: number;
  readonly op: 'upsert' | 'delete';
  readonly text: string;
  readonly metadataJson: string;
  readonly landedAtMs: number;
}

export interface QuarantineEntry {
  readonly line: number;
  readonly offset: number;
  readonly code: QuarantineCode;
  readonly field: string | null;
  readonly message: string;
  readonly raw: string;
}

type DbFile = {
  file_id: number;
  path: string;
  sha256: string;
  size: number;
  mtime_ms: number;
  format: string;
  state: FileState;
  detail: string | null;
  records_read: number;
  records_landed: number;
  records_quarantined: number;
  seq_from: number | null;
  seq_to: number | null;
  manifest_sha256: string | null;
  landed_at_ms: number;
  new_fields_json: string | null;
  from_byte: number;
  landed_bytes: number | null;
  continuation_of: number | null;
  dev: number | null;
  ino: number | null;
  stored_path: string | null;
  watch_until_ms: number | null;
  complete_at_ms: number | null;
  complete_by: string | null;
};

const fileFrom = (r: DbFile): FileRow => ({
  fileId: r.file_id,
  path: r.path,
  sha256: r.sha256,
  size: r.size,
  mtimeMs: r.mtime_ms,
  format: r.format,
  state: r.state,
  detail: r.detail,
  recordsRead: r.records_read,
  recordsLanded: r.records_landed,
  recordsQuarantined: r.records_quarantined,
  seqFrom: r.seq_from,
  seqTo: r.seq_to,
  manifestSha256: r.manifest_sha256,
  landedAtMs: r.landed_at_ms,
  newFields: r.new_fields_json ? (JSON.parse(r.new_fields_json) as string[]) : [],
  fromByte: r.from_byte,
  landedBytes: r.landed_bytes ?? r.size,
  continuationOf: r.continuation_of,
  dev: r.dev,
  ino: r.ino,
  storedPath: r.stored_path,
  watchUntilMs: r.watch_until_ms,
  completeAtMs: r.complete_at_ms,
  completeBy: r.complete_by,
});

type DbEvent = {
  seq: number;
  file_id: number;
  path: string;
  line: number;
  byte_offset: number;
  record_id: string;
  version: number;
  event_time: string;
  event_time_ms: number;
  op: 'upsert' | 'delete';
  text: string;
  metadata_json: string;
  landed_at_ms: number;
};

const eventFrom = (r: DbEvent): BronzeEvent => ({
  seq: r.seq,
  fileId: r.file_id,
  file: r.path,
  line: r.line,
  offset: r.byte_offset,
  id: r.record_id,
  version: r.version,
  eventTime: r.event_time,
  eventTimeMs: r.event_time_ms,
  op: r.op,
  text: r.text,
  metadataJson: r.metadata_json,
  landedAtMs: r.landed_at_ms,
});

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

/** A manifest that arrived after its data file landed, or that matches no data file. */
export interface ManifestEvent {
  readonly eventId: number;
  readonly path: string;
  readonly manifestSha256: string;
  readonly state: 'late-match' | 'late-mismatch' | 'orphan';
  readonly fileId: number | null;
  readonly detail: string | null;
  readonly atMs: number;
}

const EVENT_COLS = `b.seq, b.file_id, f.path, b.line, b.byte_offset, b.record_id, b.version, b.event_time, b.event_time_ms, b.op, b.text, b.metadata_json, b.landed_at_ms`;

/**
 * A file being landed. Records are written in short transactions as they stream (bounded memory,
 * short write locks), but stay invisible to the processor until publish() flips the file's state in
 * one transaction; abort() or a crash leaves a 'landing' row whose records recoverLanding() removes.
 */
export class LandingWriter {
  private recordsBuf: { rec: ContractRecord; line: number; offset: number }[] = [];
  private quarantineBuf: QuarantineEntry[] = [];
  private read = 0;
  private landed = 0;
  private quarantined = 0;
  private seqFrom: number | null = null;
  private seqTo: number | null = null;

  constructor(
    private readonly bronze: Bronze,
    readonly fileId: number,
    private readonly nowMs: number,
    private readonly flushEvery = 5000,
  ) {}

  addRecord(rec: ContractRecord, line: number, offset: number): void {
    this.read += 1;
    this.recordsBuf.push({ rec, line, offset });
    if (this.recordsBuf.length >= this.flushEvery) this.flush();
  }

  addQuarantine(q: QuarantineEntry): void {
    this.read += 1;
    this.quarantineBuf.push(q);
    if (this.quarantineBuf.length >= this.flushEvery) this.flush();
  }

  counts(): { read: number; landed: number; quarantined: number } {
    return {
      read: this.read,
      landed: this.landed + this.recordsBuf.length,
      quarantined: this.quarantined + this.quarantineBuf.length,
    };
  }

  flush(): void {
    const recs = this.recordsBuf;
    const qs = this.quarantineBuf;
    this.recordsBuf = [];
    this.quarantineBuf = [];
    if (recs.length === 0 && qs.length === 0) return;
    const r = this.bronze.writeChunk(this.fileId, recs, qs, this.nowMs);
    this.landed += recs.length;
    this.quarantined += qs.length;
    if (r.seqFrom !== null) {
      this.seqFrom ??= r.seqFrom;
      this.seqTo = r.seqTo;
    }
  }

  /** Makes the file's records visible (state verified/unverified), or discards them (incomplete/failed). */
  finish(state: Exclude<FileState, 'landing'>, detail: string | null, newFields: readonly string[]): FileRow {
    this.flush();
    return this.bronze.finishFile(
      this.fileId,
      state,
      detail,
      { read: this.read, landed: this.landed, quarantined: this.quarantined },
      this.seqFrom,
      this.seqTo,
      newFields,
    );
  }
}

/** Bronze: the immutable record store, file catalog and quarantine (SQLite). */
export class Bronze {
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

  beginFile(info: NewFileInfo, nowMs: number): LandingWriter {
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
    return new LandingWriter(this, Number(r.lastInsertRowid), nowMs);
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

  writeChunk(
    fileId: number,
    recs: readonly { rec: ContractRecord; line: number; offset: number }[],
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
    counts: { read: number; landed: number; quarantined: number },
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

  /**
   * The upper end of the next batch starting at `from`: at most maxRecords records and maxFiles files,
   * never past publishedUpTo. Null when nothing is waiting.
   */
  nextRangeEnd(from: number, maxRecords: number, maxFiles: number): number | null {
    const limit = this.publishedUpTo();
    if (from > limit) return null;
    const first = this.db
      .prepare('SELECT seq, file_id FROM bronze WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT 1')
      .get(from, limit) as { seq: number; file_id: number } | undefined;
    if (!first) return null;
    let end = limit;
    const byCount = this.db
      .prepare('SELECT seq FROM bronze WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT 1 OFFSET ?')
      .get(from, limit, maxRecords - 1) as { seq: number } | undefined;
    if (byCount) end = Math.min(end, byCount.seq);
    const fileCap = this.db
      .prepare(
        'SELECT seq_from FROM files WHERE seq_from IS NOT NULL AND seq_to >= ? ORDER BY seq_from LIMIT 1 OFFSET ?',
      )
      .get(from, maxFiles) as { seq_from: number } | undefined;
    if (fileCap) end = Math.min(end, fileCap.seq_from - 1);
    return Math.max(end, first.seq);
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
  totals(): {
    files: Record<string, number>;
    read: number;
    landed: number;
    quarantined: number;
    withheld: number;
    bronzeRecords: number;
  } {
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
