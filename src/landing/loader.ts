import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, open, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Bronze, FileLanding, FileRow, NewFileInfo } from '../ports/bronze.js';
import type { Contract } from '../contract/types.js';
import type { Clock } from '../ports/clock.js';
import type { Incidents } from '../ports/ledger.js';
import type { FaultHook } from '../runtime/fault.js';
import { decideReadiness, observe, type FileObservation, type Manifest } from './completeness.js';
import { lateManifestVerdict } from './manifests.js';
import { openNoFollow, parseFile, STREAM_FAILURE_CODES } from './parse/index.js';
import { isInside, manifestPathsOf, type Candidate } from './scan.js';
import { noWriterCheck, writerFactsFor, type OpenWriters } from './writers.js';

export interface LoaderOptions {
  readonly maxLineBytes: number;
  readonly quarantineRawBytes: number;
  readonly afterLanding: 'archive' | 'delete' | 'keep';
  readonly archiveDir: string;
  /** Per-file limits (landing.maxInflatedBytes, landing.maxLines). Default: none. */
  readonly maxInflatedBytes?: number;
  readonly maxLines?: number;
  /** How long a landed file is watched for growth after landing (landing.growthWatchMs). Default 1 h. */
  readonly growthWatchMs?: number;
  /** Quiet period for a grown file before its tail lands (the completeness policy). */
  readonly stableWindowMs?: number;
  readonly closedQuietMs?: number;
}

export interface LoaderDeps {
  readonly bronze: Bronze;
  readonly contract: Contract;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly fault: FaultHook;
  /** Open-writer check (port): disposal waits while a process holds the file open for writing. */
  readonly writers?: OpenWriters;
  /** Where growth that cannot be landed and contradicting late manifests open incidents. */
  readonly incidents?: Incidents;
}

/** When and by which rule the completeness decision said the file is complete. */
export interface Completion {
  readonly atMs: number;
  readonly by: string;
}

/**
 * What landing one candidate did. 'landed' covers every state the file ends in (verified,
 * unverified, incomplete); 'unchanged' means path, size, mtime and manifest match what was already
 * decided, so the file was not even hashed again.
 */
export type LandOutcome =
  | { readonly kind: 'landed'; readonly file: FileRow }
  | { readonly kind: 'duplicate'; readonly of: FileRow }
  | { readonly kind: 'unchanged'; readonly of: FileRow | null }
  | { readonly kind: 'changed-while-reading' }
  | { readonly kind: 'failed'; readonly detail: string; readonly error?: unknown }
  /** Same bytes are being landed under another name right now: try again on the next pass. */
  | { readonly kind: 'busy'; readonly detail: string }
  /**
   * The file left the landing folder between the scan and its landing (deleted or moved by its client, or
   * archived by a landing of the same path a moment before): nothing was read, so nothing is lost or
   * landed; not a refusal.
   */
  | { readonly kind: 'gone' }
  | { readonly kind: 'refused'; readonly reason: string };

/** What `refusal()` answers for a candidate that no longer exists (LandOutcome 'gone'). */
const GONE = Symbol('gone');

export async function sha256File(abs: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of openNoFollow(abs)) h.update(c);
  return h.digest('hex');
}

export interface ManifestRead {
  readonly manifest: Manifest | 'invalid' | null;
  readonly raw: string | null;
  readonly sha256: string | null;
  /** Why the manifest is 'invalid', for status and logs. */
  readonly problem?: string;
}

/** Reads and validates a sidecar manifest. Returns null when absent, 'invalid' when unusable. Never follows a symlink. */
export async function readManifest(abs: string): Promise<ManifestRead> {
  const [short, long] = manifestPathsOf(abs);
  const a = await readManifestAt(short);
  const b = await readManifestAt(long);
  if (b.manifest === null) return a;
  if (a.manifest === null) return b;
  if (a.sha256 !== null && a.sha256 === b.sha256) return a;
  return {
    manifest: 'invalid',
    raw: a.raw,
    sha256: a.sha256,
    problem: `two manifests with different content: ${path.basename(short)} and ${path.basename(long)}; keep one`,
  };
}

