export interface Fused<T> {
  readonly item: T;
  readonly score: number;
  /** 1-based rank in each input list (undefined where the item is absent). */
  readonly ranks: readonly (number | undefined)[];
}

/**
 * Reciprocal rank fusion (Cormack et al. 2009): score(d) = Σ over lists of 1 / (k + rank(d)).
 * Only ranks matter, so scores of different kinds (cosine, BM25) need no normalization. Ties keep
 * the order of first appearance (earlier list first). Pure.
 */
export function reciprocalRankFusion<T>(
  lists: readonly (readonly T[])[],
  keyOf: (t: T) => string,
  k: number,
): Fused<T>[] {
  const acc = new Map<string, { item: T; score: number; ranks: (number | undefined)[]; first: number }>();
  let order = 0;
  lists.forEach((list, li) => {
    list.forEach((item, i) => {
      const key = keyOf(item);
      let e = acc.get(key);
      if (!e) {
        e = { item, score: 0, ranks: lists.map(() => undefined), first: order++ };
        acc.set(key, e);
      }
      if (e.ranks[li] !== undefined) return; // a duplicate inside one list counts once
      e.ranks[li] = i + 1;
      e.score += 1 / (k + i + 1);
    });
  });
  return [...acc.values()]
    .sort((a, b) => b.score - a.score || a.first - b.first)
    .map(({ item, score, ranks }) => ({ item, score, ranks }));
}
