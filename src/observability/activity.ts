import { parseTimestamp } from '../contract/timestamp.js';
import type { Sqlite } from '../store/sqlite/db.js';
import { SeamlineError } from '../errors/errors.js';

/**
 * Read models of recent activity (files, batches, quarantine) for `seamline files|batches|quarantine`
 * and the status page. Read-only SQL over the catalog, the ledger and quarantine; every list is bounded.
 */

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 1000;
/** Characters of raw bytes shown in a listing, and when one quarantined record is opened. */
export const EXCERPT_CHARS = 160;
export const RECORD_CHARS = 4096;

export interface FileActivity {
  readonly fileId: number;
  readonly path: string;
  readonly format: string;
  readonly state: string;
  readonly detail: string | null;
  readonly read: number;
  readonly landed: number;
  readonly quarantined: number;
  /** Good records of an incomplete file, held back (read − landed − quarantined). */
  readonly withheld: number;
  readonly landedAtMs: number;
  /** Landed records covered by committed batches of the serving table. */
  readonly published: number;
  /** Commit time of the last batch that published one of its records (null while none is). */
  readonly publishedAtMs: number | null;
  /** Landing → fully searchable, in ms (null until every landed record is published). */
  readonly landToSearchableMs: number | null;
  /** The processor lane that took the file (null until the processor has seen it). */
  readonly lane: string | null;
}

export interface BatchActivity {
  readonly batchId: string;
  readonly table: string;
  readonly state: string;
  /** The processor lane (live/backlog) when the ledger records one; null on ledgers without lanes. */
  readonly lane: string | null;
  readonly seqFrom: number;
  readonly seqTo: number;
  readonly records: number | null;
  readonly idsTouched: number | null;
  readonly rowsInserted: number | null;
  readonly rowsUpdated: number | null;
  readonly rowsDeleted: number | null;
  readonly textsEmbedded: number | null;
  readonly textsReused: number | null;
  readonly attempts: number;
  readonly error: string | null;
  readonly modelId: string;
  readonly plannedAtMs: number;
  readonly committedAtMs: number | null;
  /** Plan → commit, in ms (null until committed). */
  readonly durationMs: number | null;
}

export interface QuarantineFilter {
  /** Substring of the landing path. */
  readonly file?: string | undefined;
  /** Exact quarantine code (e.g. MISSING_FIELD). */
  readonly code?: string | undefined;
  /** Only records quarantined at or after this time (epoch ms). */
  readonly sinceMs?: number | undefined;
  readonly limit?: number | undefined;
}

export interface QuarantineEntry {
  readonly qId: number;
  readonly fileId: number;
  readonly file: string;
  readonly line: number;
  readonly byteOffset: number;
  readonly code: string;
  readonly field: string | null;
  /** The reason, as the contract wrote it. */
  readonly reason: string;
  readonly atMs: number;
  /** The raw bytes, escaped (control, bidi and invisible characters shown as \u{..}) and bounded. */
  readonly excerpt: string;
  readonly rawChars: number;
  readonly truncated: boolean;
}

export interface QuarantineList {
  /** Matching records in all (the listing shows at most `limit`, newest first). */
  readonly total: number;
  readonly entries: readonly QuarantineEntry[];
}

const hasColumn = (db: Sqlite, table: string, column: string): boolean =>
  (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).some(
    (c) => c.name === column,
  );

/** Clamps a requested listing size to 1..MAX_LIMIT (DEFAULT_LIMIT when absent). */
export function clampLimit(n: number | undefined): number {
  if (n === undefined || !Number.isFinite(n)) return DEFAULT_LIMIT;
  return Math.min(MAX_LIMIT, Math.max(1, Math.trunc(n)));
}

// C0/C1 controls, DEL, bidi overrides/isolates, zero-width and BOM: never echoed raw to a terminal or page.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/gu;

/**
 * A safe, bounded rendering of untrusted raw bytes: unsafe characters become `\u{XX}`, tabs and
 * newlines `\t`/`\n`, and at most `max` characters are kept (on a code-point boundary). Pure.
 */
