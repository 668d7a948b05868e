import type { Logger } from 'pino';
import type { Embedder } from '../ports/embedder.js';
import type { VectorTable } from '../ports/vector-store.js';
import { materialize } from '../processor/materialize.js';
import { noFaults } from '../runtime/fault.js';
import type { Runtime } from '../runtime/runtime.js';
import {
  audit,
  repairPlan,
  type CommittedBatch,
  type Finding,
  type FindingKind,
  type RowProvenance,
} from './audit.js';

export interface VerifyReport {
  readonly consistent: boolean;
  readonly table: string;
  readonly tableVersion: number;
  readonly ledgerVersion: number | null;
  /** The table is at an older version than the ledger says a batch produced (lost commits). A warning: content findings decide. */
  readonly tableBehindLedger: boolean;
  readonly tableRows: number;
  readonly checkedIds: number;
  readonly pendingIds: number;
  readonly counts: Readonly<Record<FindingKind, number>>;
  /** Up to `maxListed` findings (counts are complete). */
  readonly findings: readonly Finding[];
  readonly unreflectedBatches: readonly { batchId: string; ids: number }[];
}

export interface RepairReport {
  readonly replayedIds: number;
  readonly clearedIds: number;
  readonly rowsCleared: number;
  readonly inserted: number;
  readonly updated: number;
  readonly deleted: number;
  readonly embedded: number;
  readonly reused: number;
  /** Rows of ids bronze has never seen: reported, never deleted by repair. */
  readonly unexplainedIds: readonly string[];
}

const KINDS: readonly FindingKind[] = [
  'missing',
  'stale',
  'duplicate',
  'deleted_present',
  'unknown_id',
  'newer_than_ledger',
];
const MAX_LISTED = 200;
const REPAIR_CHUNK = 500;

async function rowsById(table: VectorTable): Promise<Map<string, RowProvenance[]>> {
  const out = new Map<string, RowProvenance[]>();
  for await (const batch of table.scanAll('provenance')) {
    for (const r of batch) {
      const p: RowProvenance = {
        rowKey: r.rowKey,
        id: r.id,
        chunk: r.chunk,
        chunkCount: r.chunkCount,
        sourceVersion: r.sourceVersion,
        eventTimeMs: r.eventTimeMs,
        bronzeSeq: r.bronzeSeq,
        batchId: r.batchId,
        file: r.file,
      };
      const list = out.get(r.id);
      if (list) list.push(p);
      else out.set(r.id, [p]);
    }
  }
  return out;
}

function committedBatches(rt: Runtime, tableName: string): CommittedBatch[] {
  return (
    rt.db
      .prepare(
        `SELECT batch_id, seq_from, seq_to FROM batches WHERE table_name = ? AND state = 'committed' ORDER BY seq_from`,
      )
      .all(tableName) as { batch_id: string; seq_from: number; seq_to: number }[]
  ).map((r) => ({ batchId: r.batch_id, seqFrom: r.seq_from, seqTo: r.seq_to }));
}

/**
 * Audits bronze ↔ ledger ↔ the serving table. Reads the ledger before and after the table scan and
 * retries when a batch committed in between (a concurrent daemon), so findings are never races.
 */
export async function verifyTable(
  rt: Runtime,
  table: VectorTable,
): Promise<VerifyReport & { allFindings: Finding[] }> {
  const inBronze = rt.db.prepare('SELECT 1 FROM bronze WHERE record_id = ? LIMIT 1');
  for (let attempt = 0; ; attempt++) {
    const before = rt.ledger.lanes().commitMark(table.name);
    const rows = await rowsById(table);
    const tableVersion = await table.version();
    const after = rt.ledger.lanes().commitMark(table.name);
    if (before !== after && attempt < 5) continue;
    const keyStates = (function* () {
      for (const page of rt.ledger.allKeyStates()) yield* page;
    })();
    const r = audit({
      keyStates,
      rowsById: rows,
      committedUpTo: rt.ledger.committedUpTo(table.name),
      isCommitted: rt.ledger.lanes().committedPredicate(table.name),
      committedBatches: committedBatches(rt, table.name),
      inBronze: (id) => inBronze.get(id) !== undefined,
    });
    const counts = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<FindingKind, number>;
    for (const f of r.findings) counts[f.kind] += 1;
    const ledgerVersion = rt.ledger.lastCommittedVersion(table.name);
    const behind = ledgerVersion !== null && tableVersion < ledgerVersion;
    let tableRows = 0;
    for (const list of rows.values()) tableRows += list.length;
    return {
      consistent: r.findings.length === 0,
      table: table.name,
      tableVersion,
      ledgerVersion,
      tableBehindLedger: behind,
      tableRows,
      checkedIds: r.checkedIds,
      pendingIds: r.pendingIds,
      counts,
      findings: r.findings.slice(0, MAX_LISTED),
      unreflectedBatches: r.unreflectedBatches,
      allFindings: r.findings,
    };
  }
}

/**
 * Repairs by replaying from bronze: the affected ids are re-materialized (state-based, so ids that
 * are already right change nothing). Ids with duplicate rows or rows newer than bronze are cleared
 * first, since a guarded merge cannot fix those. Rows of ids bronze has never seen are left alone.
 */
export async function repair(
  rt: Runtime,
  table: VectorTable,
  embedder: Embedder,
  findings: readonly Finding[],
  logger: Logger,
): Promise<RepairReport> {
  const plan = repairPlan(findings);
  const c = rt.config;
  const deps = {
    bronze: rt.bronze,
    ledger: rt.ledger,
    embedder,
    chunking: c.chunking,
    pipelineVersion: c.pipelineVersion,
    fault: noFaults,
    nowIso: () => new Date(rt.clock.nowMs()).toISOString(),
  };
  const batchId = `verify-repair:${new Date(rt.clock.nowMs()).toISOString()}`;
  let rowsCleared = 0;
  const totals = { inserted: 0, updated: 0, deleted: 0, embedded: 0, reused: 0 };
  if (plan.clearFirst.length > 0) {
    rowsCleared = await table.deleteIds(plan.clearFirst);
    logger.warn(
      { event: 'verify.cleared', ids: plan.clearFirst.length, rows: rowsCleared },
      'removed rows of ids with duplicates or rows newer than bronze before replaying them',
    );
  }
  for (let i = 0; i < plan.replay.length; i += REPAIR_CHUNK) {
    const r = await materialize(deps, table, plan.replay.slice(i, i + REPAIR_CHUNK), batchId);
    totals.inserted += r.inserted;
    totals.updated += r.updated;
    totals.deleted += r.deleted;
    totals.embedded += r.embedded;
    totals.reused += r.reused;
  }
  if (plan.unexplained.length > 0) {
    logger.warn(
      { event: 'verify.unexplained', ids: plan.unexplained.length },
      'rows of ids unknown to bronze were left in place; inspect them (see the report) and remove them by hand if they do not belong',
    );
  }
  logger.info(
    { event: 'verify.repaired', replayed: plan.replay.length, ...totals },
    'repair replayed affected ids from bronze',
  );
  return {
    replayedIds: plan.replay.length,
    clearedIds: plan.clearFirst.length,
    rowsCleared,
    ...totals,
    unexplainedIds: plan.unexplained,
  };
}
