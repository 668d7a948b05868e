import type { Logger } from 'pino';
import type { Bronze, BronzeEvent } from '../ports/bronze.js';
import { GatesSchema } from '../config/schema.js';
import { isSeamlineError, toSeamlineError, type SeamlineError } from '../errors/errors.js';
import type { Incidents } from '../ports/ledger.js';
import type { BatchRow, Ledger } from '../ports/ledger.js';
import type { FileSearchable, Segment } from '../ports/ledger.js';
import type { Clock } from '../ports/clock.js';
import type { VectorTable } from '../ports/vector-store.js';
import type { FaultHook } from '../runtime/fault.js';
import { GateError, outputGate, quarantineGate, type FailureMode, type GateConfig } from './gates.js';
import {
  BatchSizer,
  classifyFile,
  completeAtMs,
  type BacklogRules,
  type Lane,
  type LaneRules,
} from './lanes.js';
import type { MergeGate } from './merge-window.js';
import { materialize, type MaterializeDeps, type MaterializeResult } from './materialize.js';
import { reconcileTable, type ReconcileResult } from './reconcile.js';
import { replayAll, type ReplayOptions, type ReplayResult } from './replay.js';
import { prefetchBatch, type PrefetchingEmbedder, type WorkerCoordination } from './workers.js';

export interface ProcessorOptions {
  readonly maxRecords: number;
  readonly maxFiles: number;
  readonly modelId: string;
  readonly pipelineVersion: string;
  /** Test-only switches that break the pipeline on purpose so the crash harness can prove it notices. */
  readonly unsafe: ReadonlySet<'no-guard' | 'no-dedupe'>;
  /** Quality gates (config `gates`). Default: the schema defaults. */
  readonly gates?: GateConfig;
  /** Lane classification (config `processor.lanes`). Default: the schema defaults. */
  readonly lanes?: LaneRules;
  /** Backlog time box and cap (config `processor.backlog`). Default: the schema defaults. */
  readonly backlog?: Omit<BacklogRules, 'maxRecords'>;
  /** When this processor started (files written before it were found at start-up). Default: now. */
  readonly startedAtMs?: number;
}

/** Defaults of the lane rules and the backlog box (the config schema holds the same values). */
export const DEFAULT_LANE_RULES: LaneRules = {
  liveMaxFileRecords: 500,
  liveMaxAgeMs: 30_000,
  liveMaxQueuedRecords: 2000,
  startupToBacklog: true,
};
export const DEFAULT_BACKLOG: Omit<BacklogRules, 'maxRecords'> = {
  timeBoxMs: 250,
  initialRecords: 32,
  minRecords: 8,
  maxRecordsPerSecond: 0,
  maxShare: 0.9,
  maxWaitMs: 10_000,
};

export interface BatchOutcome {
  readonly batch: BatchRow;
  readonly lane: Lane;
  /** Files that became fully searchable with this batch (freshness samples). */
  readonly searchable: readonly FileSearchable[];
  readonly recordsIn: number;
  readonly idsTouched: number;
  readonly result: MaterializeResult;
  readonly durationMs: number;
}

export interface ProcessorDeps extends MaterializeDeps {
  /**
   * The maintenance window (the daemon's MergeWindow): awaited before each merge with its kind; a
   * rewrite waits while the optimize job holds the lease. Default: none (callers gate between batches).
   */
  readonly mergeGate?: MergeGate;
  readonly bronze: Bronze;
  readonly ledger: Ledger;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly fault: FaultHook;
  /**
   * Several workers on a shared store (issue 16): batches are claimed, embedded before the table's writer
   * lease (through `embedder`, a PrefetchingEmbedder) and merged + committed under it. Absent: single writer.
   */
  readonly workers?: { readonly coordination: WorkerCoordination; readonly embedder: PrefetchingEmbedder };
}

const LOUD_MODES: Partial<Record<string, FailureMode>> = {
  MERGE_MISMATCH: 'merge_mismatch',
  LEDGER_CONFLICT: 'ledger_conflict',
};

/**
 * Runs micro-batches for one table: plan (ledger row 'planned') → quarantine gate → plan rows from
 * max(key state, batch events) → output gate → embed what changed → vector gate → fold into key state →
 * one guarded merge → commit with the table version. Every step is idempotent, so a crash anywhere is
 * repaired by running the planned batch again. Before its first batch on a table, it reconciles the
 * table with the ledger (LanceDB may lose unsynced versions).
 */
