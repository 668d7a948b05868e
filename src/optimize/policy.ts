/**
 * The optimize policy: a pure function from a table's statistics (and the table registry) to the
 * actions of one run, each with the reason it was chosen or skipped. No I/O, no clock: `nowMs` is input.
 */

export type AnnIndexType = 'hnsw_sq' | 'ivf_pq';

export interface VersionInfo {
  readonly version: number;
  readonly timestampMs: number;
}

export interface TagInfo {
  readonly name: string;
  readonly version: number;
}

export interface IndexInfo {
  readonly name: string;
  readonly type: string;
  readonly columns: readonly string[];
  readonly indexedRows: number;
  readonly unindexedRows: number;
  /** Segments (1 + deltas added by folding); unknown when absent. */
  readonly segments?: number;
}

export interface TableSnapshot {
  readonly name: string;
  readonly rows: number;
  readonly fragments: number;
  readonly smallFragments: number;
  readonly version: number;
  readonly versions: readonly VersionInfo[];
  readonly tags: readonly TagInfo[];
  readonly indices: readonly IndexInfo[];
}

export interface RegistryTable {
  readonly name: string;
  readonly state: 'building' | 'serving' | 'retired' | 'failed';
  readonly retiredAtMs: number | null;
  readonly droppedAtMs: number | null;
}

export interface PolicyInput {
  readonly nowMs: number;
  /** The serving table, or null when nothing is indexed yet. */
  readonly table: TableSnapshot | null;
  readonly serving: { readonly name: string; readonly previous: string | null } | null;
  readonly registry: readonly RegistryTable[];
  /** Tables that exist in the store. */
  readonly storeTables: readonly string[];
}

export interface PolicyOptions {
  readonly compactMinSmallFragments: number;
  readonly versionRetentionMs: number;
  readonly keepRollbackTags: number;
  readonly rollbackTagPrefix: string;
  /** Pruning stops this far before the oldest kept tag (clock skew between JS and LanceDB's own "now"). */
  readonly tagSafetyMarginMs: number;
  readonly annMinRows: number;
  readonly annIndexType: AnnIndexType;
  readonly maxIndexDeltas: number;
  readonly ftsIndex: boolean;
  readonly retiredTableRetentionMs: number;
}

export type Action =
  | { readonly kind: 'delete-tags'; readonly names: readonly string[] }
  /** One LanceDB optimize() call: compaction + pruning + folding new rows into existing indexes. */
  | {
      readonly kind: 'optimize';
      readonly compact: boolean;
      readonly foldIndexes: boolean;
      readonly cleanupOlderThanMs: number | null;
    }
  | { readonly kind: 'create-vector-index'; readonly indexType: AnnIndexType }
  | { readonly kind: 'create-fts-index' }
  | { readonly kind: 'tag-rollback-point' }
  | { readonly kind: 'drop-table'; readonly name: string };

export interface Reason {
  readonly action:
    'compact' | 'prune' | 'fold-indexes' | 'vector-index' | 'fts-index' | 'rollback-tag' | 'drop-table';
  readonly decision: 'do' | 'skip';
  readonly why: string;
}

export interface Decision {
  readonly actions: readonly Action[];
  readonly reasons: readonly Reason[];
  /** True when an action writes the serving table (needs the maintenance lease). */
  readonly touchesServing: boolean;
}

const isVectorIndex = (i: IndexInfo): boolean => i.columns.includes('vector');
const isFtsIndex = (i: IndexInfo): boolean => i.columns.includes('text') && /fts|inverted/i.test(i.type);

export function decide(input: PolicyInput, o: PolicyOptions): Decision {
  const reasons: Reason[] = [];
  const serving = input.table ? decideServing(input.table, input.nowMs, o, reasons) : [];
  const drops = decideDrops(input, o, reasons);
  return { actions: [...serving, ...drops], reasons, touchesServing: serving.length > 0 };
}

