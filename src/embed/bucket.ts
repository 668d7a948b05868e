/**
 * Groups texts into inference calls: sorted by token length so each call pads little, each call
 * under a token budget (longest × count ≤ maxBatchTokens) and a count limit. Pure.
 * Returns lists of indices into the input.
 */
export function planBuckets(
  tokens: readonly number[],
  maxBatchTokens: number,
  maxBatchTexts: number,
): number[][] {
  const order = tokens.map((t, i) => i).sort((a, b) => tokens[a]! - tokens[b]! || a - b);
  const buckets: number[][] = [];
  let cur: number[] = [];
  let longest = 0;
  for (const i of order) {
    const t = Math.max(1, tokens[i]!);
    const nextLongest = Math.max(longest, t);
    if (cur.length > 0 && (cur.length >= maxBatchTexts || nextLongest * (cur.length + 1) > maxBatchTokens)) {
      buckets.push(cur);
      cur = [];
      longest = 0;
    }
    cur.push(i);
    longest = Math.max(longest, t);
  }
  if (cur.length > 0) buckets.push(cur);
  return buckets;
}

/** Real ÷ padded tokens for a bucket plan (1 = no padding waste). */
export function paddingEfficiency(tokens: readonly number[], buckets: readonly number[][]): number {
  let real = 0;
  let padded = 0;
  for (const b of buckets) {
    const lens = b.map((i) => Math.max(1, tokens[i]!));
    real += lens.reduce((a, c) => a + c, 0);
    padded += Math.max(...lens) * lens.length;
  }
  return padded === 0 ? 1 : real / padded;
}