export class Processor {
  private readonly gates: GateConfig;
  private readonly incidents: Incidents;
  private readonly reconciled = new Set<string>();
  /** Batches a gate refused in this process: not retried until restart (a gate fails the same way again). */
  private readonly blocked = new Set<string>();
  private readonly rules: LaneRules;
  private readonly backlogRules: BacklogRules;
  /** Sizes backlog batches from the measured embedding throughput (the time box). */
  readonly sizer: BatchSizer;
  private readonly startedAtMs: number;
  /** When the backlog lane last ran a batch or had nothing to do (anti-starvation clock). */
  private backlogServedAtMs: number;

  constructor(
    private readonly deps: ProcessorDeps,
    private readonly opts: ProcessorOptions,
  ) {
    this.gates = opts.gates ?? GatesSchema.parse({});
    this.incidents = deps.ledger.incidents();
    this.rules = opts.lanes ?? DEFAULT_LANE_RULES;
    this.backlogRules = { ...(opts.backlog ?? DEFAULT_BACKLOG), maxRecords: opts.maxRecords };
    this.sizer = new BatchSizer(this.backlogRules);
    this.startedAtMs = opts.startedAtMs ?? deps.clock.nowMs();
    this.backlogServedAtMs = deps.clock.nowMs();
  }

  /** Sees newly published files and puts each in its lane (docs/processor.md#lanes). */
  discover(table: VectorTable): Promise<number> {
    const now = this.deps.clock.nowMs();
    return this.deps.ledger.lanes().discover(table.name, now, (f, liveQueued) => {
      // Landing's own verdict (last write, or when the open-writer check cleared it) when it recorded one.
      const complete =
        f.completeAtMs !== null && f.completeAtMs <= f.landedAtMs
          ? f.completeAtMs
          : completeAtMs(f.mtimeMs, f.landedAtMs, this.rules.liveMaxAgeMs);
      const c = classifyFile({ records: f.records, completeAtMs: complete, mtimeMs: f.mtimeMs }, this.rules, {
        nowMs: now,
        startedAtMs: this.startedAtMs,
        liveQueuedRecords: liveQueued,
      });
      return { ...c, completeAtMs: complete };
    });
  }

  /**
   * The next batch of a lane: its planned/failed one first (exactly the same segments), else a new
   * plan over the lane's oldest files. Live: whole files up to maxRecords/maxFiles. Backlog: as many
   * records as the time box allows, slicing files where needed.
   */
  async nextBatch(table: VectorTable, lane: Lane = 'live'): Promise<BatchRow | null> {
    const { ledger, clock } = this.deps;
    const w = this.deps.workers?.coordination;
    const claim = w ? { owner: w.owner, ttlMs: w.claimTtlMs } : undefined;
    const pending = claim
      ? await ledger.claimPending(table.name, lane, claim, clock.nowMs())
      : await ledger.pendingBatch(table.name, lane);
    if (pending) return pending;
    // Several workers: a plan that lost the race for a file (retryable LEDGER_CONFLICT) reads again.
    for (let attempt = 1; ; attempt++) {
      const budget = lane === 'live' ? this.opts.maxRecords : this.sizer.next();
      const segs = await this.planSegments(table.name, lane, budget);
      if (segs.length === 0) return null;
      try {
        const now = clock.nowMs();
        return await ledger.plan(
          table.name,
          lane,
          segs,
          this.opts.modelId,
          this.opts.pipelineVersion,
          now,
          claim,
        );
      } catch (e) {
        if (!claim || attempt >= 5 || !(isSeamlineError(e) && e.code === 'LEDGER_CONFLICT' && e.retryable))
          throw e;
      }
    }
  }

  private async planSegments(tableName: string, lane: Lane, budget: number): Promise<Segment[]> {
    const lanes = this.deps.ledger.lanes();
    const files = await lanes.openFiles(tableName, lane, this.opts.maxFiles);
    const segs: Segment[] = [];
    let left = budget;
    for (const f of files) {
      if (left <= 0) break;
      const remaining = f.records - f.plannedRecords;
      if (remaining <= 0) {
        // A file of only quarantined lines: one empty segment, so the quarantine gate counts it.
        segs.push({ fileId: f.fileId, seqFrom: f.seqFrom, seqTo: f.seqTo, records: 0 });
        continue;
      }
      // Live files go whole unless one alone exceeds the batch; backlog files are sliced to the budget.
      if (lane === 'live' && remaining > left && segs.some((g) => g.records > 0)) break;
      const from = (await lanes.nthSeqAfter(f.fileId, f.plannedTo, 1))!;
      if (remaining <= left) {
        segs.push({ fileId: f.fileId, seqFrom: from, seqTo: f.seqTo, records: remaining });
        left -= remaining;
      } else {
        const to = (await lanes.nthSeqAfter(f.fileId, f.plannedTo, left))!;
        segs.push({ fileId: f.fileId, seqFrom: from, seqTo: to, records: left });
        left = 0;
      }
    }
    return segs;
  }