/** Reads and validates one manifest file (no naming rules). */
export const readManifestFile = (mp: string): Promise<ManifestRead> => readManifestAt(mp);

async function readManifestAt(mp: string): Promise<ManifestRead> {
  let raw: string;
  try {
    const st = await lstat(mp);
    if (st.isSymbolicLink())
      return {
        manifest: 'invalid',
        raw: null,
        sha256: null,
        problem: 'the manifest is a symlink; symlinks are never followed',
      };
    if (!st.isFile())
      return { manifest: 'invalid', raw: null, sha256: null, problem: 'the manifest is not a regular file' };
    if (st.size > 64 * 1024)
      return {
        manifest: 'invalid',
        raw: null,
        sha256: null,
        problem: `the manifest is ${st.size} bytes (at most 64 KiB)`,
      };
    const fh = await open(mp, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      raw = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { manifest: null, raw: null, sha256: null };
    return {
      manifest: 'invalid',
      raw: null,
      sha256: null,
      problem: `the manifest cannot be read: ${(e as Error).message}`,
    };
  }
  const sha = createHash('sha256').update(raw).digest('hex');
  const bad = (problem: string): ManifestRead => ({ manifest: 'invalid', raw, sha256: sha, problem });
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch (e) {
    return bad(`the manifest is not valid JSON: ${(e as Error).message}`);
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m))
    return bad('the manifest must be a JSON object');
  const o = m as Record<string, unknown>;
  const own = (k: string): unknown => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);
  const records = own('records');
  const sha256 = own('sha256');
  const bytes = own('bytes');
  if (typeof records !== 'number' || !Number.isSafeInteger(records) || records < 0)
    return bad('"records" must be a non-negative integer');
  if (sha256 !== undefined && (typeof sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256)))
    return bad('"sha256" must be 64 hex digits');
  if (bytes !== undefined && (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0))
    return bad('"bytes" must be a non-negative integer');
  return {
    manifest: { records, sha256: typeof sha256 === 'string' ? sha256.toLowerCase() : undefined, bytes },
    raw,
    sha256: sha,
  };
}

interface Seen {
  readonly size: number;
  readonly mtimeMs: number;
  readonly manifestSha: string | null;
  readonly of: FileRow | null;
}

/**
 * Lands one complete file: every record is either in bronze or in quarantine with a reason
 * (read = landed + quarantined). A manifest whose count, byte count or checksum does not match, or
 * a truncated/corrupt gzip, makes the file 'incomplete' and none of its records become visible.
 * The same bytes dropped again are a no-op. Never throws for bad input; I/O errors become 'failed'.
 */
export class Loader {
  /** Decisions already taken per path (size + mtime + manifest): such files are not re-hashed. */
  private readonly seen = new Map<string, Seen>();
  /** sha256 of files being landed now (concurrent landings of the same bytes would land them twice). */
  private readonly inFlightSha = new Set<string>();
  /** Observations of watched (archived, pending-delete) files that grew: their tails wait for quiet. */
  private readonly growthObs = new Map<number, FileObservation>();
  private readonly writers: OpenWriters;

  private get watchMs(): number {
    return this.opts.growthWatchMs ?? 3_600_000;
  }

  constructor(
    private readonly deps: LoaderDeps,
    private readonly opts: LoaderOptions,
  ) {
    this.writers = deps.writers ?? noWriterCheck();
  }

  /**
   * True when this path was decided before with the same size, mtime and manifest and nothing is
   * left to do (kept in place, or refused): no need to start a landing task. In memory only.
   */
  decided(c: Candidate, manifestSha: string | null): boolean {
    const memo = this.seen.get(c.rel);
    if (
      !memo ||
      memo.size !== c.size ||
      memo.mtimeMs !== Math.trunc(c.mtimeMs) ||
      memo.manifestSha !== manifestSha
    )
      return false;
    const visible = memo.of !== null && (memo.of.state === 'verified' || memo.of.state === 'unverified');
    return this.opts.afterLanding === 'keep' || !visible;
  }

