import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mean_pooling, Tensor } from '@huggingface/transformers';
import { meanPoolNormalize } from '../../../src/embed/pool.js';

describe('meanPoolNormalize (pure)', () => {
  it('is bit-identical to transformers.js mean_pooling(…).normalize_(2, -1) on padded rows', () => {
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
    const rows = 7;
    const width = 13;
    const dim = 48;
    const hidden = Float32Array.from({ length: rows * width * dim }, () => (rnd() - 0.5) * 8);
    const lens = [13, 1, 5, 12, 7, 2, 9];
    const mask = new BigInt64Array(rows * width);
    // Right padding for most rows, left padding for one: only the mask decides.
    lens.forEach((n, r) => {
      for (let t = 0; t < n; t++) mask[r * width + (r === 3 ? width - 1 - t : t)] = 1n;
    });
    const want = mean_pooling(
      new Tensor('float32', hidden, [rows, width, dim]),
      new Tensor('int64', mask, [rows, width]),
    ).normalize_(2, -1).data as Float32Array;
    const got = meanPoolNormalize(hidden, mask, rows, width, dim);
    assert.equal(got.length, want.length);
    for (let i = 0; i < got.length; i++)
      assert.ok(Object.is(got[i], want[i]), `element ${i}: ${got[i]} vs ${want[i]}`);
    // Unit length, and padding never read (garbage there changes nothing).
    const again = hidden.slice();
    for (let r = 0; r < rows; r++)
      for (let t = 0; t < width; t++)
        if (mask[r * width + t] === 0n) again.fill(1e6, (r * width + t) * dim, (r * width + t + 1) * dim);
    assert.deepEqual(meanPoolNormalize(again, mask, rows, width, dim), got);
  });
});