  /** The batch a gate refused in this process, if a lane of the table is blocked on one. */
  async blockedOn(table: VectorTable): Promise<BatchRow | null> {
    for (const lane of ['live', 'backlog'] as const) {
      const pending = await this.deps.ledger.pendingBatch(table.name, lane);
      if (pending && this.blocked.has(pending.batchId)) return pending;
    }
    return null;
  }

  /** Whether a lane has work: a pending batch not blocked by a gate, or records not yet planned. */
  async hasWork(table: VectorTable, lane: Lane): Promise<boolean> {
    const pending = await this.deps.ledger.pendingBatch(table.name, lane);
    if (pending) return !this.blocked.has(pending.batchId);
    return (await this.deps.ledger.lanes().openFiles(table.name, lane, 1)).length > 0;
  }

  /**
   * Startup check (once per table per process, before the first batch): when the table's version is
   * behind the ledger, re-materializes the ids of the lost batches from bronze. Idempotent.
   */
  async reconcile(table: VectorTable, signal?: AbortSignal): Promise<ReconcileResult | null> {
    const r = await reconcileTable(this.deps, table, signal);
    this.reconciled.add(table.name);
    return r;
  }

  /**
   * Replays the whole bronze into `table` (this processor's model, chunking and pipeline version):
   * 0 rows changed and 0 texts embedded on an up-to-date table; builds an empty one. Gates do not apply.
   */
  replay(table: VectorTable, opts: ReplayOptions = {}): Promise<ReplayResult> {
    return replayAll(this.deps, table, opts);
  }

  /**
   * Runs one batch if any is waiting: the live lane first, always; the backlog lane only when
   * `backlog` allows it (the daemon's throughput cap). Returns null when there was nothing to do
   * (or the lanes with work are blocked by a gate).
   */
  async runOnce(
    table: VectorTable,
    signal?: AbortSignal,
    backlog: () => boolean = () => true,
  ): Promise<BatchOutcome | null> {
    if (!this.reconciled.has(table.name))
      await this.asWriter(table, signal, () => this.reconcile(table, signal));
    await this.discover(table);
    const now = this.deps.clock.nowMs();
    // Live first, unless the backlog has waited longer than maxWaitMs behind a never-idle live lane.
    const starved = now - this.backlogServedAtMs > this.backlogRules.maxWaitMs;
    for (const lane of starved ? (['backlog', 'live'] as const) : (['live', 'backlog'] as const)) {
      if (lane === 'backlog' && !backlog()) continue;
      const batch = await this.nextBatch(table, lane);
      if (lane === 'backlog' && !batch) this.backlogServedAtMs = now;
      if (!batch || this.blocked.has(batch.batchId)) continue;
      const out = await this.execute(table, batch, signal);
      if (lane === 'backlog') this.backlogServedAtMs = this.deps.clock.nowMs();
      return out;
    }
    return null;
  }