  /** Forgets paths no longer present in the landing folder. */
  prune(present: ReadonlySet<string>): void {
    for (const k of [...this.seen.keys()]) if (!present.has(k)) this.seen.delete(k);
  }

  async land(
    c: Candidate,
    manifest: Manifest | null,
    manifestRaw: string | null,
    manifestSha: string | null,
    complete?: Completion,
  ): Promise<LandOutcome> {
    const { bronze } = this.deps;
    const log = this.deps.logger.child({ file: c.rel });
    const refusal = await this.refusal(c);
    if (refusal === GONE) {
      log.debug({ event: 'file.gone' }, `${c.rel} left the landing folder before it was read`);
      return { kind: 'gone' };
    }
    if (refusal !== null) {
      log.warn({ event: 'file.refused', reason: refusal }, `refused ${c.rel}: ${refusal}`);
      return { kind: 'refused', reason: refusal };
    }
    const mtime = Math.trunc(c.mtimeMs);
    const memo = this.seen.get(c.rel);
    if (memo && memo.size === c.size && memo.mtimeMs === mtime && memo.manifestSha === manifestSha)
      return { kind: 'unchanged', of: memo.of };
    const last = await bronze.latestFileByPath(c.rel);
    if (
      last &&
      last.size === c.size &&
      last.mtimeMs === mtime &&
      last.manifestSha256 === manifestSha &&
      last.state !== 'failed' &&
      last.state !== 'landing'
    ) {
      // Decided before (e.g. kept in place, or incomplete and not fixed yet): no re-hash on every rescan.
      this.seen.set(c.rel, { size: c.size, mtimeMs: mtime, manifestSha, of: last });
      if (last.state === 'verified' || last.state === 'unverified') await this.dispose(c, last.fileId);
      return { kind: 'unchanged', of: last };
    }
    if (
      last &&
      (last.state === 'verified' || last.state === 'unverified') &&
      c.size > last.landedBytes &&
      c.format !== 'jsonl.gz' &&
      (last.dev === null || c.dev === undefined || (last.dev === c.dev && last.ino === c.ino))
    ) {
      // Kept in place and appended to after landing: land the new bytes as a continuation.
      const tail = await this.landTail(last, c, manifestRaw, manifestSha, true, complete);
      if (tail !== null) {
        if (tail.kind === 'landed')
          this.seen.set(c.rel, { size: c.size, mtimeMs: mtime, manifestSha, of: tail.file });
        return tail;
      }
      // The landed bytes were rewritten, not appended to: a new version of the file (below).
    }
    const sha = await sha256File(c.abs);
    if (this.inFlightSha.has(sha))
      return { kind: 'busy', detail: 'the same bytes are being landed under another name right now' };
    const remember = (of: FileRow | null): void =>
      void this.seen.set(c.rel, { size: c.size, mtimeMs: mtime, manifestSha, of });
    const prior = await bronze.filesBySha(sha);
    const landedBefore = prior.find((f) => f.state === 'verified' || f.state === 'unverified');
    if (landedBefore) {
      if (manifest !== null && manifestSha !== null && landedBefore.manifestSha256 !== manifestSha)
        await this.lateManifest(c.rel, manifest, manifestSha, landedBefore);
      log.info(
        { event: 'file.duplicate', of_file_id: landedBefore.fileId, of_path: landedBefore.path },
        'same bytes already landed; nothing to do',
      );
      remember(landedBefore);
      await this.dispose(c, null);
      return { kind: 'duplicate', of: landedBefore };
    }
    const refusedBefore = prior.find((f) => f.state === 'incomplete' && f.manifestSha256 === manifestSha);
    if (refusedBefore) {
      remember(refusedBefore);
      return { kind: 'duplicate', of: refusedBefore };
    }

    const info: NewFileInfo = {
      path: c.rel,
      sha256: sha,
      size: c.size,
      mtimeMs: c.mtimeMs,
      format: c.format,
      manifestJson: manifestRaw,
      manifestSha256: manifestSha,
      dev: c.dev ?? null,
      ino: c.ino ?? null,
      completeAtMs: complete?.atMs ?? null,
      completeBy: complete?.by ?? null,
    };
    const nowMs = this.deps.clock.nowMs();
    const wholeFileMismatch =
      manifest?.sha256 !== undefined && manifest.sha256 !== sha
        ? `checksum mismatch: manifest sha256 ${manifest.sha256}, file sha256 ${sha}`
        : manifest?.bytes !== undefined && manifest.bytes !== c.size
          ? `byte count mismatch: manifest says ${manifest.bytes} bytes, file has ${c.size}`
          : null;
    if (wholeFileMismatch !== null) {
      const f = await bronze.recordRefused(info, 'incomplete', wholeFileMismatch, nowMs);
      log.warn(
        { event: 'file.incomplete', file_id: f.fileId, detail: wholeFileMismatch },
        `file is incomplete (${wholeFileMismatch}); nothing from it is published`,
      );
      remember(f);
      return { kind: 'landed', file: f };
    }
    this.inFlightSha.add(sha);
    try {
      const out = await this.parseAndWrite(c, info, manifest, nowMs, log, null, true);
      if (out.kind === 'landed') remember(out.file);
      return out;
    } finally {
      this.inFlightSha.delete(sha);
    }
  }

