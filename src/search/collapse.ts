/** One document assembled from chunk hits: its best score and its matching chunks, best first. */
export interface DocGroup<T> {
  readonly id: string;
  readonly score: number;
  readonly chunks: readonly T[];
}

/**
 * Collapses chunk hits (best first) into documents: a document's score is its best chunk's score
 * (max-pooling) and documents keep the order of their best chunk. Pure.
 */
export function collapseChunks<T>(
  hits: readonly T[],
  idOf: (t: T) => string,
  scoreOf: (t: T) => number,
): DocGroup<T>[] {
  const byId = new Map<string, { id: string; score: number; chunks: T[] }>();
  for (const h of hits) {
    const id = idOf(h);
    const g = byId.get(id);
    if (g) g.chunks.push(h);
    else byId.set(id, { id, score: scoreOf(h), chunks: [h] });
  }
  return [...byId.values()];
}

/** The page [offset, offset + k) of a list, and the offset of the next page (null when none is known to exist). */
export function page<T>(
  items: readonly T[],
  offset: number,
  k: number,
  more: boolean,
): { items: T[]; nextOffset: number | null } {
  const items_ = items.slice(offset, offset + k);
  const next = offset + k;
  return { items: items_, nextOffset: items.length > next || (more && items_.length === k) ? next : null };
}
