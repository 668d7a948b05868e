/**
 * Weighted fusion of the vector and full-text result lists of one query (pure).
 *
 * - `rrf`: weighted reciprocal rank fusion, score = wv / (rrfK + rank_v) + wf / (rrfK + rank_f);
 *   only ranks matter.
 * - `minmax`: normalized-score fusion, score = wv · norm(cosine) + wf · norm(bm25), each side's scores
 *   min-max normalized over its own candidate list (best = 1, worst = 0); a side that did not return
 *   the item contributes 0.
 *
 * Weights are relative (normalized to sum 1). docs/retrieval.md has the sweep that picked the defaults.
 */
export type FusionMethod = 'rrf' | 'minmax';
export const FUSION_METHODS: readonly FusionMethod[] = ['rrf', 'minmax'];

export interface FusionSettings {
  readonly method: FusionMethod;
  /** Weight of the vector side in [0, 1]; the full-text side gets 1 − this. */
  readonly vectorWeight: number;
  /** RRF constant (only for method rrf). */
  readonly rrfK: number;
}

export interface SideItem {
  readonly key: string;
  readonly score: number;
}

export interface SideRank {
  readonly score: number;
  /** 1-based rank in that side's list. */
  readonly rank: number;
}

export interface FusedItem {
  readonly key: string;
  readonly score: number;
  readonly vector?: SideRank;
  readonly fts?: SideRank;
}

function ranksOf(list: readonly SideItem[]): Map<string, SideRank> {
  const out = new Map<string, SideRank>();
  list.forEach((it, i) => {
    if (!out.has(it.key)) out.set(it.key, { score: it.score, rank: i + 1 });
  });
  return out;
}

function normalizer(list: readonly SideItem[]): (s: number) => number {
  if (list.length === 0) return () => 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const it of list) {
    lo = Math.min(lo, it.score);
    hi = Math.max(hi, it.score);
  }
  return hi > lo ? (s) => (s - lo) / (hi - lo) : () => 1;
}

/**
 * Fuses two ranked lists (best first; a key repeated inside one list counts once, at its first rank).
 * Ties are broken by the better rank on a side with weight > 0, then by key, so the order is deterministic.
 */
export function fuse(vector: readonly SideItem[], fts: readonly SideItem[], s: FusionSettings): FusedItem[] {
  const wv = Math.min(1, Math.max(0, s.vectorWeight));
  const wf = 1 - wv;
  const rv = ranksOf(vector);
  const rf = ranksOf(fts);
  const nv = normalizer(vector);
  const nf = normalizer(fts);
  const part = (r: SideRank | undefined, w: number, norm: (x: number) => number): number => {
    if (!r || w === 0) return 0;
    return s.method === 'rrf' ? w / (s.rrfK + r.rank) : w * norm(r.score);
  };
  const keys = new Set([...rv.keys(), ...rf.keys()]);
  const out: (FusedItem & { best: number })[] = [];
  for (const key of keys) {
    const v = rv.get(key);
    const f = rf.get(key);
    out.push({
      key,
      score: part(v, wv, nv) + part(f, wf, nf),
      ...(v ? { vector: v } : {}),
      ...(f ? { fts: f } : {}),
      // Ties (e.g. a side's worst item normalizes to 0, like an absent one) go to the better rank on a weighted side.
      best: Math.min(wv > 0 ? (v?.rank ?? Infinity) : Infinity, wf > 0 ? (f?.rank ?? Infinity) : Infinity),
    });
  }
  out.sort((a, b) => b.score - a.score || a.best - b.best || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out.map(({ best: _best, ...rest }) => rest);
}