  /**
   * Lands bytes appended to a landed file after it landed (kept in place, or followed into the
   * archive by the writer's descriptor) as a continuation: its own catalog row (from_byte =
   * where the parent ended, continuation_of = parent), its own accounting, unverified (no manifest
   * covers the tail). Returns null when the parent's bytes changed (a rewrite, not an append).
   */
  private async landTail(
    parent: FileRow,
    c: Candidate,
    manifestRaw: string | null,
    manifestSha: string | null,
    dispose: boolean,
    complete?: Completion,
  ): Promise<LandOutcome | null> {
    const log = this.deps.logger.child({ file: c.rel });
    const { prefix, whole } = await sha256WithPrefix(c.abs, parent.landedBytes, c.size);
    if (prefix !== parent.sha256) return null;
    log.warn(
      {
        event: 'file.grew_after_landing',
        file_id: parent.fileId,
        landed_bytes: parent.landedBytes,
        size: c.size,
        stored_path: c.abs,
      },
      `${c.rel} grew after landing (${parent.landedBytes} → ${c.size} bytes): landing the new bytes as a continuation`,
    );
    const info: NewFileInfo = {
      path: c.rel,
      sha256: whole,
      size: c.size,
      mtimeMs: c.mtimeMs,
      format: c.format,
      manifestJson: manifestRaw,
      manifestSha256: manifestSha,
      fromByte: parent.landedBytes,
      continuationOf: parent.fileId,
      dev: c.dev ?? parent.dev,
      ino: c.ino ?? parent.ino,
      completeAtMs: complete?.atMs ?? this.deps.clock.nowMs(),
      completeBy: complete?.by ?? 'growth',
    };
    const out = await this.parseAndWrite(
      c,
      info,
      null,
      this.deps.clock.nowMs(),
      log,
      { start: parent.landedBytes, end: c.size },
      dispose,
    );
    if (out.kind === 'landed' && (out.file.state === 'verified' || out.file.state === 'unverified')) {
      // The continuation carries the growth watch from now on.
      await this.deps.bronze.setStored(parent.fileId, parent.storedPath, null);
      if (!dispose)
        await this.deps.bronze.setStored(out.file.fileId, c.abs, this.deps.clock.nowMs() + this.watchMs);
    }
    return out;
  }

