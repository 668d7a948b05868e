import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/load.js';
import type { Sqlite } from '../store/sqlite/db.js';
import { toSeamlineError } from '../errors/errors.js';
import type { TableRegistry } from '../ports/registry.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../ports/clock.js';
import type { MaintainableTable, VectorStore, VectorTable } from '../ports/vector-store.js';
import { Leases } from '../runtime/lock.js';
import { MaintenanceLease, type WriterPause } from './lease.js';
import { decide, type Action, type Decision, type PolicyOptions, type TableSnapshot } from './policy.js';
import { OptimizeRuns, type OptimizeRunRecord } from './runs.js';

export const ROLLBACK_TAG_PREFIX = 'seamline-optimize-';

export interface OptimizerDeps {
  readonly db: Sqlite;
  readonly tables: TableRegistry;
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

/** LanceDB reports a lost optimistic-concurrency race as a retryable commit conflict. */
export function isCommitConflict(e: unknown): boolean {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur; i++) {
    const msg = cur instanceof Error ? cur.message : typeof cur === 'string' ? cur : '';
    if (/commit conflict|preempted by concurrent|Please retry/i.test(msg)) return true;
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return false;
}

const isTaggedCleanup = (e: unknown): boolean =>
  /tagged version\(s\) have been marked for cleanup/i.test(e instanceof Error ? e.message : String(e));

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
  const { clock, store, tables } = deps;
  const runs = new OptimizeRuns(deps.db);
  const runId = randomUUID().slice(0, 12);
  const started = clock.nowMs();
  const log = deps.logger.child({ optimize_run: runId });
  runs.failStale(started - Math.max(o.leaseTtlMs, o.maxWriterPauseMs) * 4, started);
  runs.start(runId, started);
  let decision: Decision | null = null;
  let conflicts = 0;
  let retries = 0;
  let bytesReclaimed = 0;
  let pause: WriterPause | null = null;
  let criticalMs: number | null = null;
  const done: string[] = [];
  const dropped: string[] = [];
  let table: VectorTable | null = null;
  let maint: MaintainableTable | null = null;

