import { createHash } from 'node:crypto';
import type { BronzeEvent } from '../ports/bronze.js';
import type { KeyState } from '../ports/ledger.js';
import type { TextChunk } from '../ports/embedder.js';
import type { VectorRow } from '../ports/vector-store.js';

/** Separator inside row keys: a control character no sane id contains (NUL is refused by the contract). */
export const KEY_SEP = '\u001f';
export const rowKeyOf = (id: string, chunk: number): string => `${id}${KEY_SEP}${chunk}`;

/** The text actually embedded: NFC, whitespace collapsed, trimmed. */
export function normalizeText(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

/** Decides vector reuse: the same normalized text under the same model gives the same vector. */
export function contentHash(modelId: string, text: string): string {
  return createHash('sha256')
    .update(modelId)
    .update('\u0000')
    .update(normalizeText(text))
    .digest('hex')
    .slice(0, 32);
}

/** The rows an id should have in the table right now: its winning event, chunked. */
export interface DesiredRow {
  readonly rowKey: string;
  readonly id: string;
  readonly chunk: number;
  readonly chunkCount: number;
  readonly text: string;
  readonly tokens: number;
  readonly contentHash: string;
  readonly event: BronzeEvent;
}

export function desiredRowsFor(
  event: BronzeEvent,
  chunks: readonly TextChunk[],
  modelId: string,
): DesiredRow[] {
  if (event.op === 'delete') return [];
  return chunks.map((c, i) => ({
    rowKey: rowKeyOf(event.id, i),
    id: event.id,
    chunk: i,
    chunkCount: chunks.length,
    text: c.text,
    tokens: c.tokens,
    contentHash: contentHash(modelId, c.text),
    event,
  }));
}

/** Where and how a row was produced: the parts of its provenance that are not in the event. */
export interface RowContext {
  readonly batchId: string;
  readonly modelId: string;
  readonly dim: number;
  readonly pipelineVersion: string;
  readonly embeddedAt: string;
}

/** The table row of a desired chunk with its vector and full provenance (I7). Pure. */
export function vectorRowOf(d: DesiredRow, vector: Float32Array, ctx: RowContext): VectorRow {
  return {
    rowKey: d.rowKey,
    id: d.id,
    chunk: d.chunk,
    chunkCount: d.chunkCount,
    text: d.text,
    vector,
    sourceVersion: d.event.version,
    eventTime: d.event.eventTime,
    eventTimeMs: d.event.eventTimeMs,
    bronzeSeq: d.event.seq,
    file: d.event.file,
    line: d.event.line,
    batchId: ctx.batchId,
    contentHash: d.contentHash,
    modelId: ctx.modelId,
    dim: ctx.dim,
    pipelineVersion: ctx.pipelineVersion,
    embeddedAt: ctx.embeddedAt,
    metadataJson: d.event.metadataJson,
    // Document-level full-text search indexes the whole text once per document (search owns this column).
    docText: d.chunk === 0 ? d.event.text : null,
  };
}

export type RowAction = 'insert' | 'update' | 'keep';

export interface RowDecision {
  readonly desired: DesiredRow;
  readonly action: RowAction;
  readonly existing: VectorRow | undefined;
  /** A vector that can be reused (same content hash and model), if any. */
  readonly reuse: Float32Array | undefined;
}

export interface MaterializePlan {
  readonly decisions: readonly RowDecision[];
  /** Existing rows of the scope ids that must go (deleted ids, chunks beyond the new count). */
  readonly removals: readonly VectorRow[];
  readonly expected: { readonly inserted: number; readonly updated: number; readonly deleted: number };
  /** Existing rows newer than the key state says is the winner: must never happen; reported loudly. */
  readonly anomalies: readonly string[];
}

const orderOf = (v: {
  sourceVersion: number;
  eventTimeMs: number;
  bronzeSeq: number;
}): [number, number, number] => [v.sourceVersion, v.eventTimeMs, v.bronzeSeq];
function cmp(a: [number, number, number], b: [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * Pure: compares the desired rows of a set of ids with what the table holds and decides, row by row,
 * insert / update / keep, which vectors can be reused, which rows go, and what counts the merge must report.
 */
export function planMaterialize(
  desired: readonly DesiredRow[],
  existing: readonly VectorRow[],
  modelId: string,
): MaterializePlan {
  const byKey = new Map<string, VectorRow>();
  const reuseByHash = new Map<string, Float32Array>();
  for (const r of existing) {
    byKey.set(r.rowKey, r);
    if (r.modelId === modelId && r.vector.length > 0) reuseByHash.set(r.contentHash, r.vector);
  }
  const wanted = new Set(desired.map((d) => d.rowKey));
  const decisions: RowDecision[] = [];
  const anomalies: string[] = [];
  let inserted = 0;
  let updated = 0;
  for (const d of desired) {
    const ex = byKey.get(d.rowKey);
    const reuse = reuseByHash.get(d.contentHash);
    if (!ex) {
      decisions.push({ desired: d, action: 'insert', existing: undefined, reuse });
      inserted += 1;
      continue;
    }
    const c = cmp(orderOf(ex), [d.event.version, d.event.eventTimeMs, d.event.seq]);
    if (c === 0) decisions.push({ desired: d, action: 'keep', existing: ex, reuse: ex.vector });
    else if (c < 0) {
      decisions.push({ desired: d, action: 'update', existing: ex, reuse });
      updated += 1;
    } else {
      anomalies.push(
        `row ${JSON.stringify(d.rowKey)} in the table is newer (v${ex.sourceVersion}, seq ${ex.bronzeSeq}) than the key state winner (v${d.event.version}, seq ${d.event.seq})`,
      );
      decisions.push({ desired: d, action: 'keep', existing: ex, reuse: ex.vector });
    }
  }
  const removals = existing.filter((r) => !wanted.has(r.rowKey));
  return { decisions, removals, expected: { inserted, updated, deleted: removals.length }, anomalies };
}

/** Picks the winner per id among events (highest version, then event time, then seq). Pure. */
export function winners(events: readonly BronzeEvent[]): Map<string, BronzeEvent> {
  const out = new Map<string, BronzeEvent>();
  for (const e of events) {
    const cur = out.get(e.id);
    if (
      !cur ||
      e.version > cur.version ||
      (e.version === cur.version &&
        (e.eventTimeMs > cur.eventTimeMs || (e.eventTimeMs === cur.eventTimeMs && e.seq > cur.seq)))
    )
      out.set(e.id, e);
  }
  return out;
}

export type { KeyState };
