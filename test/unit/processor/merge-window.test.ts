import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { MaintenanceLease } from '../../../src/optimize/lease.js';
import { MergeWindow, mergeKindOf } from '../../../src/processor/merge-window.js';
import { MAINTENANCE_ACK, WRITER_LEASE } from '../../../src/runtime/lock.js';
import { openSqlite } from '../../../src/store/sqlite/db.js';
import { SqliteLeases } from '../../../src/store/sqlite/leases.js';
import { FakeClock } from '../../helpers/fake-clock.js';

// The writer's side of the maintenance window, per merge (docs/decisions/processor-merge-window.md).
// Time is a FakeClock over real SQLite leases: waits and bounds are exact, nothing sleeps for real.
const dir = mkdtempSync(path.join(tmpdir(), 'seamline-merge-window-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });
let n = 0;
const WRITER = `${hostname()}:${process.pid}`;
const OPT = `${hostname()}:${process.pid}:optimize`;

async function setup(maxPauseMs = 5000) {
  const db = openSqlite(path.join(dir, `db${n++}.sqlite`), { synchronous: 'NORMAL', busyTimeoutMs: 2000 });
  const leases = new SqliteLeases(db);
  const clock = new FakeClock();
  await leases.tryAcquire(WRITER_LEASE, WRITER, 30_000, clock.nowMs());
  const window = new MergeWindow(leases, clock, log, { maxPauseMs, pollMs: 20, holder: WRITER });
  const takeLease = async () =>
    (await MaintenanceLease.acquire(leases, clock, { ttlMs: 60_000, drainWaitMs: 2000, holder: OPT }))!;
  const ack = async () => (await leases.liveHolder(MAINTENANCE_ACK, clock.nowMs()))?.holder ?? null;
  return { db, leases, clock, window, takeLease, ack };
}

describe('merge kind (pure)', () => {
  it('only a merge that neither updates nor deletes rows is an append', () => {
    assert.equal(mergeKindOf({ updated: 0, deleted: 0 }, 0), 'append');
    assert.equal(mergeKindOf({ updated: 1, deleted: 0 }, 0), 'rewrite');
    assert.equal(mergeKindOf({ updated: 0, deleted: 2 }, 0), 'rewrite');
    assert.equal(
      mergeKindOf({ updated: 0, deleted: 0 }, 1),
      'rewrite',
      'ids losing chunks are a delete scope',
    );
  });
});

describe('merge window (fake clock, real SQLite leases)', () => {
  it('no window: appends and rewrites go ahead at once and never sleep', async () => {
    const { db, clock, window, ack } = await setup();
    assert.equal(await window.between(), false);
    assert.equal(await window.beforeMerge('append'), 0);
    assert.equal(await window.beforeMerge('rewrite'), 0);
    assert.equal(clock.pending(), 0);
    assert.equal(await ack(), null);
    db.close();
  });

  it('while the optimize job holds the lease, appends go ahead and acknowledge it; the optimizer sees the ack', async () => {
    const { db, clock, window, takeLease, ack } = await setup();
    const lease = await takeLease();
    const drain = lease.waitForWriterPause();
    assert.equal(await window.between(), true, 'the window is seen between batches');
    const pause = await clock.run(drain, 10);
    assert.equal(pause.quiet, true, 'the optimizer starts once the writer acknowledged');
    const sleeping = clock.pending(); // the lease's own renewal loop
    for (let i = 0; i < 3; i++) assert.equal(await window.beforeMerge('append'), 0);
    assert.equal(clock.pending(), sleeping, 'an append never waits for the window');
    assert.equal(await ack(), WRITER);
    assert.equal(window.stats().appendsInWindow, 3);
    await lease.release();
    assert.equal(await window.between(), false);
    assert.equal(await ack(), null, 'the ack goes when the window has closed');
    assert.equal(window.stats().windows, 1);
    db.close();
  });

  it('a rewrite waits until the lease is released, holding the ack while it waits and dropping it before it merges', async () => {
    const { db, clock, window, takeLease, ack } = await setup();
    const lease = await takeLease();
    await window.between();
    let done = false;
    const waiting = window.beforeMerge('rewrite').then((ms) => {
      done = true;
      return ms;
    });
    await clock.advance(500);
    assert.equal(done, false, 'still waiting while the lease is held');
    assert.equal(await ack(), WRITER, 'acknowledged while waiting');
    // Appends of other callers are not what this test is about; the lease goes after 500 ms.
    await lease.release();
    const waited = await clock.run(waiting, 5);
    assert.ok(waited >= 500 && waited <= 520, `waited ${waited} ms`);
    assert.equal(await ack(), null, 'no ack left once the rewrite may merge');
    assert.equal(window.stats().rewriteWaits, 1);
    db.close();
  });

  it('the wait of a rewrite is bounded by maxPauseMs', async () => {
    const { db, clock, window, takeLease } = await setup(300);
    await takeLease();
    const waited = await clock.run(window.beforeMerge('rewrite'), 5);
    assert.equal(waited, 300);
    assert.equal(window.stats().timeouts, 1);
    db.close();
  });

  it('a stop while a rewrite waits ends it with ABORTED (the batch is not merged and runs again)', async () => {
    const db = openSqlite(path.join(dir, `db${n++}.sqlite`), { synchronous: 'NORMAL', busyTimeoutMs: 2000 });
    const leases = new SqliteLeases(db);
    const clock = new FakeClock();
    const stop = new AbortController();
    const window = new MergeWindow(leases, clock, log, {
      maxPauseMs: 60_000,
      pollMs: 20,
      holder: WRITER,
      stop: stop.signal,
    });
    await MaintenanceLease.acquire(leases, clock, { ttlMs: 60_000, drainWaitMs: 10, holder: OPT });
    const waiting = window.beforeMerge('rewrite');
    await clock.advance(100);
    stop.abort();
    await assert.rejects(clock.run(waiting, 5), (e: Error & { code?: string }) => e.code === 'ABORTED');
    db.close();
  });
});
