import type { Logger } from 'pino';
import type { Bronze } from '../bronze/bronze.js';
import { toSeamlineError } from '../errors/errors.js';
import type { BatchRow, Ledger } from '../ledger/ledger.js';
import type { Clock } from '../ports/clock.js';
import type { VectorTable } from '../ports/vector-store.js';
import type { FaultHook } from '../runtime/fault.js';
import { materialize, type MaterializeDeps, type MaterializeResult } from './materialize.js';

export interface ProcessorOptions {
  readonly maxRecords: number;
  readonly maxFiles: number;
  readonly modelId: string;
  readonly pipelineVersion: string;
  /** Test-only switches that break the pipeline on purpose so the crash harness can prove it notices. */
  readonly unsafe: ReadonlySet<'no-guard' | 'no-dedupe'>;
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

/**
 * Runs micro-batches for one table: plan (ledger row 'planned') → fold into key state → materialize
 * the touched ids (embed what changed, one guarded merge) → commit with the table version. Every step
 * is idempotent, so a crash anywhere is repaired by running the planned batch again.
 */
export class Processor {
  constructor(
    private readonly deps: ProcessorDeps,
    private readonly opts: ProcessorOptions,
  ) {}

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

  /** Runs one batch if any is waiting. Returns null when there was nothing to do. */
  async runOnce(table: VectorTable, signal?: AbortSignal): Promise<BatchOutcome | null> {
    const batch = this.nextBatch(table);
    if (!batch) return null;
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
    log.debug({ event: 'batch.start', seq_from: batch.seqFrom, seq_to: batch.seqTo, records: events.length, ids: ids.length }, 'batch started');
    try {
      ledger.fold(events, this.opts.unsafe.has('no-guard'));
      fault('after-fold');
      const result = await materialize(this.deps, table, ids, batch.batchId, signal, this.opts.unsafe.has('no-dedupe') ? events : undefined);
      fault('after-merge');
      ledger.commit(
        batch.batchId,
        result.version,
        { recordsIn: events.length, idsTouched: ids.length, rowsInserted: result.inserted, rowsUpdated: result.updated, rowsDeleted: result.deleted, textsEmbedded: result.embedded, textsReused: result.reused },
        clock.nowMs(),
      );
      fault('after-commit');
      const durationMs = clock.nowMs() - started;
      log.info(
        { event: 'batch.committed', seq_from: batch.seqFrom, seq_to: batch.seqTo, records: events.length, ids: ids.length, inserted: result.inserted, updated: result.updated, deleted: result.deleted, embedded: result.embedded, reused: result.reused, table_version: result.version, duration_ms: durationMs },
        'batch committed',
      );
      return { batch, recordsIn: events.length, idsTouched: ids.length, result, durationMs };
    } catch (e) {
      const err = toSeamlineError(e, 'INTERNAL', `batch ${batch.batchId}`);
      ledger.fail(batch.batchId, `${err.code}: ${err.message}`);
      log.error({ event: 'batch.failed', code: err.code, err: err.message, retryable: err.retryable }, 'batch failed');
      throw err;
    }
  }

  /** Runs batches until nothing is waiting (ingest --once). */
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
