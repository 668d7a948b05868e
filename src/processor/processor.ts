import type { Logger } from 'pino';
import type { Bronze } from '../bronze/bronze.js';
import { GatesSchema } from '../config/schema.js';
import { toSeamlineError, type SeamlineError } from '../errors/errors.js';
import type { Incidents } from '../ledger/incidents.js';
import type { BatchRow, Ledger } from '../ledger/ledger.js';
import type { Clock } from '../ports/clock.js';
import type { VectorTable } from '../ports/vector-store.js';
import type { FaultHook } from '../runtime/fault.js';
import { GateError, outputGate, quarantineGate, type FailureMode, type GateConfig } from './gates.js';
import { materialize, type MaterializeDeps, type MaterializeResult } from './materialize.js';
import { reconcileTable, type ReconcileResult } from './reconcile.js';
import { replayAll, type ReplayOptions, type ReplayResult } from './replay.js';

export interface ProcessorOptions {
  readonly maxRecords: number;
  readonly maxFiles: number;
  readonly modelId: string;
  readonly pipelineVersion: string;
  /** Test-only switches that break the pipeline on purpose so the crash harness can prove it notices. */
  readonly unsafe: ReadonlySet<'no-guard' | 'no-dedupe'>;
  /** Quality gates (config `gates`). Default: the schema defaults. */
  readonly gates?: GateConfig;
}

export interface BatchOutcome {
  readonly batch: BatchRow;
  readonly recordsIn: number;
  readonly idsTouched: number;
  readonly result: MaterializeResult;
  readonly durationMs: number;
}

export interface ProcessorDeps extends MaterializeDeps {
  readonly bronze: Bronze;
  readonly ledger: Ledger;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly fault: FaultHook;
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

  constructor(
    private readonly deps: ProcessorDeps,
    private readonly opts: ProcessorOptions,
  ) {
    this.gates = opts.gates ?? GatesSchema.parse({});
    this.incidents = deps.ledger.incidents();
  }

  /** The next batch to run: a planned/failed one first (exactly the same range), else a new plan. */
  nextBatch(table: VectorTable): BatchRow | null {
    const { ledger, bronze, clock } = this.deps;
    const pending = ledger.pendingBatch(table.name);
    if (pending) return pending;
    const from = ledger.coveredUpTo(table.name) + 1;
    const to = bronze.nextRangeEnd(from, this.opts.maxRecords, this.opts.maxFiles);
    if (to === null) return null;
    return ledger.plan(table.name, from, to, this.opts.modelId, this.opts.pipelineVersion, clock.nowMs());
  }

  /** The batch a gate refused in this process, if the table is blocked on one. */
  blockedOn(table: VectorTable): BatchRow | null {
    const pending = this.deps.ledger.pendingBatch(table.name);
    return pending && this.blocked.has(pending.batchId) ? pending : null;
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

  /** Runs one batch if any is waiting. Returns null when there was nothing to do (or the table is blocked by a gate). */
  async runOnce(table: VectorTable, signal?: AbortSignal): Promise<BatchOutcome | null> {
    if (!this.reconciled.has(table.name)) await this.reconcile(table, signal);
    const batch = this.nextBatch(table);
    if (!batch || this.blocked.has(batch.batchId)) return null;
    return this.execute(table, batch, signal);
  }

  async execute(table: VectorTable, batch: BatchRow, signal?: AbortSignal): Promise<BatchOutcome> {
    const { ledger, bronze, clock, fault } = this.deps;
    const log = this.deps.logger.child({ batch_id: batch.batchId });
    const started = clock.nowMs();
    if (batch.state !== 'planned') ledger.markAttempt(batch.batchId);
    fault('after-plan');
    const events = bronze.eventsInRange(batch.seqFrom, batch.seqTo);
    const ids = [...new Set(events.map((e) => e.id))];
    const waived = this.gates.waive.includes(batch.batchId);
    log.debug(
      {
        event: 'batch.start',
        seq_from: batch.seqFrom,
        seq_to: batch.seqTo,
        records: events.length,
        ids: ids.length,
        gates_waived: waived,
      },
      'batch started',
    );
    try {
      if (!waived) {
        const q = quarantineGate(ledger.batchInputFiles(batch.seqFrom, batch.seqTo), this.gates);
        if (q) throw new GateError(q);
      }
      const result = await materialize(this.deps, table, ids, batch.batchId, signal, {
        batchEvents: events,
        unsafe: this.opts.unsafe,
        gate: waived
          ? undefined
          : (expected) => {
              const v = outputGate(
                expected.inserted + expected.updated + expected.deleted,
                events.length,
                ledger.recentOutputs(table.name, batch.seqFrom, this.gates.outputWindow),
                this.gates,
              );
              if (v) throw new GateError(v);
            },
        // The key state moves only once the batch has passed every gate, right before the merge.
        beforeMerge: () => {
          ledger.fold(events, this.opts.unsafe.has('no-guard'));
          fault('after-fold');
        },
      });
      fault('after-merge');
      ledger.inTransaction(() => {
        ledger.commit(
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
        );
        this.incidents.close(batch.batchId, waived ? 'waived' : 'resolved', clock.nowMs());
      });
      fault('after-commit');
      const durationMs = clock.nowMs() - started;
      log.info(
        {
          event: 'batch.committed',
          seq_from: batch.seqFrom,
          seq_to: batch.seqTo,
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
      return { batch, recordsIn: events.length, idsTouched: ids.length, result, durationMs };
    } catch (e) {
      const err = toSeamlineError(e, 'INTERNAL', `batch ${batch.batchId}`);
      ledger.fail(batch.batchId, `${err.code}: ${err.message}`);
      this.recordIncident(table, batch, err);
      log.error({ event: 'batch.failed', code: err.code, err, retryable: err.retryable }, 'batch failed');
      throw err;
    }
  }

  private recordIncident(table: VectorTable, batch: BatchRow, err: SeamlineError): void {
    const gate = err instanceof GateError ? err : null;
    const mode = gate?.failureMode ?? LOUD_MODES[err.code];
    if (!mode) return;
    if (gate) this.blocked.add(batch.batchId);
    const bound = (this.deps.logger.bindings() as { run_id?: unknown }).run_id;
    const runId = typeof bound === 'string' ? bound : 'unknown';
    const inc = this.incidents.record({
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
