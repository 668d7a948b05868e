/**
 * Mean pooling over the attention mask, then L2 normalization: the same arithmetic, in the same
 * order, as transformers.js `mean_pooling(hidden, mask).normalize_(2, -1)` (bit-identical output),
 * but row-major over the hidden state and skipping padded positions. transformers.js walks each
 * output dimension down the sequence (a stride of `dim` floats) and converts the BigInt mask to a
 * Number for every float, padding included: ~30× slower, on the thread that should be packing the
 * next call while ONNX Runtime runs (run B18: pooling took 0.5–1.7 s of a 1,207-text backfill). Pure.
 *
 * hidden: rows × width × dim; mask: rows × width (0 = padding). Returns rows × dim.
 */
export function meanPoolNormalize(
  hidden: Float32Array,
  mask: BigInt64Array,
  rows: number,
  width: number,
  dim: number,
): Float32Array {
  const out = new Float32Array(rows * dim);
  const sums = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    sums.fill(0);
    let count = 0;
    for (let t = 0; t < width; t++) {
      // transformers.js adds hidden × 0 for padding: adding ±0 leaves a double sum unchanged.
      if (mask[r * width + t] === 0n) continue;
      count += 1;
      const h = (r * width + t) * dim;
      for (let k = 0; k < dim; k++) sums[k]! += hidden[h + k]!;
    }
    const o = r * dim;
    // Float32 accumulator, as transformers.js' norm() reduces into an array of the tensor's type.
    let norm = 0;
    for (let k = 0; k < dim; k++) {
      out[o + k] = sums[k]! / count;
      norm = Math.fround(norm + out[o + k]! ** 2);
    }
    norm = Math.fround(norm ** (1 / 2));
    for (let k = 0; k < dim; k++) out[o + k]! /= norm;
  }
  return out;
}
