import type { KeyState } from '../ports/ledger.js';

/** What the table holds for one row, as far as the audit cares (provenance only). */
export interface RowProvenance {
  readonly rowKey: string;
  readonly id: string;
  readonly chunk: number;
  readonly chunkCount: number;
  readonly sourceVersion: number;
  readonly eventTimeMs: number;
  readonly bronzeSeq: number;
  readonly batchId: string;
  readonly file: string;
}

export interface CommittedBatch {
  readonly batchId: string;
  readonly seqFrom: number;
  readonly seqTo: number;
}

export type FindingKind =
  | 'missing'
  | 'stale'
  | 'duplicate'
  | 'deleted_present'
  | 'unknown_id'
  | 'newer_than_ledger'
  /** A sampled row's vector is not the model's embedding of the row's text (e.g. a stale reused vector). */
  | 'wrong_vector';

export interface Finding {
  readonly kind: FindingKind;
  readonly id: string;
  readonly detail: string;
  /** The committed batch whose effect the table does not show (missing / stale), when known. */
  readonly batchId?: string;
}

export interface AuditInput {
  /** Key state of every id bronze knows (the winner per id). */
  readonly keyStates: Iterable<KeyState>;
  /** Rows of the table grouped by id. */
  readonly rowsById: ReadonlyMap<string, readonly RowProvenance[]>;
  /** Only winners at or below this bronze seq must be in the table (later ones are in flight). */
  readonly committedUpTo: number;
  /**
   * With two processor lanes, records above the watermark may be committed too: when given, a winner
   * must be in the table iff this says its seq is committed (committedUpTo is then ignored).
   */
  readonly isCommitted?: (seq: number) => boolean;
  readonly committedBatches: readonly CommittedBatch[];
  /** Ids with rows but no key state: true when bronze has records for them (not yet folded). */
  readonly inBronze: (id: string) => boolean;
}

export interface AuditResult {
  readonly findings: Finding[];
  readonly checkedIds: number;
  readonly pendingIds: number;
  readonly unreflectedBatches: { batchId: string; ids: number }[];
}

const fmtV = (v: { sourceVersion: number; eventTimeMs: number; bronzeSeq: number }): string =>
  `v${v.sourceVersion}/t${v.eventTimeMs}/seq${v.bronzeSeq}`;

function batchOf(batches: readonly CommittedBatch[], seq: number): string | undefined {
  let lo = 0;
  let hi = batches.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const b = batches[mid]!;
    if (seq < b.seqFrom) hi = mid - 1;
    else if (seq > b.seqTo) lo = mid + 1;
    else return b.batchId;
  }
  return undefined;
}

/**
 * Pure audit of bronze's key state against the table's rows. For every id: a live winner must be in
 * the table as exactly chunks 0..n-1, each once, each carrying the winner's (version, event time, seq);
 * a deleted id must have no rows; every row must belong to an id bronze knows.
 */
