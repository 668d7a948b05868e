import { randomUUID } from 'node:crypto';
import type { Config } from '../config/load.js';
import { toSeamlineError } from '../errors/errors.js';
import type { TableRegistry } from '../ports/registry.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../ports/clock.js';
import type { LeaseStore } from '../ports/leases.js';
import type { OptimizeRunRecord, OptimizeRunStore, RunFields } from '../ports/optimize-runs.js';
import type { MaintainableTable, VectorStore, VectorTable } from '../ports/vector-store.js';
import { execute, ROLLBACK_TAG_PREFIX, type Tally } from './actions.js';
import { MaintenanceLease, type WriterPause } from './lease.js';
import { decide, type Action, type Decision, type PolicyOptions, type TableSnapshot } from './policy.js';

export { isCommitConflict, ROLLBACK_TAG_PREFIX } from './actions.js';

export interface OptimizerDeps {
  readonly runs: OptimizeRunStore;
  readonly leases: LeaseStore;
  readonly tables: Pick<TableRegistry, 'serving'>;
  readonly store: VectorStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

export type OptimizeConfig = Config['optimize'];

export interface OptimizerOptions extends OptimizeConfig {
  /** Lease holder override (tests); default host:pid:optimize. */
  readonly holder?: string;
  /** Pruning stops this far before a kept tag. Default 100 ms. */
  readonly tagSafetyMarginMs?: number;
}

/** What one pass did; also the row written to optimize_runs. */
export type OptimizeReport = OptimizeRunRecord & { readonly decision: Decision | null };

interface Measure {
  rows: number;
  fragments: number;
  smallFragments: number;
  versions: number;
  diskBytes: number;
  indexedRows: number;
  unindexedRows: number;
  indexes: { name: string; type: string; indexedRows: number; unindexedRows: number; segments: number }[];
}

async function snapshot(table: VectorTable, maint: MaintainableTable): Promise<TableSnapshot> {
  const [s, versions, tags, indices, segments] = await Promise.all([
    table.stats(),
    maint.versions(),
    maint.tagList(),
    table.indexes(),
    maint.indexSegments(),
  ]);
  return {
    name: table.name,
    rows: s.rows,
    fragments: s.fragments,
    smallFragments: s.smallFragments,
    version: s.version,
    versions,
    tags,
    indices: indices.map((i) => ({ ...i, segments: segments[i.name] ?? 1 })),
  };
}

async function measure(store: VectorStore, table: VectorTable, maint: MaintainableTable): Promise<Measure> {
  const [s, versions, indexes, diskBytes, segments] = await Promise.all([
    table.stats(),
    maint.versions(),
    table.indexes(),
    store.tableDiskBytes(table.name),
    maint.indexSegments(),
  ]);
  return {
    rows: s.rows,
    fragments: s.fragments,
    smallFragments: s.smallFragments,
    versions: versions.length,
    diskBytes,
    indexedRows: indexes.reduce((a, i) => a + i.indexedRows, 0),
    unindexedRows: indexes.reduce((a, i) => a + i.unindexedRows, 0),
    indexes: indexes.map((i) => ({
      name: i.name,
      type: i.type,
      indexedRows: i.indexedRows,
      unindexedRows: i.unindexedRows,
      segments: segments[i.name] ?? 1,
    })),
  };
}

export function policyOptions(o: OptimizerOptions): PolicyOptions {
  return {
    compactMinSmallFragments: o.compactMinSmallFragments,
    versionRetentionMs: o.versionRetentionMs,
    keepRollbackTags: o.keepRollbackTags,
    rollbackTagPrefix: ROLLBACK_TAG_PREFIX,
    tagSafetyMarginMs: o.tagSafetyMarginMs ?? 100,
    annMinRows: o.annMinRows,
    annIndexType: o.annIndexType,
    maxIndexDeltas: o.maxIndexDeltas,
    ftsIndex: o.ftsIndex,
    retiredTableRetentionMs: o.retiredTableRetentionMs,
  };
}

/** One pass in flight: what it works on and what it has done so far. */
interface Pass {
  readonly deps: OptimizerDeps;
  readonly o: OptimizerOptions;
  readonly signal: AbortSignal | undefined;
  readonly runId: string;
  readonly started: number;
  readonly log: Logger;
  readonly tally: Tally;
  readonly done: string[];
  readonly dropped: string[];
  decision: Decision | null;
  pause: WriterPause | null;
  criticalMs: number | null;
  table: VectorTable | null;
  maint: MaintainableTable | null;
}

/**
 * One optimize pass: measure the serving table, let the pure policy decide, and — only when an action
 * writes the serving table — take the maintenance lease, wait for the writer to pause between batches,
 * run the actions (commit conflicts retried with a budget and counted), release. Retired tables past
 * retention are dropped outside the lease. Every pass is recorded in optimize_runs, failed ones too.
 */
export async function runOptimizePass(
  deps: OptimizerDeps,
  o: OptimizerOptions,
  signal?: AbortSignal,
): Promise<OptimizeReport> {
  const runId = randomUUID().slice(0, 12);
  const started = deps.clock.nowMs();
  const pass: Pass = {
    deps,
    o,
    signal,
    runId,
    started,
    log: deps.logger.child({ optimize_run: runId }),
    tally: { conflicts: 0, retries: 0, bytesReclaimed: 0 },
    done: [],
    dropped: [],
    decision: null,
    pause: null,
    criticalMs: null,
    table: null,
    maint: null,
  };
  await deps.runs.begin(runId, started, started - Math.max(o.leaseTtlMs, o.maxWriterPauseMs) * 4);
  try {
    const decision = await measureAndDecide(pass);
    const outcome = await maintainServing(pass, decision);
    await dropRetired(pass, decision);
    const after = pass.table && pass.maint ? await measure(deps.store, pass.table, pass.maint) : null;
    return await finish(pass, { ...outcome, ...afterFields(after) });
  } catch (e) {
    return await failed(pass, e);
  } finally {
    pass.maint?.close();
  }
}

/** Opens and measures the serving table (the "before" columns) and asks the pure policy. */
async function measureAndDecide(pass: Pass): Promise<Decision> {
  const { store, tables, clock, runs } = pass.deps;
  const serving = await tables.serving();
  if (serving) {
    pass.table = await store.openTable(serving.tableName);
    pass.maint = await store.openMaintenance(serving.tableName);
  }
  const { table, maint } = pass;
  const before = table && maint ? await measure(store, table, maint) : null;
  if (before && table) {
    await runs.update(pass.runId, {
      tableName: table.name,
      rowsBefore: before.rows,
      fragmentsBefore: before.fragments,
      smallFragmentsBefore: before.smallFragments,
      versionsBefore: before.versions,
      diskBytesBefore: before.diskBytes,
    });
  }
  pass.decision = decide(
    {
      nowMs: clock.nowMs(),
      table: table && maint ? await snapshot(table, maint) : null,
      serving: serving ? { name: serving.tableName, previous: serving.previous } : null,
      registry: await runs.registry(),
      storeTables: await store.listTables(),
    },
    policyOptions(pass.o),
  );
  pass.log.debug(
    {
      event: 'optimize.decision',
      actions: pass.decision.actions.map((a) => a.kind),
      reasons: pass.decision.reasons,
    },
    'optimize decision',
  );
  return pass.decision;
}

/** The actions on the serving table, under the maintenance lease; the pass's status and error. */
async function maintainServing(
  pass: Pass,
  decision: Decision,
): Promise<{ status: 'ok' | 'noop' | 'skipped'; error: string | null }> {
  const servingActions = decision.actions.filter((a) => a.kind !== 'drop-table');
  const status = decision.actions.length ? 'ok' : 'noop';
  if (!servingActions.length || !pass.table || !pass.maint) return { status, error: null };
  const { deps, o } = pass;
  const lease = await MaintenanceLease.acquire(deps.leases, deps.clock, {
    ttlMs: o.leaseTtlMs,
    drainWaitMs: o.drainWaitMs,
    ...(o.holder ? { holder: o.holder } : {}),
  });
  if (!lease) return { status: 'skipped', error: 'another optimizer holds the maintenance lease' };
  try {
    pass.pause = await lease.waitForWriterPause(pass.signal, pass.table.name);
    if (!pass.pause.quiet)
      pass.log.warn(
        { event: 'optimize.writer_busy', writer: pass.pause.writer, waited_ms: pass.pause.waitedMs },
        'the writer did not pause in time; proceeding (conflicts are retried)',
      );
    await criticalSection(pass, lease, servingActions);
  } finally {
    await lease.release();
  }
  return { status, error: null };
}

/** Runs the serving actions while the writer is paused; stops on abort or a lost lease. */
async function criticalSection(pass: Pass, lease: MaintenanceLease, actions: Action[]): Promise<void> {
  const { clock } = pass.deps;
  const ax = {
    table: pass.table!,
    maint: pass.maint!,
    clock,
    log: pass.log,
    maxConflictRetries: pass.o.maxConflictRetries,
    tally: pass.tally,
  };
  const critStart = clock.nowMs();
  try {
    for (const a of actions) {
      if (pass.signal?.aborted) throw toSeamlineError(new Error('optimize pass aborted'), 'ABORTED');
      if (lease.lost)
        throw toSeamlineError(
          new Error('maintenance lease lost (expired or taken): giving up the rest of this pass'),
          'LEASE_TIMEOUT',
        );
      // Keep the critical section inside the writer's pause bound: defer what does not fit.
      if (
        pass.done.length > 0 &&
        clock.nowMs() - critStart > pass.o.maxWriterPauseMs * 0.5 &&
        a.kind !== 'tag-rollback-point'
      ) {
        pass.log.warn(
          { event: 'optimize.deferred', action: a.kind, critical_ms: clock.nowMs() - critStart },
          `${a.kind} deferred to the next pass: the critical section is near the writer's pause bound`,
        );
        continue;
      }
      await execute(ax, a);
      pass.done.push(a.kind);
      await lease.renew();
    }
  } finally {
    pass.criticalMs = clock.nowMs() - critStart;
  }
}

/** Retired tables past retention, outside the lease (they are not written by anyone). */
async function dropRetired(pass: Pass, decision: Decision): Promise<void> {
  const { tables, store, runs, clock } = pass.deps;
  for (const a of decision.actions) {
    if (a.kind !== 'drop-table') continue;
    // Re-read the pointer right before dropping: a swap or rollback may have happened meanwhile.
    const now = await tables.serving();
    if (now && (now.tableName === a.name || now.previous === a.name)) continue;
    await store.dropTable(a.name);
    await runs.markDropped(a.name, clock.nowMs());
    pass.dropped.push(a.name);
    pass.done.push(`drop-table:${a.name}`);
    pass.log.info({ event: 'optimize.table_dropped', table: a.name }, `dropped retired table ${a.name}`);
  }
}

/** A pass that threw: recorded as failed, or skipped when a shutdown cut it short. */
async function failed(pass: Pass, e: unknown): Promise<OptimizeReport> {
  const err = toSeamlineError(e, 'STORE_FAILED', 'optimize');
  // A shutdown between actions is not a failure: the pass is cut short and the next one resumes.
  const aborted = err.code === 'ABORTED';
  if (aborted)
    pass.log.info({ event: 'optimize.aborted', done: pass.done }, 'optimize pass stopped by shutdown');
  else pass.log.error({ event: 'optimize.failed', code: err.code, err }, 'optimize pass failed');
  let after: Measure | null = null;
  try {
    after = pass.table && pass.maint ? await measure(pass.deps.store, pass.table, pass.maint) : null;
  } catch {
    /* the failure is what matters; the after-measure is best effort */
  }
  return finish(pass, {
    status: aborted ? 'skipped' : 'failed',
    error: aborted
      ? `stopped by shutdown after: ${pass.done.join(', ') || 'nothing'}`
      : `${err.code}: ${err.message}`,
    ...afterFields(after),
  });
}

/** Records the end of the pass, logs it, and returns the recorded row with the decision. */
async function finish(pass: Pass, fields: RunFields): Promise<OptimizeReport> {
  const { runs, clock } = pass.deps;
  const finishedAt = clock.nowMs();
  await runs.update(pass.runId, {
    ...fields,
    actions: pass.done,
    reasons: pass.decision?.reasons ?? [],
    conflicts: pass.tally.conflicts,
    retries: pass.tally.retries,
    bytesReclaimed: pass.tally.bytesReclaimed,
    tablesDropped: pass.dropped,
    finishedAtMs: finishedAt,
    durationMs: finishedAt - pass.started,
    writerQuiet: pass.pause?.quiet ?? null,
    writerWaitMs: pass.pause?.waitedMs ?? null,
    criticalMs: pass.criticalMs,
  });
  const rec = (await runs.get(pass.runId))!;
  logRun(pass, rec);
  return { ...rec, decision: pass.decision };
}

function logRun(pass: Pass, rec: OptimizeRunRecord): void {
  pass.log.info(
    {
      event: 'optimize.run',
      status: rec.status,
      table: rec.tableName,
      actions: rec.actions,
      fragments_before: rec.fragmentsBefore,
      fragments_after: rec.fragmentsAfter,
      versions_before: rec.versionsBefore,
      versions_after: rec.versionsAfter,
      bytes_reclaimed: rec.bytesReclaimed,
      disk_bytes_before: rec.diskBytesBefore,
      disk_bytes_after: rec.diskBytesAfter,
      conflicts: pass.tally.conflicts,
      retries: pass.tally.retries,
      writer_wait_ms: rec.writerWaitMs,
      critical_ms: pass.criticalMs,
      indexed_rows: rec.indexedRows,
      unindexed_rows: rec.unindexedRows,
      duration_ms: rec.durationMs,
      reasons: pass.decision?.reasons.filter((r) => r.decision === 'do').map((r) => `${r.action}: ${r.why}`),
      error: rec.error,
    },
    `optimize ${rec.status}${rec.actions.length ? `: ${rec.actions.join(', ')}` : ''}`,
  );
}

/** The "after" columns of an optimize run, from a measurement (none when it could not be taken). */
function afterFields(after: Measure | null): RunFields {
  if (!after) return {};
  return {
    rowsAfter: after.rows,
    fragmentsAfter: after.fragments,
    smallFragmentsAfter: after.smallFragments,
    versionsAfter: after.versions,
    diskBytesAfter: after.diskBytes,
    indexedRows: after.indexedRows,
    unindexedRows: after.unindexedRows,
    indexes: after.indexes,
  };
}
