import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { openSqlite } from '../../../src/store/sqlite/db.js';
import { SqliteLeases } from '../../../src/store/sqlite/leases.js';
import { MaintenanceGate } from '../../../src/optimize/gate.js';
import { MaintenanceLease } from '../../../src/optimize/lease.js';
import { TABLE_WRITER_PREFIX } from '../../../src/processor/workers.js';
import { MAINTENANCE_ACK, MAINTENANCE_LEASE, WRITER_LEASE } from '../../../src/runtime/lock.js';
import { FakeClock } from '../../helpers/fake-clock.js';

// Time is a FakeClock: waits, pauses and renewals are exact, and no test sleeps for real.
const dir = mkdtempSync(path.join(tmpdir(), 'seamline-lease-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });
let n = 0;
const fresh = () => {
  const db = openSqlite(path.join(dir, `db${n++}.sqlite`), { synchronous: 'NORMAL', busyTimeoutMs: 2000 });
  return { db, leases: new SqliteLeases(db), clock: new FakeClock() };
};
const WRITER = `${hostname()}:${process.pid}`;
const OPT = `${hostname()}:${process.pid}:optimize`;

describe('maintenance lease and gate (fake clock)', () => {
  it('the gate is a no-op when no optimizer holds the lease', async () => {
    const { db, leases, clock } = fresh();
    const gate = new MaintenanceGate(leases, clock, log, { maxPauseMs: 1000, holder: WRITER });
    assert.equal(await gate.waitIfHeld(), 0);
    assert.equal(gate.stats().pauses, 0);
    assert.equal(clock.pending(), 0, 'the fast path never sleeps');
    db.close();
  });

  it('the writer pauses while the lease is held, acknowledges, and resumes on release', async () => {
    const { db, leases, clock } = fresh();
    await leases.tryAcquire(WRITER_LEASE, WRITER, 30_000, clock.nowMs());
    const lease = (await MaintenanceLease.acquire(leases, clock, {
      ttlMs: 5000,
      drainWaitMs: 2000,
      holder: OPT,
    }))!;
    assert.ok(lease);
    // A second optimizer cannot take it.
    assert.equal(
      await MaintenanceLease.acquire(leases, clock, { ttlMs: 5000, drainWaitMs: 2000, holder: `${OPT}2` }),
      null,
    );
    const gate = new MaintenanceGate(leases, clock, log, { maxPauseMs: 5000, pollMs: 20, holder: WRITER });
    const start = clock.nowMs();
    const waiting = gate.waitIfHeld();
    const pause = await clock.run(lease.waitForWriterPause(), 10);
    assert.equal(pause.quiet, true);
    assert.equal(pause.writer, WRITER);
    assert.equal((await leases.liveHolder(MAINTENANCE_ACK, clock.nowMs()))?.holder, WRITER);
    await clock.advance(300);
    assert.equal(gate.stats().pauses, 0, 'still paused while the lease is held');
    const heldFor = clock.nowMs() - start;
    assert.ok(heldFor >= 300);
    await lease.release();
    const waited = await clock.run(waiting, 10);
    // The gate notices the release at its next poll (every 20 ms).
    assert.ok(waited >= heldFor && waited <= heldFor + 20, `paused ${waited} ms, held ${heldFor} ms`);
    assert.equal(await leases.liveHolder(MAINTENANCE_ACK, clock.nowMs()), null, 'ack removed on resume');
    assert.equal(await leases.liveHolder(MAINTENANCE_LEASE, clock.nowMs()), null);
    db.close();
  });

  it('the pause is bounded: the writer resumes after maxPauseMs even if the lease is still held', async () => {
    const { db, leases, clock } = fresh();
    const lease = (await MaintenanceLease.acquire(leases, clock, {
      ttlMs: 10_000,
      drainWaitMs: 1000,
      holder: OPT,
    }))!;
    const gate = new MaintenanceGate(leases, clock, log, { maxPauseMs: 300, pollMs: 20, holder: WRITER });
    const waited = await clock.run(gate.waitIfHeld(), 5);
    assert.equal(waited, 300, `paused ${waited} ms`);
    assert.equal(gate.stats().timeouts, 1);
    await lease.release();
    db.close();
  });

  it('without a writer the optimizer does not wait; with a silent writer it waits at most drainWaitMs', async () => {
    const { db, leases, clock } = fresh();
    const lease = (await MaintenanceLease.acquire(leases, clock, {
      ttlMs: 10_000,
      drainWaitMs: 200,
      pollMs: 20,
      holder: OPT,
    }))!;
    assert.equal((await lease.waitForWriterPause()).quiet, true);
    await leases.tryAcquire(WRITER_LEASE, WRITER, 30_000, clock.nowMs());
    const p = await clock.run(lease.waitForWriterPause(), 5);
    assert.equal(p.quiet, false);
    assert.equal(p.waitedMs, 200);
    await lease.release();
    db.close();
  });

  it('several workers (no single writer): the optimizer waits for the table-writer lease of the table it maintains to be free, at most drainWaitMs', async () => {
    const { db, leases, clock } = fresh();
    const lease = (await MaintenanceLease.acquire(leases, clock, {
      ttlMs: 10_000,
      drainWaitMs: 1000,
      pollMs: 20,
      holder: OPT,
    }))!;
    // A worker merging into another table does not hold this one up.
    await leases.tryAcquire(`${TABLE_WRITER_PREFIX}other_v1`, 'w1:1', 30_000, clock.nowMs());
    assert.equal((await lease.waitForWriterPause(undefined, 'records_v1')).quiet, true);
    // A worker mid-merge on this table: wait for it (its rewrite, begun before the window, must land first).
    await leases.tryAcquire(`${TABLE_WRITER_PREFIX}records_v1`, 'w2:2', 30_000, clock.nowMs());
    const waiting = lease.waitForWriterPause(undefined, 'records_v1');
    await clock.advance(100);
    await leases.release(`${TABLE_WRITER_PREFIX}records_v1`, 'w2:2');
    const p = await clock.run(waiting, 20);
    assert.equal(p.quiet, true);
    assert.ok(p.waitedMs >= 100 && p.waitedMs < 1000, `waited ${p.waitedMs} ms`);
    // A worker that keeps the table lease: bounded by drainWaitMs, then not quiet.
    await leases.tryAcquire(`${TABLE_WRITER_PREFIX}records_v1`, 'w3:3', 30_000, clock.nowMs());
    const stuck = await clock.run(lease.waitForWriterPause(undefined, 'records_v1'), 20);
    assert.equal(stuck.quiet, false);
    assert.equal(stuck.writer, 'w3:3');
    assert.equal(stuck.waitedMs, 1000);
    await lease.release();
    db.close();
  });

  it('the lease renews itself every ttl/3 on the clock while held, and stops renewing once released', async () => {
    const { db, leases, clock } = fresh();
    const t0 = clock.nowMs();
    const lease = (await MaintenanceLease.acquire(leases, clock, {
      ttlMs: 3000,
      drainWaitMs: 100,
      holder: OPT,
    }))!;
    assert.equal((await leases.holder(MAINTENANCE_LEASE, clock.nowMs()))?.expiresAtMs, t0 + 3000);
    // Far past the ttl: only the renewals keep it alive.
    await clock.advance(10_000);
    const h = await leases.holder(MAINTENANCE_LEASE, clock.nowMs());
    assert.equal(h?.holder, OPT);
    assert.equal(h?.expiresAtMs, t0 + 10_000 + 3000, 'renewed every 1000 ms, last at t0 + 10 000');
    assert.equal(lease.lost, false);
    await lease.release();
    assert.equal(clock.pending(), 0, 'release stops the renewal loop');
    db.close();
  });

  it("a crashed optimizer's lease blocks nobody: a dead holder or an expired lease is free", async () => {
    const { db, leases, clock } = fresh();
    // pid 2^22+1 exceeds Linux pid_max defaults: never alive.
    db.prepare('INSERT INTO leases (name, holder, expires_at_ms) VALUES (?, ?, ?)').run(
      MAINTENANCE_LEASE,
      `${hostname()}:4194305:optimize`,
      clock.nowMs() + 60_000,
    );
    const gate = new MaintenanceGate(leases, clock, log, { maxPauseMs: 5000, holder: WRITER });
    assert.equal(await gate.waitIfHeld(), 0);
    const l = await MaintenanceLease.acquire(leases, clock, { ttlMs: 5000, drainWaitMs: 100, holder: OPT });
    assert.ok(l, 'a new optimizer takes over the dead one');
    await l.release();
    db.prepare('INSERT INTO leases (name, holder, expires_at_ms) VALUES (?, ?, ?)').run(
      MAINTENANCE_LEASE,
      'otherhost:1:optimize',
      clock.nowMs() - 1,
    );
    assert.equal(await gate.waitIfHeld(), 0);
    db.close();
  });

  it('renew notices a lost lease; the optimizer then gives up', async () => {
    const { db, leases, clock } = fresh();
    const lease = (await MaintenanceLease.acquire(leases, clock, {
      ttlMs: 60,
      drainWaitMs: 100,
      holder: OPT,
    }))!;
    assert.equal(await lease.renew(), true);
    // Simulate a stall past the ttl (the loop cannot renew a lease that already expired) and a takeover.
    db.prepare('UPDATE leases SET expires_at_ms = ? WHERE name = ?').run(
      clock.nowMs() - 1,
      MAINTENANCE_LEASE,
    );
    assert.ok(await leases.tryAcquire(MAINTENANCE_LEASE, 'otherhost:7:optimize', 10_000, clock.nowMs()));
    assert.equal(await lease.renew(), false);
    assert.equal(lease.lost, true);
    await lease.release();
    assert.equal(
      (await leases.liveHolder(MAINTENANCE_LEASE, clock.nowMs()))?.holder,
      'otherhost:7:optimize',
      'release never deletes a lease it lost',
    );
    db.close();
  });
});
