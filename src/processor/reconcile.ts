import type { VectorTable } from '../ports/vector-store.js';
import type { MergeGate } from './merge-window.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../ports/clock.js';
import { materialize, type MaterializeDeps } from './materialize.js';

export interface ReconcileDeps extends MaterializeDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** The maintenance window (the daemon's): a reconcile merge that rewrites rows waits for it. */
  readonly mergeGate?: MergeGate;
}

export interface ReconcileResult {
  readonly replayId: string;
  /** The table version found (behind the ledger). */
  readonly fromVersion: number;
  /** The highest table version the ledger had recorded. */
  readonly ledgerVersion: number;
  readonly batches: number;
  readonly ids: number;
  readonly inserted: number;
  readonly updated: number;
  readonly deleted: number;
  readonly embedded: number;
  readonly version: number;
}

/** Ids materialized per merge during a reconcile: bounds memory and the work a crash can lose. */
export const RECONCILE_PAGE_IDS = 1000;

/**
 * Startup reconcile. LanceDB on local disk may not fsync, so after a power loss the table can be at
 * an older version than the ledger recorded for its committed batches. The ids of every committed
 * batch above the table's version are re-materialized from bronze (the key state in SQLite survived),
 * in pages; the run is planned in the ledger before the first write, so a crash mid-way resumes the
 * same id set. At the end, those batches are re-pointed at the version that now holds them.
 * Returns null when the table is not behind.
 */
export async function reconcileTable(
  deps: ReconcileDeps,
  table: VectorTable,
  signal?: AbortSignal,
): Promise<ReconcileResult | null> {
  const { ledger, clock } = deps;
  const replays = ledger.replays();
  let run = await replays.pending(table.name, 'reconcile');
  if (!run) {
    const ledgerVersion = await ledger.lastCommittedVersion(table.name);
    const current = await table.version();
    if (ledgerVersion === null || current >= ledgerVersion) return null;
    run = await replays.plan(table.name, 'reconcile', { fromVersion: current, ledgerVersion }, clock.nowMs());
  }
  const fromVersion = run.fromVersion!;
  const log = deps.logger.child({ batch_id: run.replayId });
  const lost = await ledger.committedAbove(table.name, fromVersion);
  const ids = await ledger.idsOfCommittedAbove(table.name, fromVersion);
  log.warn(
    {
      event: 'reconcile.start',
      table: table.name,
      table_version: fromVersion,
      ledger_version: run.ledgerVersion,
      batches: lost.length,
      ids: ids.length,
    },
    `table ${table.name} is at version ${fromVersion} but the ledger recorded ${run.ledgerVersion}: re-materializing ${ids.length} id(s) of ${lost.length} batch(es) from bronze`,
  );
  let inserted = 0;
  let updated = 0;
  let deleted = 0;
  let embedded = 0;
  let reused = 0;
  for (let i = 0; i < ids.length; i += RECONCILE_PAGE_IDS) {
    signal?.throwIfAborted();
    const r = await materialize(deps, table, ids.slice(i, i + RECONCILE_PAGE_IDS), run.replayId, signal, {
      beforeMerge: async (kind) => void (await deps.mergeGate?.(kind, signal)),
    });
    inserted += r.inserted;
    updated += r.updated;
    deleted += r.deleted;
    embedded += r.embedded;
    reused += r.reused;
    deps.fault('mid-reconcile');
  }
  const version = await table.version();
  const runId = run.replayId;
  // One atomic port call: re-point the lost batches at `version` and commit the run.
  await replays.commitReconcile(
    runId,
    table.name,
    fromVersion,
    version,
    {
      idsTouched: ids.length,
      rowsInserted: inserted,
      rowsUpdated: updated,
      rowsDeleted: deleted,
      textsEmbedded: embedded,
      textsReused: reused,
    },
    clock.nowMs(),
  );
  log.warn(
    {
      event: 'reconcile.done',
      table: table.name,
      ids: ids.length,
      inserted,
      updated,
      deleted,
      embedded,
      table_version: version,
    },
    `reconciled ${table.name}: ${inserted} inserted, ${updated} updated, ${deleted} deleted`,
  );
  return {
    replayId: runId,
    fromVersion,
    ledgerVersion: run.ledgerVersion ?? fromVersion,
    batches: lost.length,
    ids: ids.length,
    inserted,
    updated,
    deleted,
    embedded,
    version,
  };
}