  async execute(table: VectorTable, batch: BatchRow, signal?: AbortSignal): Promise<BatchOutcome> {
    const { ledger, clock, fault } = this.deps;
    const log = this.deps.logger.child({ batch_id: batch.batchId });
    const started = clock.nowMs();
    if (batch.state !== 'planned') await ledger.markAttempt(batch.batchId);
    fault('after-plan');
    const events = await ledger.lanes().eventsForSegments(await ledger.lanes().segments(batch.batchId));
    const ids = [...new Set(events.map((e) => e.id))];
    const waived = this.gates.waive.includes(batch.batchId);
    log.debug(
      {
        event: 'batch.start',
        seq_from: batch.seqFrom,
        seq_to: batch.seqTo,
        lane: batch.lane,
        records: events.length,
        ids: ids.length,
        gates_waived: waived,
      },
      'batch started',
    );
    try {
      if (!waived) {
        const q = quarantineGate(await ledger.batchInputFiles(batch.batchId), this.gates);
        if (q) throw new GateError(q);
      }
      const prefetchMs = await this.prefetch(table, ids, events, signal);
      // Several workers: merge + commit under the table's writer lease (embedding happened above).
      const { result, searchable } = await this.asWriter(table, signal, async () => {
        const result = await materialize(this.deps, table, ids, batch.batchId, signal, {
          batchEvents: events,
          unsafe: this.opts.unsafe,
          gate: waived
            ? undefined
            : async (expected) => {
                const v = outputGate(
                  expected.inserted + expected.updated + expected.deleted,
                  events.length,
                  await ledger.recentOutputs(table.name, this.gates.outputWindow),
                  this.gates,
                );
                if (v) throw new GateError(v);
              },
          // A maintenance window holds back only merges that rewrite existing rows (merge-window.ts);
          // the key state moves only once the batch has passed every gate, right before the merge.
          beforeMerge: async (kind) => {
            await this.deps.mergeGate?.(kind, signal);
            await ledger.fold(events, this.opts.unsafe.has('no-guard'));
            fault('after-fold');
          },
        });
        fault('after-merge');
        // One atomic port call: the commit and closing the batch's incidents.
        const searchable = await ledger.commit(
          batch.batchId,
          result.version,
          {
            recordsIn: events.length,
            idsTouched: ids.length,
            rowsInserted: result.inserted,
            rowsUpdated: result.updated,
            rowsDeleted: result.deleted,
            textsEmbedded: result.embedded,
            textsReused: result.reused,
          },
          clock.nowMs(),
          waived ? 'waived' : 'resolved',
        );
        return { result, searchable };
      });

      fault('after-commit');
      const durationMs = clock.nowMs() - started;
      // The time box sizes on embedding time: no backlog batch holds the embedder longer than the box.
      this.sizer.observe(events.length, result.embedded, result.embedMs + prefetchMs);
      log.info(
        {
          event: 'batch.committed',
          seq_from: batch.seqFrom,
          seq_to: batch.seqTo,
          lane: batch.lane,
          records: events.length,
          ids: ids.length,
          inserted: result.inserted,
          updated: result.updated,
          deleted: result.deleted,
          embedded: result.embedded,
          reused: result.reused,
          table_version: result.version,
          embed_ms: result.embedMs,
          merge_ms: result.mergeMs,
          duration_ms: durationMs,
        },
        'batch committed',
      );
      return {
        batch,
        lane: batch.lane,
        searchable,
        recordsIn: events.length,
        idsTouched: ids.length,
        result,
        durationMs,
      };
    } catch (e) {
      const err = toSeamlineError(e, 'INTERNAL', `batch ${batch.batchId}`);
      await ledger.fail(batch.batchId, `${err.code}: ${err.message}`);
      await this.recordIncident(table, batch, err);
      log.error({ event: 'batch.failed', code: err.code, err, retryable: err.retryable }, 'batch failed');
      throw err;
    }
  }

  /** Runs fn under the table's writer lease when several workers share the store; else just runs it. */
  private asWriter<T>(table: VectorTable, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    const w = this.deps.workers;
    return w ? w.coordination.asWriter(table.name, fn, signal) : fn();
  }

  /** Several workers: embeds the batch's new texts before the writer lease (0 ms without workers). */
  private async prefetch(
    table: VectorTable,
    ids: readonly string[],
    events: readonly BronzeEvent[],
    signal?: AbortSignal,
  ): Promise<number> {
    const w = this.deps.workers;
    if (!w) return 0;
    w.embedder.clear();
    return prefetchBatch(this.deps, w.embedder, table, ids, events, signal);
  }

  private async recordIncident(table: VectorTable, batch: BatchRow, err: SeamlineError): Promise<void> {
    const gate = err instanceof GateError ? err : null;
    const mode = gate?.failureMode ?? LOUD_MODES[err.code];
    if (!mode) return;
    if (gate) this.blocked.add(batch.batchId);
    const bound = (this.deps.logger.bindings() as { run_id?: unknown }).run_id;
    const runId = typeof bound === 'string' ? bound : 'unknown';
    const inc = await this.incidents.record({
      atMs: this.deps.clock.nowMs(),
      pipeline: `processor:${table.name}`,
      runId,
      batchId: batch.batchId,
      failureMode: mode,
      affectedRows: gate?.affectedRows ?? 0,
      guard: gate?.guard ?? err.code,
      message: err.message,
    });
    this.deps.logger.warn(
      {
        event: 'incident.recorded',
        incident_id: inc.incidentId,
        batch_id: batch.batchId,
        failure_mode: mode,
        guard: inc.guard,
      },
      `incident ${inc.incidentId}: batch ${batch.batchId} not published (${mode}); see docs/processor.md to proceed`,
    );
  }

  /** Runs batches until nothing is waiting (ingest --once). A gate failure throws (exit code of GATE_FAILED). */
  async drain(table: VectorTable, signal?: AbortSignal): Promise<BatchOutcome[]> {
    const out: BatchOutcome[] = [];
    for (;;) {
      signal?.throwIfAborted();
      const r = await this.runOnce(table, signal);
      if (!r) return out;
      out.push(r);
    }
  }
}