export function safeExcerpt(raw: string, max = EXCERPT_CHARS): { text: string; truncated: boolean } {
  const cps = Array.from(raw);
  const truncated = cps.length > max;
  const text = (truncated ? cps.slice(0, max).join('') : raw)
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t')
    .replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16).toUpperCase()}}`);
  return { text, truncated };
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--since`: a duration back from now (`90s`, `15m`, `2h`, `7d`) or an ISO-8601 time with a zone. Pure. */
export function parseSince(value: string, nowMs: number): number {
  const d = DURATION.exec(value.trim());
  if (d) return nowMs - Number(d[1]) * UNIT_MS[d[2] as keyof typeof UNIT_MS];
  const t = parseTimestamp(value.trim());
  if (t.ok) return t.ms;
  throw new SeamlineError(
    'USAGE',
    `--since ${JSON.stringify(value)}: expected a duration such as 15m, 2h, 7d or an ISO-8601 time with a zone (${t.message})`,
  );
}

/** The most recent files (newest first), with how much of each the serving table has published. */
export function recentFiles(
  db: Sqlite,
  opts: { limit?: number; table?: string | null } = {},
): FileActivity[] {
  const rows = db
    .prepare(
      `SELECT file_id, path, format, state, detail, records_read, records_landed, records_quarantined,
              seq_from, seq_to, landed_at_ms
         FROM files ORDER BY file_id DESC LIMIT ?`,
    )
    .all(clampLimit(opts.limit)) as {
    file_id: number;
    path: string;
    format: string;
    state: string;
    detail: string | null;
    records_read: number;
    records_landed: number;
    records_quarantined: number;
    seq_from: number | null;
    seq_to: number | null;
    landed_at_ms: number;
  }[];
  // Per-file progress of the serving table (the lanes ledger): files landing at the same time interleave
  // their seqs, so a batch's seq range says nothing about one file; file_progress does.
  const progress = db.prepare(
    `SELECT lane, committed_records AS n, searchable_at_ms AS at,
            (SELECT MAX(t.committed_at_ms) FROM batch_segments s JOIN batches t ON t.batch_id = s.batch_id
              WHERE s.file_id = p.file_id AND t.table_name = p.table_name AND t.state = 'committed') AS last
       FROM file_progress p WHERE table_name = ? AND file_id = ?`,
  );
  return rows.map((r) => {
    let published = 0;
    let at: number | null = null;
    let lane: string | null = null;
    let searchableAt: number | null = null;
    if (opts.table) {
      const c = progress.get(opts.table, r.file_id) as
        { lane: string; n: number; at: number | null; last: number | null } | undefined;
      if (c) {
        published = Math.min(c.n, r.records_landed);
        at = c.last ?? c.at;
        lane = c.lane;
        searchableAt = c.at;
      }
    }
    const complete = r.records_landed > 0 && published >= r.records_landed && searchableAt !== null;
    return {
      fileId: r.file_id,
      path: r.path,
      format: r.format,
      state: r.state,
      detail: r.detail,
      read: r.records_read,
      landed: r.records_landed,
      quarantined: r.records_quarantined,
      withheld: Math.max(0, r.records_read - r.records_landed - r.records_quarantined),
      landedAtMs: r.landed_at_ms,
      published,
      publishedAtMs: at,
      landToSearchableMs:
        complete && searchableAt !== null ? Math.max(0, searchableAt - r.landed_at_ms) : null,
      lane,
    };
  });
}

/** The most recent batches (newest plan first), of one table or of all. */
export function recentBatches(
  db: Sqlite,
  opts: { limit?: number; table?: string | null; state?: string } = {},
): BatchActivity[] {
  const lane = hasColumn(db, 'batches', 'lane') ? 'lane' : 'NULL';
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (opts.table) {
    where.push('table_name = ?');
    params.push(opts.table);
  }
  if (opts.state) {
    where.push('state = ?');
    params.push(opts.state);
  }
  const rows = db
    .prepare(
      `SELECT batch_id, table_name, state, ${lane} AS lane, seq_from, seq_to, records_in, ids_touched,
              rows_inserted, rows_updated, rows_deleted, texts_embedded, texts_reused, attempts, error,
              model_id, planned_at_ms, committed_at_ms
         FROM batches ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY planned_at_ms DESC, rowid DESC LIMIT ?`,
    )
    .all(...params, clampLimit(opts.limit)) as {
    batch_id: string;
    table_name: string;
    state: string;
    lane: string | null;
    seq_from: number;
    seq_to: number;
    records_in: number | null;
    ids_touched: number | null;
    rows_inserted: number | null;
    rows_updated: number | null;
    rows_deleted: number | null;
    texts_embedded: number | null;
    texts_reused: number | null;
    attempts: number;
    error: string | null;
    model_id: string;
    planned_at_ms: number;
    committed_at_ms: number | null;
  }[];
  return rows.map((r) => ({
    batchId: r.batch_id,
    table: r.table_name,
    state: r.state,
    lane: r.lane === null ? null : String(r.lane),
    seqFrom: r.seq_from,
    seqTo: r.seq_to,
    records: r.records_in,
    idsTouched: r.ids_touched,
    rowsInserted: r.rows_inserted,
    rowsUpdated: r.rows_updated,
    rowsDeleted: r.rows_deleted,
    textsEmbedded: r.texts_embedded,
    textsReused: r.texts_reused,
    attempts: r.attempts,
    error: r.error,
    modelId: r.model_id,
    plannedAtMs: r.planned_at_ms,
    committedAtMs: r.committed_at_ms,
    durationMs: r.committed_at_ms === null ? null : Math.max(0, r.committed_at_ms - r.planned_at_ms),
  }));
}

