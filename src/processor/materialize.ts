import type { Bronze, BronzeEvent } from '../ports/bronze.js';
import { SeamlineError } from '../errors/errors.js';
import type { Ledger } from '../ports/ledger.js';
import type { Embedder, TextChunk } from '../ports/embedder.js';
import type { VectorRow, VectorTable } from '../ports/vector-store.js';
import type { FaultHook } from '../runtime/fault.js';
import { GateError, vectorGate } from './gates.js';
import { mergeKindOf, type MergeKind } from './merge-window.js';
import {
  desiredRowsFor,
  normalizeText,
  planMaterialize,
  vectorRowOf,
  winners,
  type DesiredRow,
} from './materialize-plan.js';

export { GateError } from './gates.js';

export interface MaterializeDeps {
  readonly bronze: Bronze;
  readonly ledger: Ledger;
  readonly embedder: Embedder;
  readonly chunking: { readonly maxTokens: number; readonly overlapTokens: number };
  readonly pipelineVersion: string;
  readonly fault: FaultHook;
  readonly nowIso: () => string;
  /**
   * Optional second place to reuse vectors from, looked up by the same ids (reindex with an unchanged
   * model: the serving table). Only rows of the same model and dimension are used. Default: none.
   */
  readonly vectorSource?: ((ids: readonly string[]) => Promise<readonly VectorRow[]>) | undefined;
}

export interface MaterializeResult {
  readonly inserted: number;
  readonly updated: number;
  readonly deleted: number;
  readonly embedded: number;
  readonly reused: number;
  readonly version: number;
  readonly changed: boolean;
  /** Wall time spent embedding and merging (for the latency budget in logs). */
  readonly embedMs: number;
  readonly mergeMs: number;
}

/** Per-call options of materialize. */
export interface MaterializeOptions {
  /**
   * Events of the batch being run. Winners are then max(key state, these), so the processor can fold
   * the key state after the gates (a refused batch leaves no trace in the key state).
   */
  readonly batchEvents?: readonly BronzeEvent[];
  /** Test-only switches (SEAMLINE_UNSAFE): no-guard = last event wins; no-dedupe = every event becomes rows. */
  readonly unsafe?: ReadonlySet<'no-guard' | 'no-dedupe'>;
  /** Sees the planned counts before anything is embedded or written; throws (GateError) to refuse. */
  readonly gate?: (expected: {
    readonly inserted: number;
    readonly updated: number;
    readonly deleted: number;
  }) => void | Promise<void>;
  /**
   * Runs after embedding and the vector gate, right before the merge (the processor waits out a
   * maintenance window here if the merge rewrites existing rows, then folds). `kind` says what the
   * merge will do to existing fragments; 'append' when nothing is merged at all.
   */
  readonly beforeMerge?: (kind: MergeKind) => void | Promise<void>;
}

/** The event each id should be materialized from: max(key state, batch events), or the unsafe variants. */
export async function winningEvents(
  deps: MaterializeDeps,
  ids: readonly string[],
  opts: MaterializeOptions,
): Promise<BronzeEvent[]> {
  const batch = opts.batchEvents ?? [];
  if (opts.unsafe?.has('no-dedupe') && batch.length > 0) return [...batch];
  const ks = await deps.ledger.keyStates(ids);
  const stateEvents = await deps.bronze.eventsBySeq([...ks.values()].map((k) => k.seq));
  if (opts.unsafe?.has('no-guard')) {
    // Broken on purpose: the batch's last event per id wins, whatever its version.
    const last = new Map<string, BronzeEvent>(stateEvents.map((e) => [e.id, e]));
    for (const e of batch) last.set(e.id, e);
    return [...last.values()];
  }
  const wanted = new Set(ids);
  return [...winners([...stateEvents, ...batch.filter((e) => wanted.has(e.id))]).values()];
}

/**
 * Makes the table hold exactly the current winner of each id (from the key state and bronze):
 * state-based, so running it again for the same ids changes nothing. Used by the processor for the
 * ids of a batch, by reconcile / replay / reindex for any set of ids, and by verify --repair.
 */