/** What the serving table needs, in execution order; the reasons in the order they are reported. */
function decideServing(t: TableSnapshot, nowMs: number, o: PolicyOptions, reasons: Reason[]): Action[] {
  const serving: Action[] = [];
  const vec = t.indices.find(isVectorIndex);
  // LanceDB never compacts fragments across vector-index deltas: rebuild before compacting.
  const rebuild = vec !== undefined && (vec.segments ?? 1) >= o.maxIndexDeltas;
  const compact = t.smallFragments >= o.compactMinSmallFragments || rebuild;
  reasons.push({
    action: 'compact',
    decision: compact ? 'do' : 'skip',
    why: `${t.smallFragments} small fragment(s) of ${t.fragments}; threshold ${o.compactMinSmallFragments}${rebuild ? '; the vector index is rebuilt first so every fragment can merge' : ''}`,
  });
  const p = decidePrune(t, nowMs, o, reasons);
  const fold = decideFold(t, reasons);
  const runOptimize = compact || p.prune || fold;
  if (rebuild) {
    serving.push({ kind: 'create-vector-index', indexType: o.annIndexType });
    reasons.push({
      action: 'vector-index',
      decision: 'do',
      why: `${vec.name} has ${vec.segments} segments ≥ maxIndexDeltas ${o.maxIndexDeltas}: rebuild (LanceDB does not compact fragments across index deltas)`,
    });
  }
  if (runOptimize) {
    if (p.dropOwn.length) serving.push({ kind: 'delete-tags', names: p.dropOwn.map((x) => x.name) });
    serving.push({
      kind: 'optimize',
      compact,
      foldIndexes: fold,
      cleanupOlderThanMs: p.prune ? p.cutoff : null,
    });
  }
  if (!rebuild) serving.push(...decideVectorIndex(t, vec, o, reasons));
  serving.push(...decideFtsIndex(t, o, reasons));
  if (runOptimize && o.keepRollbackTags > 0) {
    serving.push({ kind: 'tag-rollback-point' });
    reasons.push({
      action: 'rollback-tag',
      decision: 'do',
      why: `tag the optimized version as a rollback point (keep ${o.keepRollbackTags}); dropping ${p.dropOwn.length} older`,
    });
  }
  return serving;
}

/**
 * Own rollback tags beyond the newest keepRollbackTags-1 go first (a new one is made after this run);
 * LanceDB refuses to prune a tagged version, so every remaining tag bounds the prune cutoff.
 */
function decidePrune(
  t: TableSnapshot,
  nowMs: number,
  o: PolicyOptions,
  reasons: Reason[],
): { prune: boolean; cutoff: number; dropOwn: TagInfo[] } {
  const own = t.tags
    .filter((x) => x.name.startsWith(o.rollbackTagPrefix))
    .sort((a, b) => b.version - a.version);
  const keepOwn = o.keepRollbackTags > 0 ? own.slice(0, o.keepRollbackTags - 1) : own.slice(0, 0);
  const dropOwn = own.filter((x) => !keepOwn.includes(x));
  const remainingTags = t.tags.filter((x) => !dropOwn.includes(x));
  const ts = new Map(t.versions.map((v) => [v.version, v.timestampMs]));
  let cutoff = nowMs - o.versionRetentionMs;
  let limitedBy: TagInfo | null = null;
  for (const tag of remainingTags) {
    const tagTs = ts.get(tag.version);
    if (tagTs === undefined) continue;
    const c = tagTs - o.tagSafetyMarginMs;
    if (c < cutoff) {
      cutoff = c;
      limitedBy = tag;
    }
  }
  const tagged = new Set(remainingTags.map((x) => x.version));
  const prunable = t.versions.filter(
    (v) => v.version !== t.version && !tagged.has(v.version) && v.timestampMs < cutoff,
  ).length;
  const prune = prunable > 0;
  reasons.push({
    action: 'prune',
    decision: prune ? 'do' : 'skip',
    why:
      `${prunable} of ${t.versions.length} version(s) older than the retention window (${o.versionRetentionMs} ms)` +
      (limitedBy
        ? `; limited to versions before tag "${limitedBy.name}" (v${limitedBy.version}), which LanceDB keeps`
        : '') +
      (tagged.size ? `; ${tagged.size} tagged version(s) kept` : ''),
  });
  return { prune, cutoff, dropOwn };
}