  /**
   * Checks landed files still watched for growth (archived, pending delete; kept files are seen by
   * the scan): a tail lands once quiet, a shrunk or rewritten file or a grown gzip opens an incident,
   * and an expired watch ends (a pending delete is deleted then). Never throws.
   */
  async watchGrowth(): Promise<LandOutcome[]> {
    const { bronze } = this.deps;
    const out: LandOutcome[] = [];
    const rows = (await bronze.watchedFiles()).filter((r) => r.storedPath !== null);
    const keep = new Set<number>();
    for (const row of rows) {
      const now = this.deps.clock.nowMs();
      const stored = row.storedPath!;
      const log = this.deps.logger.child({ file: row.path });
      try {
        const st = await lstat(stored).catch(() => null);
        const expired = now >= (row.watchUntilMs ?? 0);
        if (!st || !st.isFile() || (row.ino !== null && (st.ino !== row.ino || st.dev !== row.dev))) {
          await bronze.setStored(row.fileId, null, null);
          continue;
        }
        if (st.size === row.landedBytes) {
          if (expired) await this.endWatch(row, stored);
          continue;
        }
        if (st.size < row.landedBytes || row.format === 'jsonl.gz') {
          const what =
            st.size < row.landedBytes
              ? `shrank after landing (${row.landedBytes} → ${st.size} bytes)`
              : `grew after landing (${row.landedBytes} → ${st.size} bytes) but is gzip: the tail cannot be landed on its own`;
          await this.incident(
            row,
            'grew-after-landing',
            `${row.path} (${stored}) ${what}; re-send the whole file`,
          );
          log.error({ event: 'file.changed_after_landing', file_id: row.fileId, stored_path: stored }, what);
          await bronze.setStored(row.fileId, stored, null);
          continue;
        }
        keep.add(row.fileId);
        const obs = observe(this.growthObs.get(row.fileId), st.size, st.mtimeMs, now);
        this.growthObs.set(row.fileId, obs);
        const probe = await this.writers.probe([{ dev: st.dev, ino: st.ino }]);
        const r = decideReadiness(
          obs,
          null,
          now,
          {
            stableWindowMs: this.opts.stableWindowMs ?? 1000,
            requireManifest: false,
            ...(this.opts.closedQuietMs !== undefined ? { closedQuietMs: this.opts.closedQuietMs } : {}),
          },
          writerFactsFor(probe, { dev: st.dev, ino: st.ino }),
        );
        if (!r.ready) continue;
        const c: Candidate = {
          rel: row.path,
          abs: stored,
          format: row.format as Candidate['format'],
          size: st.size,
          mtimeMs: st.mtimeMs,
          dev: st.dev,
          ino: st.ino,
        };
        const tail = await this.landTail(row, c, null, null, false, { atMs: now, by: `growth/${r.by}` });
        if (tail === null) {
          await this.incident(
            row,
            'grew-after-landing',
            `${row.path} (${stored}) was rewritten after landing, not appended to`,
          );
          await bronze.setStored(row.fileId, stored, null);
        } else out.push(tail);
        this.growthObs.delete(row.fileId);
      } catch (e) {
        log.error({ event: 'file.growth_check_failed', err: e }, `checking ${stored} for growth failed`);
      }
    }
    for (const k of [...this.growthObs.keys()]) if (!keep.has(k)) this.growthObs.delete(k);
    return out;
  }

  private async endWatch(row: FileRow, stored: string): Promise<void> {
    if (stored.startsWith(this.pendingDeleteDir() + path.sep)) {
      await rm(stored, { force: true });
      for (const m of manifestPathsOf(stored)) await rm(m, { force: true });
      await this.deps.bronze.setStored(row.fileId, null, null);
    } else await this.deps.bronze.setStored(row.fileId, stored, null);
  }

  private pendingDeleteDir(): string {
    return path.join(this.opts.archiveDir, '.pending-delete');
  }

  private async incident(row: FileRow, mode: string, message: string): Promise<void> {
    await this.deps.incidents?.record({
      atMs: this.deps.clock.nowMs(),
      pipeline: 'landing',
      runId: 'landing',
      batchId: `file:${row.fileId}`,
      failureMode: mode,
      affectedRows: 0,
      guard: 'landing',
      message,
    });
  }

