import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SeamlineError } from '../../errors/errors.js';
import { classifySqliteError, guardSqlite } from './classify.js';

export type Sqlite = Database.Database;

export interface OpenSqliteOptions {
  readonly synchronous: 'FULL' | 'NORMAL';
  readonly busyTimeoutMs: number;
  readonly readonly?: boolean;
}

/**
 * Schema migrations, applied in order inside one transaction each. Never edit a shipped entry:
 * append a new one. user_version records how many ran.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE files (
    file_id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ms INTEGER NOT NULL,
    format TEXT NOT NULL,
    manifest_json TEXT,
    manifest_sha256 TEXT,
    state TEXT NOT NULL CHECK (state IN ('landing','verified','unverified','incomplete','failed')),
    detail TEXT,
    records_read INTEGER NOT NULL DEFAULT 0,
    records_landed INTEGER NOT NULL DEFAULT 0,
    records_quarantined INTEGER NOT NULL DEFAULT 0,
    seq_from INTEGER,
    seq_to INTEGER,
    new_fields_json TEXT,
    landed_at_ms INTEGER NOT NULL
  );
  CREATE INDEX files_sha ON files(sha256);
  CREATE INDEX files_path ON files(path);

  CREATE TABLE bronze (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id INTEGER NOT NULL REFERENCES files(file_id),
    line INTEGER NOT NULL,
    byte_offset INTEGER NOT NULL,
    record_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    event_time TEXT NOT NULL,
    event_time_ms INTEGER NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('upsert','delete')),
    text TEXT NOT NULL,
    metadata_json TEXT NOT NULL,
    landed_at_ms INTEGER NOT NULL
  );
  CREATE INDEX bronze_record ON bronze(record_id);
  CREATE INDEX bronze_file ON bronze(file_id);

  CREATE TABLE quarantine (
    q_id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id INTEGER NOT NULL REFERENCES files(file_id),
    line INTEGER NOT NULL,
    byte_offset INTEGER NOT NULL,
    code TEXT NOT NULL,
    field TEXT,
    message TEXT NOT NULL,
    raw TEXT NOT NULL,
    at_ms INTEGER NOT NULL
  );
  CREATE INDEX quarantine_file ON quarantine(file_id);

  CREATE TABLE key_state (
    record_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    event_time_ms INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    deleted INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE batches (
    batch_id TEXT PRIMARY KEY,
    table_name TEXT NOT NULL,
    seq_from INTEGER NOT NULL,
    seq_to INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('planned','committed','failed')),
    planned_at_ms INTEGER NOT NULL,
    committed_at_ms INTEGER,
    table_version INTEGER,
    records_in INTEGER,
    ids_touched INTEGER,
    rows_inserted INTEGER,
    rows_updated INTEGER,
    rows_deleted INTEGER,
    texts_embedded INTEGER,
    texts_reused INTEGER,
    model_id TEXT NOT NULL,
    pipeline_version TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    error TEXT
  );
  CREATE INDEX batches_table_seq ON batches(table_name, seq_to);
  CREATE INDEX batches_state ON batches(state);

  CREATE TABLE vector_tables (
    table_name TEXT PRIMARY KEY,
    model_id TEXT NOT NULL,
    dim INTEGER NOT NULL,
    pipeline_version TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('building','serving','retired','failed')),
    created_at_ms INTEGER NOT NULL,
    retired_at_ms INTEGER
  );

  CREATE TABLE serving (
    slot TEXT PRIMARY KEY CHECK (slot = 'current'),
    table_name TEXT NOT NULL REFERENCES vector_tables(table_name),
    previous_table_name TEXT,
    swapped_at_ms INTEGER NOT NULL
  );

  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL
  );

  CREATE TABLE incidents (
    incident_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    pipeline TEXT NOT NULL,
    run_id TEXT NOT NULL,
    batch_id TEXT,
    failure_mode TEXT NOT NULL,
    affected_rows INTEGER NOT NULL,
    guard TEXT NOT NULL,
    status TEXT NOT NULL,
    detail_json TEXT
  );
  `,
  // reindex: one row per reindex run (blue/green build, catch-up, gates, swap); status reads the latest.
  `
  CREATE TABLE reindex_jobs (
    job_id INTEGER PRIMARY KEY AUTOINCREMENT,
    table_name TEXT NOT NULL,
    source_table TEXT NOT NULL,
    model_id TEXT NOT NULL,
    dim INTEGER NOT NULL,
    settings_key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('building','catching_up','gating','swapped','failed','abandoned')),
    base_seq INTEGER NOT NULL,
    caught_up_seq INTEGER NOT NULL,
    cursor_id TEXT NOT NULL DEFAULT '',
    records_total INTEGER NOT NULL DEFAULT 0,
    records_done INTEGER NOT NULL DEFAULT 0,
    rows_written INTEGER NOT NULL DEFAULT 0,
    texts_embedded INTEGER NOT NULL DEFAULT 0,
    texts_reused INTEGER NOT NULL DEFAULT 0,
    rate_rps REAL,
    eta_ms INTEGER,
    gates_json TEXT,
    error TEXT,
    pid INTEGER,
    attempts INTEGER NOT NULL DEFAULT 1,
    started_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    finished_at_ms INTEGER
  );
  CREATE INDEX reindex_jobs_state ON reindex_jobs(state);
  `,
  // 3: optimize runs (one row per pass of the optimize job) and when a retired table was dropped.
  `
  CREATE TABLE optimize_runs (
    run_id TEXT PRIMARY KEY,
    table_name TEXT,
    started_at_ms INTEGER NOT NULL,
    finished_at_ms INTEGER,
    status TEXT NOT NULL CHECK (status IN ('running','ok','noop','skipped','failed')),
    actions_json TEXT NOT NULL DEFAULT '[]',
    reasons_json TEXT NOT NULL DEFAULT '[]',
    rows_before INTEGER,
    rows_after INTEGER,
    fragments_before INTEGER,
    fragments_after INTEGER,
    small_fragments_before INTEGER,
    small_fragments_after INTEGER,
    versions_before INTEGER,
    versions_after INTEGER,
    disk_bytes_before INTEGER,
    disk_bytes_after INTEGER,
    bytes_reclaimed INTEGER,
    conflicts INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    writer_quiet INTEGER,
    writer_wait_ms INTEGER,
    critical_ms INTEGER,
    indexed_rows INTEGER,
    unindexed_rows INTEGER,
    indexes_json TEXT,
    tables_dropped_json TEXT,
    duration_ms INTEGER,
    error TEXT
  );
  CREATE INDEX optimize_runs_started ON optimize_runs(started_at_ms);
  ALTER TABLE vector_tables ADD COLUMN dropped_at_ms INTEGER;
  `,
  // 4 (processor): startup reconcile and full replays, planned before they write and committed after,
  // so a crash mid-way resumes the same work; rows they rewrite carry replay_id as batch_id.
  `
  CREATE TABLE replays (
    replay_id TEXT PRIMARY KEY,
    table_name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('reconcile','replay')),
    state TEXT NOT NULL CHECK (state IN ('planned','committed')),
    from_version INTEGER,
    ledger_version INTEGER,
    up_to_seq INTEGER,
    planned_at_ms INTEGER NOT NULL,
    committed_at_ms INTEGER,
    table_version INTEGER,
    ids_touched INTEGER,
    rows_inserted INTEGER,
    rows_updated INTEGER,
    rows_deleted INTEGER,
    texts_embedded INTEGER,
    texts_reused INTEGER
  );
  CREATE INDEX replays_table_state ON replays(table_name, state);
  CREATE INDEX incidents_batch ON incidents(batch_id, status);
  `,
  // 5 (landing): what each catalog row covers of its source (bytes, identity, where it went after
  // landing) so growth after landing is seen; when the file became complete and by which rule;
  // manifests that came late or match nothing.
  `
  ALTER TABLE files ADD COLUMN from_byte INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE files ADD COLUMN landed_bytes INTEGER;
  ALTER TABLE files ADD COLUMN continuation_of INTEGER REFERENCES files(file_id);
  ALTER TABLE files ADD COLUMN dev INTEGER;
  ALTER TABLE files ADD COLUMN ino INTEGER;
  ALTER TABLE files ADD COLUMN stored_path TEXT;
  ALTER TABLE files ADD COLUMN watch_until_ms INTEGER;
  ALTER TABLE files ADD COLUMN complete_at_ms INTEGER;
  ALTER TABLE files ADD COLUMN complete_by TEXT;
  CREATE INDEX files_watch ON files(watch_until_ms) WHERE watch_until_ms IS NOT NULL;
  CREATE TABLE manifest_events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('late-match','late-mismatch','orphan')),
    file_id INTEGER REFERENCES files(file_id),
    detail TEXT,
    at_ms INTEGER NOT NULL,
    UNIQUE (path, manifest_sha256, state)
  );
  `,
  // 6 (processor lanes, docs/decisions/processor-lanes-ledger.md): a batch covers file segments, not one
  // contiguous bronze range; per (table, file) progress replaces the single high-water mark. Existing
  // contiguous batches are split into their files' segments so reconcile and verify keep working.
  `
  ALTER TABLE batches ADD COLUMN lane TEXT NOT NULL DEFAULT 'backlog';
  ALTER TABLE batches ADD COLUMN commit_no INTEGER;
  CREATE INDEX batches_table_lane_state ON batches(table_name, lane, state);
  CREATE INDEX batches_table_commit ON batches(table_name, commit_no);
  CREATE TABLE batch_segments (
    batch_id TEXT NOT NULL,
    file_id INTEGER NOT NULL,
    seq_from INTEGER NOT NULL,
    seq_to INTEGER NOT NULL,
    records INTEGER NOT NULL,
    PRIMARY KEY (batch_id, file_id)
  ) WITHOUT ROWID;
  CREATE INDEX batch_segments_file ON batch_segments(file_id);
  CREATE TABLE file_progress (
    table_name TEXT NOT NULL,
    file_id INTEGER NOT NULL,
    lane TEXT NOT NULL CHECK (lane IN ('live','backlog')),
    reason TEXT NOT NULL,
    seq_from INTEGER NOT NULL,
    seq_to INTEGER NOT NULL,
    records INTEGER NOT NULL,
    complete_at_ms INTEGER NOT NULL,
    landed_at_ms INTEGER NOT NULL,
    queued_at_ms INTEGER NOT NULL,
    planned_to INTEGER NOT NULL,
    planned_records INTEGER NOT NULL DEFAULT 0,
    committed_to INTEGER NOT NULL,
    committed_records INTEGER NOT NULL DEFAULT 0,
    searchable_at_ms INTEGER,
    PRIMARY KEY (table_name, file_id)
  ) WITHOUT ROWID;
  CREATE INDEX file_progress_open ON file_progress(table_name, lane, file_id) WHERE planned_to < seq_to;
  CREATE INDEX file_progress_uncommitted ON file_progress(table_name, lane) WHERE committed_to < seq_to;
  CREATE INDEX file_progress_searchable ON file_progress(table_name, searchable_at_ms);
  CREATE TABLE lane_cursors (
    table_name TEXT PRIMARY KEY,
    settled_file_id INTEGER NOT NULL
  );
  INSERT INTO batch_segments (batch_id, file_id, seq_from, seq_to, records)
    SELECT t.batch_id, f.file_id, MAX(t.seq_from, f.seq_from), MIN(t.seq_to, f.seq_to),
      (SELECT COUNT(*) FROM bronze b WHERE b.file_id = f.file_id AND b.seq BETWEEN MAX(t.seq_from, f.seq_from) AND MIN(t.seq_to, f.seq_to))
    FROM batches t JOIN files f ON f.seq_from IS NOT NULL AND f.seq_from <= t.seq_to AND f.seq_to >= t.seq_from
      AND f.state IN ('verified','unverified');
  UPDATE batches SET commit_no = (SELECT COUNT(*) FROM batches b2 WHERE b2.table_name = batches.table_name
    AND b2.state = 'committed' AND b2.rowid <= batches.rowid) WHERE state = 'committed';
  INSERT INTO file_progress (table_name, file_id, lane, reason, seq_from, seq_to, records, complete_at_ms,
      landed_at_ms, queued_at_ms, planned_to, planned_records, committed_to, committed_records, searchable_at_ms)
    SELECT tn.table_name, f.file_id, 'backlog', 'upgrade', f.seq_from, f.seq_to, f.records_landed, f.landed_at_ms,
      f.landed_at_ms, f.landed_at_ms,
      COALESCE((SELECT MAX(s.seq_to) FROM batch_segments s JOIN batches t ON t.batch_id = s.batch_id
        WHERE t.table_name = tn.table_name AND s.file_id = f.file_id), f.seq_from - 1),
      COALESCE((SELECT SUM(s.records) FROM batch_segments s JOIN batches t ON t.batch_id = s.batch_id
        WHERE t.table_name = tn.table_name AND s.file_id = f.file_id), 0),
      COALESCE((SELECT MAX(s.seq_to) FROM batch_segments s JOIN batches t ON t.batch_id = s.batch_id
        WHERE t.table_name = tn.table_name AND s.file_id = f.file_id AND t.state = 'committed'), f.seq_from - 1),
      COALESCE((SELECT SUM(s.records) FROM batch_segments s JOIN batches t ON t.batch_id = s.batch_id
        WHERE t.table_name = tn.table_name AND s.file_id = f.file_id AND t.state = 'committed'), 0),
      NULL
    FROM (SELECT DISTINCT table_name FROM batches) tn JOIN files f
    WHERE f.seq_from IS NOT NULL AND f.state IN ('verified','unverified');
  INSERT INTO lane_cursors (table_name, settled_file_id)
    SELECT DISTINCT table_name, COALESCE((SELECT MIN(file_id) - 1 FROM files WHERE state = 'landing'),
      (SELECT COALESCE(MAX(file_id), 0) FROM files)) FROM batches;
  UPDATE reindex_jobs SET base_seq = 0, caught_up_seq = 0 WHERE state IN ('building','catching_up','gating');
  `,
  // 7: several workers (issue 16; PostgreSQL migration 7 is the same): who is landing a file (recovery
  // removes only landings of workers that are gone) and who runs a planned batch, until when.
  `
  ALTER TABLE files ADD COLUMN owner TEXT;
  ALTER TABLE batches ADD COLUMN claimed_by TEXT;
  ALTER TABLE batches ADD COLUMN claim_expires_at_ms INTEGER;
  `,
];

/** Opens (creating if needed) the seamline SQLite database: WAL, explicit synchronous, migrations. */
export function openSqlite(file: string, opts: OpenSqliteOptions): Sqlite {
  let db: Sqlite;
  try {
    if (!opts.readonly) mkdirSync(path.dirname(file), { recursive: true });
    db = guardSqlite(
      new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false }),
    );
  } catch (e) {
    const c = classifySqliteError(e);
    if (c instanceof SeamlineError) throw c;
    throw new SeamlineError('BRONZE_FAILED', `cannot open SQLite database ${file}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  db.pragma(`busy_timeout = ${Math.trunc(opts.busyTimeoutMs)}`);
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous}`);
    db.pragma('foreign_keys = ON');
    migrate(db);
  }
  return db;
}

/** Changes the connection's busy wait (the daemon shortens it once running: the wait blocks the event loop). */
export function setBusyTimeout(db: Sqlite, ms: number): void {
  db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(ms))}`);
}

function migrate(db: Sqlite): void {
  // user_version is read inside the write transaction: two processes opening a fresh database at the
  // same moment (daemon + optimize job) must not both apply the same migration.
  for (;;) {
    const applied = db
      .transaction((): boolean => {
        const current = db.pragma('user_version', { simple: true }) as number;
        if (current >= MIGRATIONS.length) return false;
        db.exec(MIGRATIONS[current]!);
        db.pragma(`user_version = ${current + 1}`);
        return true;
      })
      .immediate();
    if (!applied) return;
  }
}
