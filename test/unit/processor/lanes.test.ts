import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BacklogPacer,
  BatchSizer,
  classifyFile,
  completeAtMs,
  type BacklogRules,
  type LaneRules,
} from '../../../src/processor/lanes.js';

const rules: LaneRules = {
  liveMaxFileRecords: 100,
  liveMaxAgeMs: 30_000,
  liveMaxQueuedRecords: 150,
  startupToBacklog: true,
};
const ctx = { nowMs: 100_000, startedAtMs: 50_000, liveQueuedRecords: 0 };
const box: BacklogRules = {
  timeBoxMs: 250,
  initialRecords: 32,
  minRecords: 8,
  maxRecords: 2000,
  maxRecordsPerSecond: 0,
  maxShare: 1,
  maxWaitMs: 10_000,
};

describe('lanes: classification (pure)', () => {
  it('a small, fresh file is live; large, old, found at start-up and burst files go to the backlog', () => {
    const f = { records: 10, completeAtMs: 99_000, mtimeMs: 99_000 };
    assert.deepEqual(classifyFile(f, rules, ctx), { lane: 'live', reason: 'fresh' });
    assert.deepEqual(classifyFile({ ...f, records: 101 }, rules, ctx), { lane: 'backlog', reason: 'large' });
    assert.deepEqual(classifyFile({ ...f, mtimeMs: 49_999 }, rules, ctx), {
      lane: 'backlog',
      reason: 'startup',
    });
    assert.deepEqual(
      classifyFile({ ...f, mtimeMs: 49_999 }, { ...rules, startupToBacklog: false }, ctx).lane,
      'live',
    );
    assert.deepEqual(classifyFile({ ...f, completeAtMs: 69_999 }, rules, ctx), {
      lane: 'backlog',
      reason: 'old',
    });
    assert.deepEqual(classifyFile(f, rules, { ...ctx, liveQueuedRecords: 141 }), {
      lane: 'backlog',
      reason: 'burst',
    });
    assert.deepEqual(classifyFile({ ...f, records: 0 }, rules, ctx), { lane: 'live', reason: 'empty' });
  });

  it('complete time is the mtime when plausible, else when landing started', () => {
    assert.equal(completeAtMs(9_000, 10_000, 30_000), 9_000);
    assert.equal(completeAtMs(11_000, 10_000, 30_000), 10_000, 'an mtime after landing started is not it');
    assert.equal(completeAtMs(1, 10_000, 5_000), 10_000, 'a copied file carries any old mtime');
  });
});

describe('lanes: the backlog time box (pure)', () => {
  it('starts at initialRecords, then sizes batches to embed for about timeBoxMs', () => {
    const s = new BatchSizer(box);
    assert.equal(s.next(), 32);
    s.observe(32, 32, 100); // 0.32 records/ms → 80 records in 250 ms, but at most 2× the last batch
    assert.equal(s.next(), 64);
    assert.equal(s.next(), 80);
    s.observe(80, 80, 500); // slower texts: 0.16/ms; smoothed 0.7·0.32 + 0.3·0.16 = 0.272 → 68
    assert.equal(s.next(), 68);
    assert.equal(Math.round(s.recordsPerSecond()!), 272);
  });

  it('ignores batches that embedded nothing and clamps to [minRecords, maxRecords]', () => {
    const s = new BatchSizer({ ...box, maxRecords: 50 });
    s.observe(1000, 0, 1);
    assert.equal(s.next(), 32, 'a batch of reused vectors says nothing about the embedder');
    s.observe(10, 10, 1000); // 0.01/ms → 2.5 records → minRecords
    assert.equal(s.next(), 8);
    for (let i = 0; i < 20; i++) s.observe(100, 100, 10);
    for (let i = 0; i < 10; i++) s.next();
    assert.equal(s.next(), 50);
  });

  it('a fast model whose batches embed in under 5 ms still grows its batches (5 ms is a lower bound on the rate)', () => {
    // The CI failure: glove batches of 32 records embedded in 1-4 ms were all ignored, so a one-shot
    // ingest of 1200 records ran 14 batches of 32 instead of growing 32, 64, 128, ...
    const s = new BatchSizer({ ...box, timeBoxMs: 5000 });
    const sizes: number[] = [];
    for (let left = 1200; left > 0;) {
      const n = Math.min(s.next(), left);
      sizes.push(n);
      s.observe(n, n, 1); // every batch well under 5 ms
      left -= n;
    }
    assert.deepEqual(sizes, [32, 64, 128, 256, 512, 208]);
    // The same fast batches under a 1 ms box: at most records/5 per ms → the batch stays at minRecords.
    const d = new BatchSizer({ ...box, timeBoxMs: 1 });
    d.observe(32, 32, 1);
    assert.equal(d.next(), 8);
    d.observe(8, 8, 0);
    assert.equal(d.next(), 8);
  });
});

describe('lanes: the backlog throughput cap (pure)', () => {
  it('share cap: after a backlog batch of d ms the lane rests d·(1−share)/share ms', () => {
    const p = new BacklogPacer({ ...box, maxShare: 0.8 });
    assert.equal(p.waitMs(0), 0);
    p.done(50, 400, 1000);
    assert.equal(p.waitMs(1000), 100);
    assert.equal(p.waitMs(1060), 40);
    assert.equal(p.waitMs(1100), 0);
  });

  it('records cap: a token bucket of maxRecordsPerSecond', () => {
    const p = new BacklogPacer({ ...box, maxRecordsPerSecond: 100 });
    assert.equal(p.waitMs(0), 0);
    p.done(300, 10, 0); // 100 tokens − 300 = −200 → 2 s
    assert.equal(p.waitMs(0), 2000);
    assert.equal(p.waitMs(1500), 500);
    assert.equal(p.waitMs(2000), 0);
  });

  it('no cap (share 1, no records cap): never waits', () => {
    const p = new BacklogPacer(box);
    p.done(10_000, 5000, 0);
    assert.equal(p.waitMs(0), 0);
  });
});