function decideFold(t: TableSnapshot, reasons: Reason[]): boolean {
  const unindexed = t.indices.filter((i) => i.unindexedRows > 0);
  const fold = unindexed.length > 0;
  reasons.push({
    action: 'fold-indexes',
    decision: fold ? 'do' : 'skip',
    why: fold
      ? unindexed.map((i) => `${i.name}: ${i.unindexedRows} unindexed row(s)`).join('; ')
      : t.indices.length
        ? 'every index covers every row'
        : 'no index yet',
  });
  return fold;
}

function decideVectorIndex(
  t: TableSnapshot,
  vec: IndexInfo | undefined,
  o: PolicyOptions,
  reasons: Reason[],
): Action[] {
  if (!vec && t.rows >= o.annMinRows) {
    reasons.push({
      action: 'vector-index',
      decision: 'do',
      why: `${t.rows} row(s) ≥ annMinRows ${o.annMinRows} and no vector index: build ${o.annIndexType}`,
    });
    return [{ kind: 'create-vector-index', indexType: o.annIndexType }];
  }
  reasons.push({
    action: 'vector-index',
    decision: 'skip',
    why: vec
      ? `${vec.name} (${vec.type}) exists: ${vec.indexedRows} indexed, ${vec.unindexedRows} unindexed`
      : `${t.rows} row(s) < annMinRows ${o.annMinRows}: exact search is fast enough`,
  });
  return [];
}

function decideFtsIndex(t: TableSnapshot, o: PolicyOptions, reasons: Reason[]): Action[] {
  const fts = t.indices.find(isFtsIndex);
  if (o.ftsIndex && !fts && t.rows > 0) {
    reasons.push({ action: 'fts-index', decision: 'do', why: 'no full-text index on text yet' });
    return [{ kind: 'create-fts-index' }];
  }
  reasons.push({
    action: 'fts-index',
    decision: 'skip',
    why: !o.ftsIndex
      ? 'disabled (optimize.ftsIndex=false)'
      : fts
        ? `${fts.name} exists: ${fts.indexedRows} indexed, ${fts.unindexedRows} unindexed`
        : 'table is empty',
  });
  return [];
}

/** Retired tables past retention (never serving or its rollback target, never twice). */
function decideDrops(input: PolicyInput, o: PolicyOptions, reasons: Reason[]): Action[] {
  const drops: Action[] = [];
  const protectedNames = new Set(
    [input.serving?.name, input.serving?.previous].filter((x): x is string => typeof x === 'string'),
  );
  const inStore = new Set(input.storeTables);
  for (const r of input.registry) {
    if (r.state !== 'retired' || r.droppedAtMs !== null || !inStore.has(r.name)) continue;
    if (protectedNames.has(r.name)) {
      reasons.push({
        action: 'drop-table',
        decision: 'skip',
        why: `${r.name} is the serving table or its rollback target`,
      });
      continue;
    }
    const age = r.retiredAtMs === null ? null : input.nowMs - r.retiredAtMs;
    const due = age !== null && age >= o.retiredTableRetentionMs;
    if (due) drops.push({ kind: 'drop-table', name: r.name });
    reasons.push({
      action: 'drop-table',
      decision: due ? 'do' : 'skip',
      why: due
        ? `${r.name} retired ${age} ms ago ≥ retention ${o.retiredTableRetentionMs} ms`
        : `${r.name} retired ${age ?? '?'} ms ago < retention ${o.retiredTableRetentionMs} ms`,
    });
  }
  return drops;
}
