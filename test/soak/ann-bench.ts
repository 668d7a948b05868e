// Index choice measurement (docs/decisions/optimize-ann-index.md): build time and top-10 agreement with
// exact search of HNSW_SQ, IVF_PQ and IVF_FLAT on real embeddings, at several query settings.
// Usage (after a build): node dist/test/soak/ann-bench.js [modelId=local/glove-sif-100d] [rows=5000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Schema, Utf8 } from 'apache-arrow';
import { packageRoot } from '../../src/config/load.js';
import { WorkerEmbedder } from '../../src/embed/worker-embedder.js';

const model = process.argv[2] ?? 'local/glove-sif-100d';
const N = Number(process.argv[3] ?? 5000);
const WORDS =
  'river mountain city music garden ocean winter summer forest market school doctor engine rocket planet coffee bread window silver golden ancient modern quiet storm harbor island desert valley bridge tower castle library museum painter singer farmer soldier teacher student village train airport hospital kitchen wine cheese apple orange football tennis chess novel poem theory science history language computer network signal energy climate rain snow wind fire stone glass paper cloud bird horse dog cat fish lion tiger whale eagle flower tree leaf king queen prince army battle peace treaty election court law bank money trade price factory steel'.split(
    ' ',
  );
let a = 7;
const rnd = (): number => {
  a = (a + 0x6d2b79f5) | 0;
  let t = Math.imul(a ^ (a >>> 15), 1 | a);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const say = (n: number): string =>
  Array.from({ length: n }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');

const emb = await WorkerEmbedder.start({
  modelId: model,
  modelsDir: path.join(packageRoot(), 'models'),
  dtype: 'auto',
  allowRemote: false,
  threads: 1,
  maxBatchTokens: 8192,
  maxBatchTexts: 64,
});
const vecs = await emb.embed(Array.from({ length: N }, (_, i) => ({ text: say(6 + (i % 10)), tokens: 16 })));
const queries = await emb.embed(Array.from({ length: 60 }, () => ({ text: say(5), tokens: 5 })));
await emb.close();
const dim = vecs[0]!.length;
const schema = new Schema([
  new Field('row_key', new Utf8(), false),
  new Field('vector', new FixedSizeList(dim, new Field('item', new Float32(), true)), false),
]);
const dir = mkdtempSync(path.join(tmpdir(), 'seamline-annbench-'));
try {
  const db = await lancedb.connect(dir, { readConsistencyInterval: 0 });
  const rows = vecs.map((v, i) => ({ row_key: `k${i}`, vector: Array.from(v) }));
  const configs: Record<string, () => lancedb.Index> = {
    hnsw_sq: () => lancedb.Index.hnswSq({ distanceType: 'cosine', numPartitions: 1 }),
    ivf_pq: () => lancedb.Index.ivfPq({ distanceType: 'cosine', numSubVectors: dim / 4 }),
    ivf_flat: () => lancedb.Index.ivfFlat({ distanceType: 'cosine' }),
  };
  for (const [name, cfg] of Object.entries(configs)) {
    const t = await db.createTable(name, lancedb.makeArrowTable(rows, { schema }));
    const exact: string[][] = [];
    for (const q of queries)
      exact.push(
        (
          (await t.vectorSearch(Array.from(q)).distanceType('cosine').limit(10).toArray()) as {
            row_key: string;
          }[]
        ).map((r) => r.row_key),
      );
    const t0 = performance.now();
    await t.createIndex('vector', { config: cfg() });
    const buildMs = Math.round(performance.now() - t0);
    for (const [ef, refine] of [
      [0, 0],
      [100, 0],
      [0, 2],
      [100, 2],
    ] as const) {
      let hit = 0;
      const q0 = performance.now();
      for (let i = 0; i < queries.length; i++) {
        let q = t.vectorSearch(Array.from(queries[i]!)).distanceType('cosine').limit(10);
        if (ef) q = q.ef(ef);
        if (refine) q = q.refineFactor(refine);
        const got = ((await q.toArray()) as { row_key: string }[]).map((r) => r.row_key);
        hit += got.filter((k) => exact[i]!.includes(k)).length;
      }
      console.log(
        JSON.stringify({
          model,
          rows: N,
          dim,
          index: name,
          buildMs,
          ef,
          refine,
          recall10: +(hit / (queries.length * 10)).toFixed(3),
          queryMs: +((performance.now() - q0) / queries.length).toFixed(1),
        }),
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
