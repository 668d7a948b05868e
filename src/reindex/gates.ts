/**
 * Quality gates a reindexed table must pass before it may serve. Pure: callers stream table rows and
 * key-state entries in, each gate returns its figure and whether it passed.
 */

export type GateName = 'parity' | 'vectors' | 'overlap' | 'ndcg';

export interface GateResult {
  readonly name: GateName;
  readonly passed: boolean;
  /** Why the gate did not run (it then counts as passed), e.g. "model changed". */
  readonly skipped?: string;
  /** One human line with the measured figure, printed by the CLI. */
  readonly figure: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface KeyEntry {
  readonly seq: number;
  readonly deleted: boolean;
}

export interface RowProvenance {
  readonly rowKey: string;
  readonly id: string;
  readonly chunk: number;
  readonly chunkCount: number;
  readonly bronzeSeq: number;
}

/**
 * Row parity with bronze: every live id of the key state has chunks 0..n-1 exactly once, at its winning
 * bronze seq; no row for a deleted or unknown id; no duplicate row key. Ids whose winner is newer than
 * `caughtUpSeq` are excused: a batch in flight in the daemon touches them and the new table's processor
 * continues from caughtUpSeq + 1 after the swap.
 */
export class ParityCheck {
  private readonly rowKeys = new Set<string>();
  private readonly byId = new Map<string, { chunks: number[]; counts: Set<number>; seqs: Set<number> }>();
  private duplicates = 0;
  private rows = 0;

  add(rows: Iterable<RowProvenance>): void {
    for (const r of rows) {
      this.rows += 1;
      if (this.rowKeys.has(r.rowKey)) this.duplicates += 1;
      else this.rowKeys.add(r.rowKey);
      let e = this.byId.get(r.id);
      if (!e) this.byId.set(r.id, (e = { chunks: [], counts: new Set(), seqs: new Set() }));
      e.chunks.push(r.chunk);
      e.counts.add(r.chunkCount);
      e.seqs.add(r.bronzeSeq);
    }
  }

  finish(keys: ReadonlyMap<string, KeyEntry>, caughtUpSeq: number): GateResult {
    let live = 0;
    let excused = 0;
    const missing: string[] = [];
    const stale: string[] = [];
    const badChunks: string[] = [];
    for (const [id, k] of keys) {
      if (k.deleted) continue;
      live += 1;
      if (k.seq > caughtUpSeq) {
        excused += 1;
        continue;
      }
      const e = this.byId.get(id);
      if (!e) {
        missing.push(id);
        continue;
      }
      const n = e.counts.size === 1 ? [...e.counts][0]! : -1;
      const sorted = [...e.chunks].sort((a, b) => a - b);
      if (n < 1 || sorted.length !== n || sorted.some((c, i) => c !== i)) badChunks.push(id);
      if (e.seqs.size !== 1 || !e.seqs.has(k.seq)) stale.push(id);
    }
    const extra: string[] = [];
    for (const id of this.byId.keys()) {
      const k = keys.get(id);
      if (k && k.seq > caughtUpSeq) continue;
      if (!k || k.deleted) extra.push(id);
    }
    const passed =
      missing.length === 0 &&
      extra.length === 0 &&
      stale.length === 0 &&
      badChunks.length === 0 &&
      this.duplicates === 0;
    const sample = (a: string[]): string[] => a.slice(0, 5);
    return {
      name: 'parity',
      passed,
      figure: `${live - excused - missing.length}/${live - excused} live ids present (${this.rows} rows; missing ${missing.length}, extra ${extra.length}, stale ${stale.length}, bad chunks ${badChunks.length}, duplicate rows ${this.duplicates}; ${excused} in flight excused)`,
      details: {
        liveIds: live,
        checkedIds: live - excused,
        excusedInFlight: excused,
        rows: this.rows,
        missing: missing.length,
        extra: extra.length,
        stale: stale.length,
        badChunks: badChunks.length,
        duplicateRows: this.duplicates,
        examples: {
          missing: sample(missing),
          extra: sample(extra),
          stale: sample(stale),
          badChunks: sample(badChunks),
        },
      },
    };
  }
}

/** True when a vector has the wrong dimension or a NaN / infinite component. */
export function badVector(v: ArrayLike<number>, dim: number): boolean {
  if (v.length !== dim) return true;
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) return true;
  return false;
}

export function vectorsGate(rows: number, bad: number, dim: number): GateResult {
  return {
    name: 'vectors',
    passed: bad === 0,
    figure: `${bad} bad vector(s) in ${rows} rows (expected ${dim}-d, finite)`,
    details: { rows, bad, dim },
  };
}

export interface ScoredKey {
  readonly key: string;
  readonly score: number;
}

/**
 * Share of the new top-k that the old top-k agrees with. A new hit also counts when its score ties
 * or beats the old k-th score (within eps): equal-scored rows may come back in any order, so ids
 * alone would punish a table for how its fragments happen to be laid out. 1 when both are empty.
 */