export function audit(input: AuditInput): AuditResult {
  const findings: Finding[] = [];
  const batches = [...input.committedBatches].sort((a, b) => a.seqFrom - b.seqFrom);
  const seen = new Set<string>();
  let checked = 0;
  let pending = 0;
  for (const ks of input.keyStates) {
    seen.add(ks.id);
    const rows = input.rowsById.get(ks.id) ?? [];
    if (input.isCommitted ? !input.isCommitted(ks.seq) : ks.seq > input.committedUpTo) {
      pending += 1;
      continue;
    }
    checked += 1;
    const winner = { sourceVersion: ks.version, eventTimeMs: ks.eventTimeMs, bronzeSeq: ks.seq };
    const batchId = batchOf(batches, ks.seq);
    const dupKeys = new Map<string, number>();
    for (const r of rows) dupKeys.set(r.rowKey, (dupKeys.get(r.rowKey) ?? 0) + 1);
    for (const [key, n] of dupKeys)
      if (n > 1)
        findings.push({
          kind: 'duplicate',
          id: ks.id,
          detail: `row ${JSON.stringify(key)} appears ${n} times`,
        });
    if (ks.deleted) {
      if (rows.length > 0)
        findings.push({
          kind: 'deleted_present',
          id: ks.id,
          detail: `deleted at ${fmtV(winner)} but ${rows.length} row(s) remain`,
          ...(batchId ? { batchId } : {}),
        });
      continue;
    }
    if (rows.length === 0) {
      findings.push({
        kind: 'missing',
        id: ks.id,
        detail: `latest ${fmtV(winner)} has no row in the table`,
        ...(batchId ? { batchId } : {}),
      });
      continue;
    }
    const newer = rows.find(
      (r) =>
        r.sourceVersion > winner.sourceVersion ||
        (r.sourceVersion === winner.sourceVersion &&
          (r.eventTimeMs > winner.eventTimeMs ||
            (r.eventTimeMs === winner.eventTimeMs && r.bronzeSeq > winner.bronzeSeq))),
    );
    if (newer) {
      findings.push({
        kind: 'newer_than_ledger',
        id: ks.id,
        detail: `row ${fmtV(newer)} is newer than the key state winner ${fmtV(winner)}`,
      });
      continue;
    }
    const wrong = rows.filter(
      (r) =>
        r.sourceVersion !== winner.sourceVersion ||
        r.eventTimeMs !== winner.eventTimeMs ||
        r.bronzeSeq !== winner.bronzeSeq,
    );
    const n = rows[0]!.chunkCount;
    const chunks = new Set(rows.map((r) => r.chunk));
    const shapeOk =
      rows.every((r) => r.chunkCount === n) && chunks.size === n && [...chunks].every((c) => c >= 0 && c < n);
    if (wrong.length > 0)
      findings.push({
        kind: 'stale',
        id: ks.id,
        detail: `table has ${fmtV(wrong[0]!)}, latest is ${fmtV(winner)}`,
        ...(batchId ? { batchId } : {}),
      });
    else if (!shapeOk)
      findings.push({
        kind: 'stale',
        id: ks.id,
        detail: `chunks ${[...chunks].sort((a, b) => a - b).join(',')} do not form 0..${n - 1}`,
        ...(batchId ? { batchId } : {}),
      });
  }
  for (const [id, rows] of input.rowsById) {
    if (seen.has(id)) continue;
    if (input.inBronze(id)) {
      pending += 1;
      continue;
    }
    findings.push({
      kind: 'unknown_id',
      id,
      detail: `${rows.length} row(s) for an id bronze has never seen (first from ${rows[0]!.file}, batch ${rows[0]!.batchId})`,
    });
  }
  const perBatch = new Map<string, number>();
  for (const f of findings)
    if (f.batchId && (f.kind === 'missing' || f.kind === 'stale' || f.kind === 'deleted_present'))
      perBatch.set(f.batchId, (perBatch.get(f.batchId) ?? 0) + 1);
  return {
    findings,
    checkedIds: checked,
    pendingIds: pending,
    unreflectedBatches: [...perBatch.entries()].map(([batchId, ids]) => ({ batchId, ids })),
  };
}

/** Ids that --repair replays from bronze, and the subset whose rows are first removed (duplicates, rows newer than bronze). */
export function repairPlan(findings: readonly Finding[]): {
  replay: string[];
  clearFirst: string[];
  unexplained: string[];
} {
  const replay = new Set<string>();
  const clear = new Set<string>();
  const unexplained = new Set<string>();
  for (const f of findings) {
    if (f.kind === 'unknown_id') {
      unexplained.add(f.id);
      continue;
    }
    replay.add(f.id);
    // A wrong vector sits under a matching content hash, so a replay would keep it: clear it first.
    if (f.kind === 'duplicate' || f.kind === 'newer_than_ledger' || f.kind === 'wrong_vector')
      clear.add(f.id);
  }
  return { replay: [...replay].sort(), clearFirst: [...clear].sort(), unexplained: [...unexplained].sort() };
}
