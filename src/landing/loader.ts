import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Bronze, FileRow } from '../bronze/bronze.js';
import type { Contract } from '../contract/types.js';
import type { Clock } from '../ports/clock.js';
import type { FaultHook } from '../runtime/fault.js';
import type { Manifest } from './completeness.js';
import { parseFile } from './parse/index.js';
import { manifestPathOf, type Candidate } from './scan.js';

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

export type LandOutcome =
  | { readonly kind: 'landed'; readonly file: FileRow }
  | { readonly kind: 'duplicate'; readonly of: FileRow }
  | { readonly kind: 'changed-while-reading' };

export async function sha256File(abs: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(abs)) h.update(c as Buffer);
  return h.digest('hex');
}

/** Reads and validates a sidecar manifest. Returns null when absent, 'invalid' when unusable. */
export async function readManifest(abs: string): Promise<{ manifest: Manifest | 'invalid' | null; raw: string | null; sha256: string | null }> {
  let raw: string;
  try {
    raw = await readFile(manifestPathOf(abs), 'utf8');
  } catch {
    return { manifest: null, raw: null, sha256: null };
  }
  const sha = createHash('sha256').update(raw).digest('hex');
  try {
    const m = JSON.parse(raw) as Record<string, unknown>;
    const records = m.records;
    if (typeof records !== 'number' || !Number.isSafeInteger(records) || records < 0) return { manifest: 'invalid', raw, sha256: sha };
    if (m.sha256 !== undefined && (typeof m.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(m.sha256))) return { manifest: 'invalid', raw, sha256: sha };
    if (m.bytes !== undefined && (typeof m.bytes !== 'number' || !Number.isSafeInteger(m.bytes) || m.bytes < 0)) return { manifest: 'invalid', raw, sha256: sha };
    return { manifest: { records, sha256: typeof m.sha256 === 'string' ? m.sha256.toLowerCase() : undefined, bytes: m.bytes }, raw, sha256: sha };
  } catch {
    return { manifest: 'invalid', raw, sha256: sha };
  }
}

/**
 * Lands one complete file: every record is either in bronze or in quarantine with a reason
 * (read = landed + quarantined). A manifest whose count or checksum does not match makes the file
 * 'incomplete' and none of its records become visible. The same bytes dropped again are a no-op.
 */
export class Loader {
  constructor(
    private readonly deps: LoaderDeps,
    private readonly opts: LoaderOptions,
  ) {}

  async land(c: Candidate, manifest: Manifest | null, manifestRaw: string | null, manifestSha: string | null): Promise<LandOutcome> {
    const { bronze, contract, clock, fault } = this.deps;
    const log = this.deps.logger.child({ file: c.rel });
    const sha = await sha256File(c.abs);
    const prior = bronze.filesBySha(sha);
    const landedBefore = prior.find((f) => f.state === 'verified' || f.state === 'unverified');
    if (landedBefore) {
      log.info({ event: 'file.duplicate', of_file_id: landedBefore.fileId, of_path: landedBefore.path }, 'same bytes already landed; nothing to do');
      await this.dispose(c);
      return { kind: 'duplicate', of: landedBefore };
    }
    const refusedBefore = prior.find((f) => f.state === 'incomplete' && f.manifestSha256 === manifestSha);
    if (refusedBefore) return { kind: 'duplicate', of: refusedBefore };

    const info = { path: c.rel, sha256: sha, size: c.size, mtimeMs: c.mtimeMs, format: c.format, manifestJson: manifestRaw, manifestSha256: manifestSha };
    const nowMs = clock.nowMs();
    if (manifest?.sha256 !== undefined && manifest.sha256 !== sha) {
      const detail = `checksum mismatch: manifest sha256 ${manifest.sha256}, file sha256 ${sha}`;
      const f = bronze.recordRefused(info, 'incomplete', detail, nowMs);
      log.warn({ event: 'file.incomplete', detail }, 'file is incomplete; nothing from it is published');
      return { kind: 'landed', file: f };
    }
    const writer = bronze.beginFile(info, nowMs);
    const seenFields = new Set<string>();
    const drift: string[] = [];
    let flushed = false;
    for await (const item of parseFile(c.abs, c.format, { maxLineBytes: this.opts.maxLineBytes, rawBytes: this.opts.quarantineRawBytes })) {
      if (item.kind === 'error') {
        writer.addQuarantine({ line: item.line, offset: item.offset, code: item.code, field: null, message: `${c.rel}:${item.line}: ${item.message}`, raw: item.raw });
        continue;
      }
      const v = contract.validate(item.value);
      if (!v.ok) {
        writer.addQuarantine({ line: item.line, offset: item.offset, code: v.code, field: v.field, message: `${c.rel}:${item.line}${v.field ? ` field "${v.field}"` : ''}: ${v.message}`, raw: item.raw });
        continue;
      }
      for (const f of v.fields) {
        if (!contract.knownFields.has(f) && !seenFields.has(f)) drift.push(f);
        seenFields.add(f);
      }
      writer.addRecord(v.record, item.line, item.offset);
      if (!flushed && writer.counts().read >= 1) {
        writer.flush();
        flushed = true;
        fault('mid-landing');
      }
    }
    const after = await stat(c.abs).catch(() => null);
    if (!after || after.size !== c.size || after.mtimeMs !== c.mtimeMs) {
      writer.finish('failed', 'the file changed while it was being read; it will be landed again once stable', []);
      log.warn({ event: 'file.changed_while_reading' }, 'file changed while reading; will retry');
      return { kind: 'changed-while-reading' };
    }
    const counts = writer.counts();
    let state: 'verified' | 'unverified' | 'incomplete' = manifest ? 'verified' : 'unverified';
    let detail: string | null = manifest ? null : 'no manifest: landed unverified';
    if (manifest && manifest.records !== counts.read) {
      state = 'incomplete';
      detail = `record count mismatch: manifest says ${manifest.records}, file holds ${counts.read}`;
    }
    fault('before-publish');
    const f = writer.finish(state, detail, drift);
    if (drift.length > 0) log.warn({ event: 'schema.drift', new_fields: drift }, `new field(s) not in the contract: ${drift.join(', ')}`);
    if (state === 'incomplete') {
      log.warn({ event: 'file.incomplete', detail }, 'file is incomplete; nothing from it is published');
      return { kind: 'landed', file: f };
    }
    log.info({ event: 'file.landed', state, read: f.recordsRead, landed: f.recordsLanded, quarantined: f.recordsQuarantined, seq_from: f.seqFrom, seq_to: f.seqTo }, 'file landed');
    await this.dispose(c);
    return { kind: 'landed', file: f };
  }

  /** After landing: archive (default), delete or keep the source file and its manifest. */
  private async dispose(c: Candidate): Promise<void> {
    const mf = manifestPathOf(c.abs);
    if (this.opts.afterLanding === 'keep') return;
    if (this.opts.afterLanding === 'delete') {
      await rm(c.abs, { force: true });
      await rm(mf, { force: true });
      return;
    }
    const stamp = new Date(this.deps.clock.nowMs()).toISOString().slice(0, 10);
    const dest = path.join(this.opts.archiveDir, stamp, c.rel);
    await mkdir(path.dirname(dest), { recursive: true });
    await rename(c.abs, dest).catch(async () => {
      await rename(c.abs, `${dest}.${Date.now()}`);
    });
    await rename(mf, manifestPathOf(dest)).catch(() => undefined);
  }
}
