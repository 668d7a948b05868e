import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, open, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Bronze, FileRow, NewFileInfo } from '../bronze/bronze.js';
import type { Contract } from '../contract/types.js';
import type { Clock } from '../ports/clock.js';
import type { FaultHook } from '../runtime/fault.js';
import type { Manifest } from './completeness.js';
import { openNoFollow, parseFile, STREAM_FAILURE_CODES } from './parse/index.js';
import { isInside, manifestPathOf, type Candidate } from './scan.js';

export interface LoaderOptions {
  readonly maxLineBytes: number;
  readonly quarantineRawBytes: number;
  readonly afterLanding: 'archive' | 'delete' | 'keep';
  readonly archiveDir: string;
}

export interface LoaderDeps {
  readonly bronze: Bronze;
  readonly contract: Contract;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly fault: FaultHook;
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
  | { readonly kind: 'failed'; readonly detail: string }
  | { readonly kind: 'refused'; readonly reason: string };

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
  const mp = manifestPathOf(abs);
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

  constructor(
    private readonly deps: LoaderDeps,
    private readonly opts: LoaderOptions,
  ) {}

  /** Forgets paths no longer present in the landing folder. */
  prune(present: ReadonlySet<string>): void {
    for (const k of [...this.seen.keys()]) if (!present.has(k)) this.seen.delete(k);
  }

