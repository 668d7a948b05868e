/**
 * Fixed cost of one inference call in token-equivalents (per-call work of ONNX Runtime, packing,
 * pooling, one message each way): a cut between two buckets must save at least this many padded
 * tokens. Measured on use-lite-512d, 2 threads: ~1 ms a call against ~40 µs a padded token.
 */
export const CALL_COST_TOKENS = 32;

/**
 * Groups texts into inference calls: sorted by token length, then cut where the cuts minimize
 * padded tokens + CALL_COST_TOKENS per call (an exact dynamic programme over the sorted lengths),
 * each call under a token budget (longest × count ≤ maxBatchTokens) and a count limit. Pure.
 * Returns lists of indices into the input, shortest texts first.
 *
 * Filling each call up to maxBatchTexts in sorted order (the earlier plan) pads well only when a
 * call holds many calls' worth of texts: with a few hundred mixed-length texts (the backlog lane's
 * time-boxed batches) one bucket spans short and long texts and pads to the longest (0.77 in run B18).
 */
export function planBuckets(
  tokens: readonly number[],
  maxBatchTokens: number,
  maxBatchTexts: number,
  callCostTokens: number = CALL_COST_TOKENS,
): number[][] {
  const order = tokens.map((t, i) => i).sort((a, b) => tokens[a]! - tokens[b]! || a - b);
  const n = order.length;
  if (n === 0) return [];
  const len = order.map((i) => Math.max(1, tokens[i]!));
  const maxTexts = Math.max(1, maxBatchTexts);
  // best[j]: least cost of calls covering the j shortest texts; from[j]: where the last call starts.
  const best = new Float64Array(n + 1).fill(Infinity);
  const from = new Int32Array(n + 1);
  best[0] = 0;
  for (let j = 1; j <= n; j++) {
    const width = len[j - 1]!; // sorted: the last text is the longest of any call ending here
    for (let i = j - 1; i >= 0 && j - i <= maxTexts; i--) {
      const rows = j - i;
      // One text alone is always allowed (a text longer than the budget gets a call of its own).
      if (rows > 1 && rows * width > maxBatchTokens) break;
      const c = best[i]! + rows * width + callCostTokens;
      if (c < best[j]!) {
        best[j] = c;
        from[j] = i;
      }
    }
  }
  const buckets: number[][] = [];
  for (let j = n; j > 0; j = from[j]!) buckets.push(order.slice(from[j], j));
  return buckets.reverse();
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