  /**
   * A manifest that arrived after its data file landed: recorded (status, metric), logged, and an
   * incident when it contradicts what was landed.
   */
  async lateManifest(rel: string, manifest: Manifest, manifestSha: string, landed: FileRow): Promise<void> {
    const { bronze } = this.deps;
    const chain = (await bronze.files()).filter(
      (f) => f.path === landed.path && (f.fileId === landed.fileId || f.continuationOf !== null),
    );
    const records = chain.reduce((a, f) => a + f.recordsRead, 0);
    const verdict = lateManifestVerdict(manifest, {
      records: Math.max(records, landed.recordsRead),
      sha256: landed.sha256,
      bytes: landed.landedBytes,
    });
    const state = verdict === null ? 'late-match' : 'late-mismatch';
    const fresh = await bronze.recordManifestEvent({
      path: rel,
      manifestSha256: manifestSha,
      state,
      fileId: landed.fileId,
      detail: verdict ?? 'arrived after its data file landed; it agrees with what was landed',
      atMs: this.deps.clock.nowMs(),
    });
    if (!fresh) return;
    const log = this.deps.logger.child({ file: landed.path });
    if (verdict === null)
      log.warn(
        { event: 'manifest.late', manifest: rel, file_id: landed.fileId },
        `manifest ${rel} arrived after ${landed.path} landed (file ${landed.fileId}); it agrees with what was landed`,
      );
    else {
      await this.incident(
        landed,
        'late-manifest-mismatch',
        `late manifest ${rel} contradicts landed file ${landed.fileId}: ${verdict}`,
      );
      log.error(
        { event: 'manifest.late_mismatch', manifest: rel, file_id: landed.fileId, detail: verdict },
        `manifest ${rel} arrived after ${landed.path} landed and contradicts it: ${verdict}`,
      );
    }
  }

