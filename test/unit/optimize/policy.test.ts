import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decide,
  type PolicyInput,
  type PolicyOptions,
  type TableSnapshot,
} from '../../../src/optimize/policy.js';

const NOW = 1_000_000_000;
const opts: PolicyOptions = {
  compactMinSmallFragments: 16,
  versionRetentionMs: 60_000,
  keepRollbackTags: 1,
  rollbackTagPrefix: 'seamline-optimize-',
  tagSafetyMarginMs: 100,
  annMinRows: 10_000,
  annIndexType: 'hnsw_sq',
  maxIndexDeltas: 8,
  ftsIndex: true,
  retiredTableRetentionMs: 3_600_000,
};
const versions = (n: number, lastTs = NOW, stepMs = 1000) =>
  Array.from({ length: n }, (_, i) => ({ version: i + 1, timestampMs: lastTs - (n - 1 - i) * stepMs }));
const table = (over: Partial<TableSnapshot> = {}): TableSnapshot => ({
  name: 'records_v1',
  rows: 500,
  fragments: 3,
  smallFragments: 3,
  version: 10,
  versions: versions(10),
  tags: [],
  indices: [{ name: 'text_idx', type: 'FTS', columns: ['text'], indexedRows: 500, unindexedRows: 0 }],
  ...over,
});
const input = (t: TableSnapshot | null, over: Partial<PolicyInput> = {}): PolicyInput => ({
  nowMs: NOW,
  table: t,
  serving: t ? { name: t.name, previous: null } : null,
  registry: [],
  storeTables: t ? [t.name] : [],
  ...over,
});
const kinds = (d: ReturnType<typeof decide>) => d.actions.map((a) => a.kind);
const reason = (d: ReturnType<typeof decide>, action: string) => d.reasons.find((r) => r.action === action)!;