  async land(
    c: Candidate,
    manifest: Manifest | null,
    manifestRaw: string | null,
    manifestSha: string | null,
  ): Promise<LandOutcome> {
    const { bronze } = this.deps;
    const log = this.deps.logger.child({ file: c.rel });
    const refusal = await this.refusal(c);
    if (refusal !== null) {
      log.warn({ event: 'file.refused', reason: refusal }, `refused ${c.rel}: ${refusal}`);
      return { kind: 'refused', reason: refusal };
    }
    const mtime = Math.trunc(c.mtimeMs);
    const memo = this.seen.get(c.rel);
    if (memo && memo.size === c.size && memo.mtimeMs === mtime && memo.manifestSha === manifestSha)
      return { kind: 'unchanged', of: memo.of };
    const last = bronze.latestFileByPath(c.rel);
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
    const sha = await sha256File(c.abs);
    const remember = (of: FileRow | null): void =>
      void this.seen.set(c.rel, { size: c.size, mtimeMs: mtime, manifestSha, of });
    const prior = bronze.filesBySha(sha);
    const landedBefore = prior.find((f) => f.state === 'verified' || f.state === 'unverified');
    if (landedBefore) {
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

    const info = {
      path: c.rel,
      sha256: sha,
      size: c.size,
      mtimeMs: c.mtimeMs,
      format: c.format,
      manifestJson: manifestRaw,
      manifestSha256: manifestSha,
    };
    const nowMs = this.deps.clock.nowMs();
    const wholeFileMismatch =
      manifest?.sha256 !== undefined && manifest.sha256 !== sha
        ? `checksum mismatch: manifest sha256 ${manifest.sha256}, file sha256 ${sha}`
        : manifest?.bytes !== undefined && manifest.bytes !== c.size
          ? `byte count mismatch: manifest says ${manifest.bytes} bytes, file has ${c.size}`
          : null;
    if (wholeFileMismatch !== null) {
      const f = bronze.recordRefused(info, 'incomplete', wholeFileMismatch, nowMs);
      log.warn(
        { event: 'file.incomplete', file_id: f.fileId, detail: wholeFileMismatch },
        `file is incomplete (${wholeFileMismatch}); nothing from it is published`,
      );
      remember(f);
      return { kind: 'landed', file: f };
    }
    const out = await this.parseAndWrite(c, info, manifest, nowMs, log);
    if (out.kind === 'landed') remember(out.file);
    return out;
  }

  private async parseAndWrite(
    c: Candidate,
    info: NewFileInfo,
    manifest: Manifest | null,
    nowMs: number,
    log: Logger,
  ): Promise<LandOutcome> {
    const { bronze, contract, fault } = this.deps;
    const writer = bronze.beginFile(info, nowMs);
    const seenFields = new Set<string>();
    const drift: string[] = [];
    let streamFailure: { code: string; message: string } | null = null;
    let flushed = false;
    try {
      for await (const item of parseFile(c.abs, c.format, {
        maxLineBytes: this.opts.maxLineBytes,
        rawBytes: this.opts.quarantineRawBytes,
      })) {
        if (item.kind === 'error') {
          if (STREAM_FAILURE_CODES.has(item.code)) streamFailure = { code: item.code, message: item.message };
          if (item.code === 'READ_FAILED') break;
          writer.addQuarantine({
            line: item.line,
            offset: item.offset,
            code: item.code,
            field: null,
            message: `${c.rel}:${item.line}: ${item.message}`,
            raw: item.raw,
          });
          continue;
        }
        const v = item.text ? contract.validateText(item.value) : contract.validate(item.value);
        if (!v.ok) {
          writer.addQuarantine({
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
        writer.addRecord(v.record, item.line, item.offset);
        if (!flushed) {
          writer.flush();
          flushed = true;
          fault('mid-landing');
        }
      }
    } catch (e) {
      // Bronze write failure or anything unexpected: the attempt counts for nothing and is retried.
      const detail = `landing failed: ${(e as Error).message}`;
      this.finishQuietly(writer, detail);
      log.error({ event: 'file.land_failed', err: (e as Error).message }, detail);
      return { kind: 'failed', detail };
    }
    if (streamFailure?.code === 'READ_FAILED') {
      const detail = `${streamFailure.message}; it will be tried again`;
      this.finishQuietly(writer, detail);
      log.warn({ event: 'file.read_failed', detail }, detail);
      return { kind: 'failed', detail };
    }
    const after = await stat(c.abs).catch(() => null);
    if (!after || after.size !== c.size || after.mtimeMs !== c.mtimeMs) {
      writer.finish(
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
    if (streamFailure !== null) {
      state = 'incomplete';
      detail = `${streamFailure.code}: ${streamFailure.message}; ${counts.landed} good record(s) before it are withheld until the whole file is readable`;
    } else if (manifest && manifest.records !== counts.read) {
      state = 'incomplete';
      detail = `record count mismatch: manifest says ${manifest.records}, file holds ${counts.read}`;
    }
    fault('before-publish');
    const f = writer.finish(state, detail, drift);
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
    await this.dispose(c, f.fileId);
    return { kind: 'landed', file: f };
  }

  private finishQuietly(writer: ReturnType<Bronze['beginFile']>, detail: string): void {
    try {
      writer.finish('failed', detail, []);
    } catch {
      /* the database itself is failing; recoverLanding() cleans the 'landing' row at next start */
    }
  }

  /** Why a candidate must not be read (symlink, not a regular file, resolves outside the landing folder), or null. */
  private async refusal(c: Candidate): Promise<string | null> {
    const root = c.abs.slice(0, c.abs.length - c.rel.length).replace(/[\\/]+$/, '') || path.sep;
    try {
      const st = await lstat(c.abs);
      if (st.isSymbolicLink()) return 'symlink: symlinks are never followed';
      if (!st.isFile()) return 'not a regular file';
      const real = await realpath(c.abs);
      if (!isInside(await realpath(root), real)) return `resolves outside the landing folder (to ${real})`;
    } catch (e) {
      return `cannot be inspected: ${(e as Error).message}`;
    }
    return null;
  }

  /** After landing: archive (default), delete or keep the source file and its manifest. */
  private async dispose(c: Candidate, fileId: number | null): Promise<void> {
    const mf = manifestPathOf(c.abs);
    if (this.opts.afterLanding === 'keep') return;
    this.seen.delete(c.rel);
    if (this.opts.afterLanding === 'delete') {
      await rm(c.abs, { force: true });
      await rm(mf, { force: true });
      return;
    }
    const stamp = new Date(this.deps.clock.nowMs()).toISOString().slice(0, 10);
    let dest = path.join(this.opts.archiveDir, stamp, c.rel);
    // Never overwrite an earlier version of the same path in the archive.
    if (await exists(dest)) dest = `${dest}.${fileId ?? `dup-${this.deps.clock.nowMs()}`}`;
    await mkdir(path.dirname(dest), { recursive: true });
    await move(c.abs, dest);
    if (await exists(mf)) await move(mf, `${dest}.manifest.json`).catch(() => undefined);
  }
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