  private async parseAndWrite(
    c: Candidate,
    info: NewFileInfo,
    manifest: Manifest | null,
    nowMs: number,
    log: Logger,
    range: { readonly start: number; readonly end: number } | null,
    dispose: boolean,
  ): Promise<LandOutcome> {
    const { bronze, contract, fault } = this.deps;
    const writer = await bronze.beginFile(info, nowMs);
    const slicer = new LandingSlicer();
    const seenFields = new Set<string>();
    const drift: string[] = [];
    let streamFailure: { code: string; message: string } | null = null;
    let flushed = false;
    try {
      for await (const item of parseFile(
        c.abs,
        c.format,
        {
          maxLineBytes: this.opts.maxLineBytes,
          rawBytes: this.opts.quarantineRawBytes,
          ...(this.opts.maxInflatedBytes !== undefined ? { maxBytes: this.opts.maxInflatedBytes } : {}),
          ...(this.opts.maxLines !== undefined ? { maxLines: this.opts.maxLines } : {}),
        },
        range ?? undefined,
      )) {
        await slicer.step(writer);
        if (item.kind === 'error') {
          if (STREAM_FAILURE_CODES.has(item.code)) streamFailure = { code: item.code, message: item.message };
          if (item.code === 'READ_FAILED') break;
          await writer.addQuarantine({
            line: item.line,
            offset: item.offset,
            code: item.code,
            field: null,
            message: `${c.rel}:${item.line}: ${item.message}`,
            raw: item.raw,
          });
          continue;
        }
        const v = item.text ? contract.validateText(item.value) : contract.validate(item.value, item.raw);
        if (!v.ok) {
          await writer.addQuarantine({
            line: item.line,
            offset: item.offset,
            code: v.code,
            field: v.field,
            message: `${c.rel}:${item.line}${v.field ? ` field "${v.field}"` : ''}: ${v.message}`,
            raw: item.raw,
          });
          continue;
        }
        for (const f of v.fields) {
          if (!contract.knownFields.has(f) && !seenFields.has(f)) drift.push(f);
          seenFields.add(f);
        }
        await writer.addRecord(v.record, item.line, item.offset);
        if (!flushed) {
          await writer.flush();
          flushed = true;
          fault('mid-landing');
        }
      }
    } catch (e) {
      // Bronze write failure or anything unexpected: the attempt counts for nothing and is retried.
      const detail = `landing failed: ${(e as Error).message}`;
      await this.finishQuietly(writer, detail);
      log.error({ event: 'file.land_failed', err: e }, detail);
      return { kind: 'failed', detail };
    }
    if (streamFailure?.code === 'READ_FAILED') {
      const detail = `${streamFailure.message}; it will be tried again`;
      await this.finishQuietly(writer, detail);
      log.warn({ event: 'file.read_failed', detail }, detail);
      return { kind: 'failed', detail };
    }
    const after = await stat(c.abs).catch(() => null);
    if (!after || after.size !== c.size || after.mtimeMs !== c.mtimeMs) {
      await writer.finish(
        'failed',
        'the file changed while it was being read; it will be landed again once stable',
        [],
      );
      log.warn({ event: 'file.changed_while_reading' }, 'file changed while reading; will retry');
      return { kind: 'changed-while-reading' };
    }
    const counts = writer.counts();
    let state: 'verified' | 'unverified' | 'incomplete' = manifest ? 'verified' : 'unverified';
    let detail: string | null = manifest ? null : 'no manifest: landed unverified';
    if (info.continuationOf != null)
      detail = `continuation of file ${info.continuationOf}: bytes ${info.fromByte}–${info.size} appended after it landed (lines count from byte ${info.fromByte})`;
    if (streamFailure !== null) {
      state = 'incomplete';
      detail = `${streamFailure.code}: ${streamFailure.message}; ${counts.landed} good record(s) before it are withheld until the whole file is readable`;
    } else if (manifest && manifest.records !== counts.read) {
      state = 'incomplete';
      detail = `record count mismatch: manifest says ${manifest.records}, file holds ${counts.read}`;
    }
    fault('before-publish');
    const f = await writer.finish(state, detail, drift);
    if (drift.length > 0)
      log.warn(
        { event: 'schema.drift', file_id: f.fileId, new_fields: drift },
        `new field(s) not in the contract: ${drift.join(', ')}`,
      );
    if (state === 'incomplete') {
      log.warn(
        {
          event: 'file.incomplete',
          file_id: f.fileId,
          detail,
          read: f.recordsRead,
          quarantined: f.recordsQuarantined,
        },
        `file is incomplete (${detail}); nothing from it is published`,
      );
      return { kind: 'landed', file: f };
    }
    log.info(
      {
        event: 'file.landed',
        file_id: f.fileId,
        state,
        read: f.recordsRead,
        landed: f.recordsLanded,
        quarantined: f.recordsQuarantined,
        seq_from: f.seqFrom,
        seq_to: f.seqTo,
      },
      'file landed',
    );
    if (dispose) await this.dispose(c, f.fileId);
    return { kind: 'landed', file: f };
  }

  private async finishQuietly(writer: FileLanding, detail: string): Promise<void> {
    try {
      await writer.finish('failed', detail, []);
    } catch {
      /* the database itself is failing; recoverLanding() cleans the 'landing' row at next start */
    }
  }

  /** Why a candidate must not be read (symlink, not a regular file, resolves outside the landing folder), or null. */
  private async refusal(c: Candidate): Promise<string | typeof GONE | null> {
    const root = c.abs.slice(0, c.abs.length - c.rel.length).replace(/[\\/]+$/, '') || path.sep;
    try {
      const st = await lstat(c.abs);
      if (st.isSymbolicLink()) return 'symlink: symlinks are never followed';
      if (!st.isFile()) return 'not a regular file';
      const real = await realpath(c.abs);
      if (!isInside(await realpath(root), real)) return `resolves outside the landing folder (to ${real})`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return GONE;
      return `cannot be inspected: ${(e as Error).message}`;
    }
    return null;
  }