export function topkOverlap(
  oldHits: readonly ScoredKey[],
  newHits: readonly ScoredKey[],
  k: number,
  eps = 1e-5,
): number {
  const x = oldHits.slice(0, k);
  const y = newHits.slice(0, k);
  const denom = Math.max(x.length, y.length);
  if (denom === 0) return 1;
  const keys = new Set(x.map((h) => h.key));
  const floor = x.length === k ? x[x.length - 1]!.score - eps : -Infinity;
  return y.filter((h) => keys.has(h.key) || h.score >= floor).length / denom;
}

export function overlapGate(overlaps: readonly number[], k: number, min: number): GateResult {
  const mean = overlaps.length ? overlaps.reduce((s, v) => s + v, 0) / overlaps.length : 1;
  const worst = overlaps.length ? Math.min(...overlaps) : 1;
  return {
    name: 'overlap',
    passed: mean >= min,
    figure: `mean top-${k} overlap ${mean.toFixed(3)} over ${overlaps.length} queries (worst ${worst.toFixed(3)}; min ${min})`,
    details: { queries: overlaps.length, k, mean, worst, min },
  };
}

/** The first `k` distinct ids of a ranked list of chunk hits (a record counts once, at its best chunk). */
export function distinctIds(hits: readonly { readonly id: string }[], k: number): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const h of hits) {
    if (seen.has(h.id)) continue;
    seen.add(h.id);
    out.push(h.id);
    if (out.length === k) break;
  }
  return out;
}

/** nDCG@k with graded gains (2^rel − 1) / log2(rank + 1); null when the query has no relevant id. */
export function ndcgAt(
  ranked: readonly string[],
  relevant: ReadonlyMap<string, number>,
  k = 10,
): number | null {
  const ideal = [...relevant.values()]
    .filter((g) => g > 0)
    .sort((a, b) => b - a)
    .slice(0, k);
  if (ideal.length === 0) return null;
  const gain = (g: number, i: number): number => (2 ** g - 1) / Math.log2(i + 2);
  const idcg = ideal.reduce((s, g, i) => s + gain(g, i), 0);
  const dcg = ranked.slice(0, k).reduce((s, id, i) => s + gain(relevant.get(id) ?? 0, i), 0);
  return dcg / idcg;
}

export function ndcgGate(
  oldNdcg: number | null,
  newNdcg: number,
  queries: number,
  maxDrop: number,
  minNdcg: number,
): GateResult {
  const drop = oldNdcg === null ? 0 : oldNdcg - newNdcg;
  const passed = drop <= maxDrop + 1e-12 && newNdcg >= minNdcg;
  return {
    name: 'ndcg',
    passed,
    figure: `nDCG@10 new ${newNdcg.toFixed(4)} vs old ${oldNdcg === null ? 'n/a' : oldNdcg.toFixed(4)} over ${queries} queries (drop ${drop.toFixed(4)}, max ${maxDrop}; floor ${minNdcg})`,
    details: { queries, oldNdcg, newNdcg, drop, maxDrop, minNdcg },
  };
}

export function skippedGate(name: GateName, why: string): GateResult {
  return { name, passed: true, skipped: why, figure: `skipped: ${why}`, details: {} };
}

export interface EvalQuery {
  readonly query: string;
  readonly relevant: ReadonlyMap<string, number>;
}

/**
 * Parses an evaluation file: JSONL (or a JSON array) of {"query": "...", "relevant": ["id", ...]} or
 * {"relevant": {"id": grade}}. Throws an Error naming the line on anything else.
 */
export function parseEvaluation(text: string): EvalQuery[] {
  const trimmed = text.trim();
  let items: { item: unknown; where: string }[];
  if (trimmed.startsWith('[')) {
    items = (JSON.parse(trimmed) as unknown[]).map((item, i) => ({ item, where: `item ${i + 1}` }));
  } else {
    items = [];
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        items.push({ item: JSON.parse(line) as unknown, where: `line ${i + 1}` });
      } catch (e) {
        throw new Error(`line ${i + 1}: not JSON (${(e as Error).message})`);
      }
    });
  }
  return items.map(({ item, where }) => {
    if (item === null || typeof item !== 'object') throw new Error(`${where}: expected an object`);
    const o = item as { query?: unknown; relevant?: unknown };
    if (typeof o.query !== 'string' || o.query.trim() === '')
      throw new Error(`${where}: "query" must be a non-empty string`);
    const rel = new Map<string, number>();
    if (Array.isArray(o.relevant)) {
      for (const id of o.relevant) {
        if (typeof id !== 'string') throw new Error(`${where}: "relevant" ids must be strings`);
        rel.set(id, 1);
      }
    } else if (o.relevant !== null && typeof o.relevant === 'object') {
      for (const [id, g] of Object.entries(o.relevant)) {
        if (typeof g !== 'number' || !Number.isFinite(g) || g < 0)
          throw new Error(`${where}: grade of "${id}" must be a non-negative number`);
        rel.set(id, g);
      }
    } else throw new Error(`${where}: "relevant" must be an array of ids or an object of id → grade`);
    return { query: o.query, relevant: rel };
  });
}