interface QRow {
  q_id: number;
  file_id: number;
  path: string;
  line: number;
  byte_offset: number;
  code: string;
  field: string | null;
  message: string;
  raw: string;
  at_ms: number;
}

const toEntry = (r: QRow, max: number): QuarantineEntry => {
  const e = safeExcerpt(r.raw, max);
  return {
    qId: r.q_id,
    fileId: r.file_id,
    file: r.path,
    line: r.line,
    byteOffset: r.byte_offset,
    code: r.code,
    field: r.field,
    reason: r.message,
    atMs: r.at_ms,
    excerpt: e.text,
    rawChars: r.raw.length,
    truncated: e.truncated,
  };
};

/** Quarantined records matching the filter, newest first, with a safe excerpt of each. */
export function listQuarantine(db: Sqlite, f: QuarantineFilter = {}): QuarantineList {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (f.file !== undefined && f.file !== '') {
    where.push('instr(f.path, ?) > 0');
    params.push(f.file);
  }
  if (f.code !== undefined && f.code !== '') {
    where.push('q.code = ?');
    params.push(f.code);
  }
  if (f.sinceMs !== undefined) {
    where.push('q.at_ms >= ?');
    params.push(f.sinceMs);
  }
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const from = 'FROM quarantine q JOIN files f ON f.file_id = q.file_id';
  const total = (db.prepare(`SELECT COUNT(*) AS n ${from} ${w}`).get(...params) as { n: number }).n;
  // substr bounds what leaves SQLite for a listing even when a quarantined "line" is megabytes long.
  const rows = db
    .prepare(
      `SELECT q.q_id, q.file_id, f.path, q.line, q.byte_offset, q.code, q.field, q.message,
              substr(q.raw, 1, ${EXCERPT_CHARS + 1}) AS raw, q.at_ms
         ${from} ${w} ORDER BY q.q_id DESC LIMIT ?`,
    )
    .all(...params, clampLimit(f.limit)) as QRow[];
  const lengths = db.prepare('SELECT length(raw) AS n FROM quarantine WHERE q_id = ?');
  return {
    total,
    entries: rows.map((r) => ({
      ...toEntry(r, EXCERPT_CHARS),
      rawChars: (lengths.get(r.q_id) as { n: number }).n,
    })),
  };
}

/** One quarantined record (drill-down): a longer, still bounded and escaped excerpt; null if absent. */
export function quarantineRecord(db: Sqlite, qId: number): QuarantineEntry | null {
  const r = db
    .prepare(
      `SELECT q.q_id, q.file_id, f.path, q.line, q.byte_offset, q.code, q.field, q.message,
              substr(q.raw, 1, ${RECORD_CHARS + 1}) AS raw, q.at_ms, length(q.raw) AS len
         FROM quarantine q JOIN files f ON f.file_id = q.file_id WHERE q.q_id = ?`,
    )
    .get(qId) as (QRow & { len: number }) | undefined;
  return r ? { ...toEntry(r, RECORD_CHARS), rawChars: r.len } : null;
}

/** Quarantined records per code, most frequent first, with the latest time each was seen. */
export function quarantineByCode(db: Sqlite): { code: string; count: number; lastAtMs: number }[] {
  return db
    .prepare(
      'SELECT code, COUNT(*) AS count, MAX(at_ms) AS lastAtMs FROM quarantine GROUP BY code ORDER BY count DESC, code',
    )
    .all() as { code: string; count: number; lastAtMs: number }[];
}