export async function materialize(
  deps: MaterializeDeps,
  table: VectorTable,
  ids: readonly string[],
  batchId: string,
  signal?: AbortSignal,
  opts: MaterializeOptions = {},
): Promise<MaterializeResult> {
  const { embedder } = deps;
  const events = await winningEvents(deps, ids, opts);
  const upserts = events.filter((e) => e.op === 'upsert');
  const chunked = upserts.length
    ? await embedder.chunk(
        upserts.map((e) => e.text),
        deps.chunking.maxTokens,
        deps.chunking.overlapTokens,
      )
    : [];
  const desired: DesiredRow[] = [];
  upserts.forEach((e, i) => desired.push(...desiredRowsFor(e, chunked[i]!, embedder.modelId)));
  signal?.throwIfAborted();

  const existing = await table.rowsForIds(ids);
  const plan = planMaterialize(desired, existing, embedder.modelId);
  if (plan.anomalies.length > 0) {
    throw new SeamlineError(
      'LEDGER_CONFLICT',
      `the table holds rows newer than bronze's key state (${plan.anomalies.length}); first: ${plan.anomalies[0]}. Run seamline verify.`,
    );
  }
  const changes = plan.decisions.filter((d) => d.action !== 'keep');
  if (changes.length === 0 && plan.removals.length === 0) {
    await opts.beforeMerge?.('append');
    return {
      inserted: 0,
      updated: 0,
      deleted: 0,
      embedded: 0,
      reused: 0,
      version: await table.version(),
      changed: false,
      embedMs: 0,
      mergeMs: 0,
    };
  }
  await opts.gate?.(plan.expected);
  const missing = changes.filter((d) => d.reuse === undefined);
  const borrowed = new Map<string, Float32Array>();
  if (missing.length > 0 && deps.vectorSource) {
    for (const r of await deps.vectorSource([...new Set(missing.map((d) => d.desired.id))])) {
      if (r.modelId === embedder.modelId && r.vector.length === table.dim)
        borrowed.set(r.contentHash, r.vector);
    }
  }
  const toEmbed = missing.filter((d) => !borrowed.has(d.desired.contentHash));
  const embedStarted = performance.now();
  const vectors = toEmbed.length
    ? await embedder.embed(
        toEmbed.map((d): TextChunk => ({ text: normalizeText(d.desired.text), tokens: d.desired.tokens })),
        signal,
      )
    : [];
  const embedMs = Math.round(performance.now() - embedStarted);
  const fresh = new Map<string, Float32Array>();
  toEmbed.forEach((d, i) => fresh.set(d.desired.rowKey, vectors[i]!));
  deps.fault('after-embed');

  // Gate: no NaN or wrong-dimension vector is ever published.
  const badVectors = vectorGate(fresh.values(), table.dim);
  if (badVectors) throw new GateError(badVectors);
  const scopeIds = [...new Set(plan.removals.map((r) => r.id))];
  await opts.beforeMerge?.(mergeKindOf(plan.expected, scopeIds.length));

  const embeddedAt = deps.nowIso();
  const rowCtx = {
    batchId,
    modelId: embedder.modelId,
    dim: table.dim,
    pipelineVersion: deps.pipelineVersion,
    embeddedAt,
  };
  const toRow = (d: DesiredRow, vector: Float32Array): VectorRow => vectorRowOf(d, vector, rowCtx);
  // Rows of ids that lose chunks go in the same merge (one version): those ids are the delete scope,
  // so all their desired rows — kept ones too — must be in the source.
  const scope = new Set(scopeIds);
  const rows: VectorRow[] = [];
  for (const d of plan.decisions) {
    if (d.action === 'keep') {
      if (scope.has(d.desired.id)) rows.push(d.existing!);
      continue;
    }
    rows.push(
      toRow(d.desired, fresh.get(d.desired.rowKey) ?? d.reuse ?? borrowed.get(d.desired.contentHash)!),
    );
  }
  if (scopeIds.length > 0) deps.fault('mid-chunk-cleanup');
  const mergeStarted = performance.now();
  const r = await table.merge(rows, scopeIds);
  const mergeMs = Math.round(performance.now() - mergeStarted);
  if (
    r.inserted !== plan.expected.inserted ||
    r.updated !== plan.expected.updated ||
    r.deleted !== plan.expected.deleted
  ) {
    throw new SeamlineError(
      'MERGE_MISMATCH',
      `merge into ${table.name} reported inserted=${r.inserted} updated=${r.updated} deleted=${r.deleted}; the plan expected inserted=${plan.expected.inserted} updated=${plan.expected.updated} deleted=${plan.expected.deleted}`,
      { details: { expected: plan.expected, actual: r } },
    );
  }
  return {
    inserted: r.inserted,
    updated: r.updated,
    deleted: r.deleted,
    embedded: toEmbed.length,
    reused: changes.length - toEmbed.length,
    version: r.version,
    changed: true,
    embedMs,
    mergeMs,
  };
}