describe('optimize policy', () => {
  it('does nothing on a healthy table and says why', () => {
    const d = decide(input(table()), opts);
    assert.deepEqual(kinds(d), []);
    assert.equal(d.touchesServing, false);
    assert.match(reason(d, 'compact').why, /3 small fragment\(s\) of 3; threshold 16/);
    assert.match(reason(d, 'prune').why, /0 of 10 version/);
    assert.match(reason(d, 'vector-index').why, /500 row\(s\) < annMinRows 10000/);
  });

  it('compacts once small fragments pass the threshold, and tags the result as a rollback point', () => {
    const d = decide(input(table({ fragments: 120, smallFragments: 120 })), opts);
    assert.deepEqual(kinds(d), ['optimize', 'tag-rollback-point']);
    const o = d.actions[0] as Extract<(typeof d.actions)[number], { kind: 'optimize' }>;
    assert.equal(o.compact, true);
    assert.equal(o.cleanupOlderThanMs, null);
    assert.equal(reason(d, 'compact').decision, 'do');
  });

  it('prunes versions older than the retention window, never the current one', () => {
    const d = decide(input(table({ versions: versions(200), version: 200 })), opts);
    const o = d.actions.find((a) => a.kind === 'optimize') as { cleanupOlderThanMs: number };
    assert.equal(o.cleanupOlderThanMs, NOW - 60_000);
    assert.match(reason(d, 'prune').why, /^139 of 200 version/);
  });

  it('a foreign tag bounds the prune cutoff (LanceDB refuses to prune a tagged version) and is never deleted', () => {
    const t = table({ versions: versions(200), version: 200, tags: [{ name: 'release-1', version: 50 }] });
    const d = decide(input(t), opts);
    const o = d.actions.find((a) => a.kind === 'optimize') as { cleanupOlderThanMs: number };
    const tagTs = t.versions[49]!.timestampMs;
    assert.equal(o.cleanupOlderThanMs, tagTs - 100);
    assert.match(reason(d, 'prune').why, /limited to versions before tag "release-1" \(v50\)/);
    assert.ok(!d.actions.some((a) => a.kind === 'delete-tags'));
  });

  it('rolls its own rollback tags: old ones are deleted before pruning, keepRollbackTags-1 are kept', () => {
    const tags = [
      { name: 'seamline-optimize-v20', version: 20 },
      { name: 'seamline-optimize-v90', version: 90 },
      { name: 'mine', version: 150 },
    ];
    const t = table({ versions: versions(200), version: 200, tags });
    const d1 = decide(input(t), opts);
    assert.deepEqual((d1.actions[0] as unknown as { names: string[] }).names.sort(), [
      'seamline-optimize-v20',
      'seamline-optimize-v90',
    ]);
    const d2 = decide(input(t), { ...opts, keepRollbackTags: 2 });
    assert.deepEqual((d2.actions[0] as unknown as { names: string[] }).names, ['seamline-optimize-v20']);
    const o2 = d2.actions.find((a) => a.kind === 'optimize') as { cleanupOlderThanMs: number };
    assert.equal(o2.cleanupOlderThanMs, t.versions[89]!.timestampMs - 100);
    const d0 = decide(input(t), { ...opts, keepRollbackTags: 0 });
    assert.ok(!kinds(d0).includes('tag-rollback-point'));
  });

  it('builds the ANN index past the row threshold, folds new rows into existing indexes, keeps FTS', () => {
    const big = decide(input(table({ rows: 20_000, indices: [] })), opts);
    assert.deepEqual(kinds(big), ['create-vector-index', 'create-fts-index']);
    assert.equal((big.actions[0] as { indexType: string }).indexType, 'hnsw_sq');
    const fold = decide(
      input(
        table({
          rows: 20_000,
          indices: [
            {
              name: 'vector_idx',
              type: 'IvfHnswSq',
              columns: ['vector'],
              indexedRows: 19_000,
              unindexedRows: 1000,
            },
            { name: 'text_idx', type: 'FTS', columns: ['text'], indexedRows: 20_000, unindexedRows: 0 },
          ],
        }),
      ),
      opts,
    );
    const o = fold.actions.find((a) => a.kind === 'optimize') as { foldIndexes: boolean; compact: boolean };
    assert.equal(o.foldIndexes, true);
    assert.equal(o.compact, false);
    assert.match(reason(fold, 'fold-indexes').why, /vector_idx: 1000 unindexed/);
    assert.ok(!kinds(fold).includes('create-vector-index'));
    const noFts = decide(input(table({ indices: [] })), { ...opts, ftsIndex: false });
    assert.ok(!kinds(noFts).includes('create-fts-index'));
  });

  it('rebuilds the vector index before compacting once it has maxIndexDeltas segments (LanceDB does not compact across deltas)', () => {
    const indices = (segments: number) => [
      {
        name: 'vector_idx',
        type: 'IvfHnswSq',
        columns: ['vector'],
        indexedRows: 20_000,
        unindexedRows: 0,
        segments,
      },
    ];
    const few = decide(input(table({ rows: 20_000, fragments: 7, smallFragments: 7, indices: indices(7) })), {
      ...opts,
      ftsIndex: false,
    });
    assert.deepEqual(kinds(few), []);
    const many = decide(
      input(table({ rows: 20_000, fragments: 8, smallFragments: 8, indices: indices(8) })),
      { ...opts, ftsIndex: false },
    );
    assert.deepEqual(kinds(many), ['create-vector-index', 'optimize', 'tag-rollback-point']);
    assert.equal((many.actions[1] as { compact: boolean }).compact, true);
    assert.match(reason(many, 'vector-index').why, /8 segments ≥ maxIndexDeltas 8: rebuild/);
  });

  it('drops retired tables past retention, never the serving table or its rollback target', () => {
    const t = table();
    const registry = [
      { name: 'records_v1', state: 'serving' as const, retiredAtMs: null, droppedAtMs: null },
      { name: 'old_prev', state: 'retired' as const, retiredAtMs: NOW - 10 * 3_600_000, droppedAtMs: null },
      { name: 'old_a', state: 'retired' as const, retiredAtMs: NOW - 2 * 3_600_000, droppedAtMs: null },
      { name: 'young', state: 'retired' as const, retiredAtMs: NOW - 60_000, droppedAtMs: null },
      { name: 'gone', state: 'retired' as const, retiredAtMs: NOW - 9 * 3_600_000, droppedAtMs: NOW - 1000 },
      { name: 'building', state: 'building' as const, retiredAtMs: null, droppedAtMs: null },
    ];
    const d = decide(
      input(t, {
        serving: { name: 'records_v1', previous: 'old_prev' },
        registry,
        storeTables: ['records_v1', 'old_prev', 'old_a', 'young', 'building'],
      }),
      opts,
    );
    assert.deepEqual(
      d.actions.filter((a) => a.kind === 'drop-table').map((a) => (a as { name: string }).name),
      ['old_a'],
    );
    assert.equal(d.touchesServing, false);
    assert.ok(
      d.reasons.some(
        (r) =>
          r.action === 'drop-table' &&
          r.decision === 'skip' &&
          /old_prev is the serving table or its rollback target/.test(r.why),
      ),
    );
  });

  it('with no serving table only considers retired tables', () => {
    const d = decide(input(null), opts);
    assert.deepEqual(d.actions, []);
  });
});