  /** Runs fn; a commit conflict is retried up to maxConflictRetries times with backoff. */
  const withRetry = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!isCommitConflict(e)) throw e;
        conflicts += 1;
        if (attempt >= o.maxConflictRetries)
          throw toSeamlineError(
            e,
            'STORE_FAILED',
            `${what}: commit conflict, retry budget (${o.maxConflictRetries}) spent`,
          );
        retries += 1;
        log.warn(
          {
            event: 'optimize.conflict',
            action: what,
            attempt: attempt + 1,
            err: e,
          },
          `${what}: commit conflict, retrying`,
        );
        await sleep(100 * 2 ** attempt + Math.floor(Math.random() * 50));
      }
    }
  };

  const finish = (fields: Parameters<OptimizeRuns['update']>[1]): OptimizeReport => {
    const finishedAt = clock.nowMs();
    runs.update(runId, {
      ...fields,
      actions: done,
      reasons: decision?.reasons ?? [],
      conflicts,
      retries,
      bytesReclaimed,
      tablesDropped: dropped,
      finishedAtMs: finishedAt,
      durationMs: finishedAt - started,
      writerQuiet: pause?.quiet ?? null,
      writerWaitMs: pause?.waitedMs ?? null,
      criticalMs,
    });
    const rec = runs.get(runId)!;
    log.info(
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
        conflicts,
        retries,
        writer_wait_ms: rec.writerWaitMs,
        critical_ms: criticalMs,
        indexed_rows: rec.indexedRows,
        unindexed_rows: rec.unindexedRows,
        duration_ms: rec.durationMs,
        reasons: decision?.reasons.filter((r) => r.decision === 'do').map((r) => `${r.action}: ${r.why}`),
        error: rec.error,
      },
      `optimize ${rec.status}${rec.actions.length ? `: ${rec.actions.join(', ')}` : ''}`,
    );
    return { ...rec, decision };
  };

  try {
    const serving = await tables.serving();
    if (serving) {
      table = await store.openTable(serving.tableName);
      maint = await store.openMaintenance(serving.tableName);
    }
    const before = table && maint ? await measure(store, table, maint) : null;
    if (before && table) {
      runs.update(runId, {
        tableName: table.name,
        rowsBefore: before.rows,
        fragmentsBefore: before.fragments,
        smallFragmentsBefore: before.smallFragments,
        versionsBefore: before.versions,
        diskBytesBefore: before.diskBytes,
      });
    }
    decision = decide(
      {
        nowMs: clock.nowMs(),
        table: table && maint ? await snapshot(table, maint) : null,
        serving: serving ? { name: serving.tableName, previous: serving.previous } : null,
        registry: runs.registry(),
        storeTables: await store.listTables(),
      },
      policyOptions(o),
    );
    log.debug(
      { event: 'optimize.decision', actions: decision.actions.map((a) => a.kind), reasons: decision.reasons },
      'optimize decision',
    );
    const servingActions = decision.actions.filter((a) => a.kind !== 'drop-table');
    let status: 'ok' | 'noop' | 'skipped' = decision.actions.length ? 'ok' : 'noop';
    let error: string | null = null;

    if (servingActions.length && table && maint) {
      const lease = MaintenanceLease.acquire(new Leases(deps.db), clock, {
        ttlMs: o.leaseTtlMs,
        drainWaitMs: o.drainWaitMs,
        ...(o.holder ? { holder: o.holder } : {}),
      });
      if (!lease) {
        status = 'skipped';
        error = 'another optimizer holds the maintenance lease';
      } else {
        try {
          pause = await lease.waitForWriterPause(signal);
          if (!pause.quiet)
            log.warn(
              { event: 'optimize.writer_busy', writer: pause.writer, waited_ms: pause.waitedMs },
              'the writer did not pause in time; proceeding (conflicts are retried)',
            );
          const critStart = clock.nowMs();
          try {
            for (const a of servingActions) {
              if (signal?.aborted) throw toSeamlineError(new Error('optimize pass aborted'), 'ABORTED');
              if (lease.lost)
                throw toSeamlineError(
                  new Error('maintenance lease lost (expired or taken): giving up the rest of this pass'),
                  'LEASE_TIMEOUT',
                );
              // Keep the critical section inside the writer's pause bound: defer what does not fit.
              if (
                done.length > 0 &&
                clock.nowMs() - critStart > o.maxWriterPauseMs * 0.5 &&
                a.kind !== 'tag-rollback-point'
              ) {
                log.warn(
                  { event: 'optimize.deferred', action: a.kind, critical_ms: clock.nowMs() - critStart },
                  `${a.kind} deferred to the next pass: the critical section is near the writer's pause bound`,
                );
                continue;
              }
              await execute(a, table, maint);
              done.push(a.kind);
              lease.renew();
            }
          } finally {
            criticalMs = clock.nowMs() - critStart;
          }
        } finally {
          lease.release();
        }
      }
    }

    for (const a of decision.actions) {
      if (a.kind !== 'drop-table') continue;
      // Re-read the pointer right before dropping: a swap or rollback may have happened meanwhile.
      const now = await tables.serving();
      if (now && (now.tableName === a.name || now.previous === a.name)) continue;
      await store.dropTable(a.name);
      runs.markDropped(a.name, clock.nowMs());
      dropped.push(a.name);
      done.push(`drop-table:${a.name}`);
      log.info({ event: 'optimize.table_dropped', table: a.name }, `dropped retired table ${a.name}`);
    }

    const after = table && maint ? await measure(store, table, maint) : null;
    return finish({
      status,
      error,
      ...afterFields(after),
    });
  } catch (e) {
    const err = toSeamlineError(e, 'STORE_FAILED', 'optimize');
    // A shutdown between actions is not a failure: the pass is cut short and the next one resumes.
    const aborted = err.code === 'ABORTED';
    if (aborted) log.info({ event: 'optimize.aborted', done }, 'optimize pass stopped by shutdown');
    else log.error({ event: 'optimize.failed', code: err.code, err }, 'optimize pass failed');
    let after: Measure | null = null;
    try {
      after = table && maint ? await measure(store, table, maint) : null;
    } catch {
      /* the failure is what matters; the after-measure is best effort */
    }
    return finish({
      status: aborted ? 'skipped' : 'failed',
      error: aborted
        ? `stopped by shutdown after: ${done.join(', ') || 'nothing'}`
        : `${err.code}: ${err.message}`,
      ...afterFields(after),
    });
  } finally {
    maint?.close();
  }

  async function execute(a: Action, t: VectorTable, m: MaintainableTable): Promise<void> {
    switch (a.kind) {
      case 'delete-tags':
        for (const n of a.names) await m.deleteTag(n);
        return;
      case 'optimize': {
        // Compaction + index folding first; pruning in a second call: LanceDB measures the prune
        // cutoff from its own clock when the prune step starts, so a long compaction before it would
        // shift the cutoff past a tagged version (which LanceDB refuses to prune: the call fails).
        const c = await withRetry('optimize', () => m.optimize(null));
        log.info(
          {
            event: 'optimize.compacted',
            fragments_removed: c.fragmentsRemoved,
            fragments_added: c.fragmentsAdded,
          },
          'optimize: compacted and folded new rows into indexes',
        );
        if (a.cleanupOlderThanMs === null) return;
        let cutoff = a.cleanupOlderThanMs;
        const p = await withRetry('prune', async () => {
          try {
            return await m.optimize(cutoff);
          } catch (e) {
            if (!isTaggedCleanup(e)) throw e;
            // Our safety margin before a tag was too thin: prune less rather than fail the pass.
            retries += 1;
            cutoff -= 10_000;
            return await m.optimize(cutoff);
          }
        });
        bytesReclaimed += p.bytesRemoved;
        log.info(
          {
            event: 'optimize.pruned',
            versions_removed: p.versionsRemoved,
            bytes_removed: p.bytesRemoved,
            cutoff: new Date(cutoff).toISOString(),
          },
          `optimize: pruned ${p.versionsRemoved} old version(s)`,
        );
        return;
      }
      case 'create-vector-index': {
        const t0 = clock.nowMs();
        await withRetry('create-vector-index', () => m.createVectorIndex(a.indexType));
        log.info(
          { event: 'optimize.index_built', index: a.indexType, ms: clock.nowMs() - t0 },
          `built the ${a.indexType} vector index`,
        );
        return;
      }
      case 'create-fts-index':
        await withRetry('create-fts-index', () => t.ensureFtsIndex());
        return;
      case 'tag-rollback-point': {
        const v = await t.version();
        const name = `${ROLLBACK_TAG_PREFIX}v${v}`;
        if (!(await m.tagList()).some((x) => x.name === name)) await m.createTag(name, v);
        return;
      }
      case 'drop-table':
        return;
    }
  }
}

/** The "after" columns of an optimize run, from a measurement (none when it could not be taken). */
function afterFields(after: Measure | null): Partial<Parameters<OptimizeRuns['update']>[1]> {
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
