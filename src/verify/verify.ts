import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Bronze } from '../ports/bronze.js';
import type { Clock } from '../ports/clock.js';
import type { Embedder } from '../ports/embedder.js';
import type { KeyState, Ledger } from '../ports/ledger.js';
import type { ReadModel } from '../ports/read-model.js';
import type { VectorTable } from '../ports/vector-store.js';
import { materialize } from '../processor/materialize.js';
import { normalizeText } from '../processor/materialize-plan.js';
import { noFaults } from '../runtime/fault.js';
import { audit, repairPlan, type Finding, type FindingKind, type RowProvenance } from './audit.js';

/** What verify and repair read and write: the store ports, config (chunking, pipeline version) and clock. */
export interface VerifyDeps {
  readonly config: Config;
  readonly clock: Clock;
  readonly bronze: Bronze;
  readonly ledger: Ledger;
  readonly readModel: ReadModel;
}

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
  /** Rows whose stored vector was re-embedded from the stored text and compared (0 when not asked). */
  readonly vectorsSampled: number;
  /** Of those, how many were not the model's embedding of the text (cosine below VECTOR_MATCH). */
  readonly vectorMismatches: number;
}

/** Options of the vector check: re-embed a random sample of rows and compare with the stored vectors. */
export interface VectorCheck {
  readonly embedder: Embedder;
  /** How many rows to sample (verify.vectorSample; 0 = skip the check). */
  readonly sample: number;
  readonly random?: () => number;
}

/** Same model, same text: the embedding is deterministic, so anything below this cosine is a different text's vector. */
export const VECTOR_MATCH = 0.999;

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
  'wrong_vector',
];

const cosine = (a: Float32Array, b: Float32Array): number => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
};

/** Re-embeds the stored text of a random sample of rows and reports rows whose vector does not match. */
async function checkVectors(
  table: VectorTable,
  rows: ReadonlyMap<string, readonly RowProvenance[]>,
  check: VectorCheck,
  maxTokens: number,
): Promise<{ sampled: number; findings: Finding[] }> {
  const keys: { id: string; rowKey: string }[] = [];
  for (const [id, list] of rows) for (const r of list) keys.push({ id, rowKey: r.rowKey });
  const n = Math.min(check.sample, keys.length);
  const random = check.random ?? Math.random;
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (keys.length - i));
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
  }
  const wanted = new Set(keys.slice(0, n).map((k) => k.rowKey));
  const full = (await table.rowsForIds([...new Set(keys.slice(0, n).map((k) => k.id))])).filter(
    (r) => wanted.has(r.rowKey) && r.modelId === check.embedder.modelId,
  );
  const findings: Finding[] = [];
  for (let i = 0; i < full.length; i += 64) {
    const part = full.slice(i, i + 64);
    const texts = part.map((r) => normalizeText(r.text));
    const chunks = await check.embedder.chunk(texts, Math.max(maxTokens, 1 << 20), 0);
    const vectors = await check.embedder.embed(
      texts.map((text, k) => ({ text, tokens: chunks[k]!.reduce((t, c) => t + c.tokens, 0) })),
    );
    part.forEach((r, k) => {
      const c = cosine(r.vector, vectors[k]!);
      if (!(c >= VECTOR_MATCH))
        findings.push({
          kind: 'wrong_vector',
          id: r.id,
          detail: `row ${JSON.stringify(r.rowKey)}: the stored vector has cosine ${c.toFixed(4)} with the ${r.modelId} embedding of the stored text (content hash ${r.contentHash}); it belongs to another text`,
          batchId: r.batchId,
        });
    });
  }
  return { sampled: full.length, findings };
}
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

/**
 * Audits bronze ↔ ledger ↔ the serving table. Reads the ledger before and after the table scan and
 * retries when a batch committed in between (a concurrent daemon), so findings are never races.
 */
export async function verifyTable(
  rt: VerifyDeps,
  table: VectorTable,
  vectors?: VectorCheck,
): Promise<VerifyReport & { allFindings: Finding[] }> {
  for (let attempt = 0; ; attempt++) {
    const before = await rt.ledger.lanes().commitMark(table.name);
    const rows = await rowsById(table);
    const tableVersion = await table.version();
    const after = await rt.ledger.lanes().commitMark(table.name);
    if (before !== after && attempt < 5) continue;
    // The audit is pure and synchronous: read what it needs first (the key states are held in memory,
    // as the table's rows already are).
    const keyStates: KeyState[] = [];
    for await (const page of rt.ledger.allKeyStates()) keyStates.push(...page);
    const committedUpTo = await rt.ledger.committedUpTo(table.name);
    const committed = await rt.readModel.committedAmong(
      table.name,
      keyStates.filter((k) => k.seq > committedUpTo).map((k) => k.seq),
    );
    const known = new Set(keyStates.map((k) => k.id));
    const found = await rt.readModel.idsInBronze([...rows.keys()].filter((id) => !known.has(id)));
    known.clear();
    const r = audit({
      keyStates,
      rowsById: rows,
      committedUpTo,
      isCommitted: (seq) => seq <= committedUpTo || committed.has(seq),
      committedBatches: await rt.readModel.committedBatchRanges(table.name),
      inBronze: (id) => found.has(id),
    });
    const vc =
      vectors && vectors.sample > 0
        ? await checkVectors(table, rows, vectors, rt.config.chunking.maxTokens)
        : { sampled: 0, findings: [] };
    r.findings.push(...vc.findings);
    const counts = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<FindingKind, number>;
    for (const f of r.findings) counts[f.kind] += 1;
    const ledgerVersion = await rt.ledger.lastCommittedVersion(table.name);
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
      vectorsSampled: vc.sampled,
      vectorMismatches: vc.findings.length,
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
  rt: VerifyDeps,
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