  /**
   * After landing: archive (default), delete or keep the source file and its manifest(s). Never while
   * a process holds the file open for writing (its next bytes would follow the inode out of sight):
   * disposal waits for the next pass. Archived and to-be-deleted files are watched for growth for
   * landing.growthWatchMs (a delete happens when the watch ends).
   */
  private async dispose(c: Candidate, fileId: number | null): Promise<void> {
    if (this.opts.afterLanding === 'keep') {
      if (fileId !== null) await this.deps.bronze.setStored(fileId, c.abs, null);
      return;
    }
    if (c.dev !== undefined && c.ino !== undefined) {
      const key = { dev: c.dev, ino: c.ino };
      const facts = writerFactsFor(await this.writers.probe([key]), key);
      if (facts.kind === 'checked' && facts.writerPids.length > 0) {
        this.deps.logger.warn(
          { event: 'file.dispose_deferred', file: c.rel, file_id: fileId, pids: facts.writerPids },
          `${c.rel} is held open for writing by process ${facts.writerPids.join(', ')}: not moved yet`,
        );
        return;
      }
    }
    this.seen.delete(c.rel);
    // Only the manifest the file was landed with goes along; one that arrived meanwhile stays, to be
    // checked as a late manifest.
    const landedWith =
      fileId === null ? null : ((await this.deps.bronze.file(fileId))?.manifestSha256 ?? null);
    const manifests: string[] = [];
    for (const m of manifestPathsOf(c.abs)) {
      if (!(await exists(m))) continue;
      if (fileId === null || (landedWith !== null && (await readManifestAt(m)).sha256 === landedWith))
        manifests.push(m);
    }
    if (this.opts.afterLanding === 'delete' && (fileId === null || this.watchMs === 0)) {
      await rm(c.abs, { force: true });
      for (const m of manifests) await rm(m, { force: true });
      return;
    }
    const stamp = new Date(this.deps.clock.nowMs()).toISOString().slice(0, 10);
    const base = this.opts.afterLanding === 'delete' ? this.pendingDeleteDir() : this.opts.archiveDir;
    let dest = path.join(base, stamp, c.rel);
    // Never overwrite an earlier version of the same path in the archive.
    if (await exists(dest)) dest = `${dest}.${fileId ?? `dup-${this.deps.clock.nowMs()}`}`;
    await mkdir(path.dirname(dest), { recursive: true });
    await move(c.abs, dest);
    for (const [i, m] of manifests.entries())
      await move(m, `${dest}${i === 0 ? '' : `.${i}`}.manifest.json`).catch(() => undefined);
    if (fileId !== null)
      await this.deps.bronze.setStored(fileId, dest, this.deps.clock.nowMs() + this.watchMs);
  }
}

/**
 * Records per landing transaction (docs/decisions/landing-slices.md). A slice's transaction runs on
 * the main thread (better-sqlite3 is synchronous): 1,000 rows took 10–22 ms median and up to 70 ms
 * on the shared 2 cores, 200 rows 3–8 ms. The file stays invisible until it is published, whatever
 * the slice size; the stream's own reads (64 KiB each) are the yields in between.
 */
const SLICE_RECORDS = 200;

/** Flushes a landing's records to bronze every SLICE_RECORDS parsed items. */
class LandingSlicer {
  private items = 0;

  async step(writer: FileLanding): Promise<void> {
    this.items += 1;
    if (this.items % SLICE_RECORDS === 0) await writer.flush();
  }
}

/** sha256 of the first `at` bytes and of the first `size` bytes, in one read. */
async function sha256WithPrefix(
  abs: string,
  at: number,
  size: number,
): Promise<{ prefix: string; whole: string }> {
  const h = createHash('sha256');
  let prefix: string | null = at === 0 ? h.copy().digest('hex') : null;
  let pos = 0;
  for await (const chunk of openNoFollow(abs, { start: 0, end: size })) {
    const c = chunk;
    if (prefix === null && pos + c.length >= at) {
      h.update(c.subarray(0, at - pos));
      prefix = h.copy().digest('hex');
      h.update(c.subarray(at - pos));
    } else h.update(c);
    pos += c.length;
  }
  return { prefix: prefix ?? '', whole: h.digest('hex') };
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

/** rename, falling back to copy + unlink across file systems (EXDEV). */
async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await copyFile(from, to);
    await rm(from, { force: true });
  }
}
