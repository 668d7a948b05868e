import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { openSqlite } from '../../../src/store/sqlite/db.js';
import { MaintenanceGate } from '../../../src/optimize/gate.js';
import { MaintenanceLease } from '../../../src/optimize/lease.js';
import { systemClock } from '../../../src/ports/clock.js';
import { Leases, MAINTENANCE_ACK, MAINTENANCE_LEASE, WRITER_LEASE } from '../../../src/runtime/lock.js';

const dir = mkdtempSync(path.join(tmpdir(), 'seamline-lease-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });
let n = 0;
const fresh = () => {
  const db = openSqlite(path.join(dir, `db${n++}.sqlite`), { synchronous: 'NORMAL', busyTimeoutMs: 2000 });
  return { db, leases: new Leases(db) };
};
const WRITER = `${hostname()}:${process.pid}`;
const OPT = `${hostname()}:${process.pid}:optimize`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('maintenance lease and gate', () => {
  it('the gate is a no-op when no optimizer holds the lease', async () => {
    const { db, leases } = fresh();
    const gate = new MaintenanceGate(leases, systemClock, log, { maxPauseMs: 1000, holder: WRITER });
    assert.equal(await gate.waitIfHeld(), 0);
    assert.equal(gate.stats().pauses, 0);
    db.close();
  });

  it('the writer pauses while the lease is held, acknowledges, and resumes on release', async () => {
    const { db, leases } = fresh();
    leases.tryAcquire(WRITER_LEASE, WRITER, 30_000, Date.now());
    const lease = MaintenanceLease.acquire(leases, systemClock, {
      ttlMs: 5000,
      drainWaitMs: 2000,
      holder: OPT,
    })!;
    assert.ok(lease);
    // A second optimizer cannot take it.
    assert.equal(
      MaintenanceLease.acquire(leases, systemClock, { ttlMs: 5000, drainWaitMs: 2000, holder: `${OPT}2` }),
      null,
    );
    const gate = new MaintenanceGate(leases, systemClock, log, {
      maxPauseMs: 5000,
      pollMs: 20,
      holder: WRITER,
    });
    const waiting = gate.waitIfHeld();
    const pause = await lease.waitForWriterPause();
    assert.equal(pause.quiet, true);
    assert.equal(pause.writer, WRITER);
    assert.equal(leases.liveHolder(MAINTENANCE_ACK, Date.now())?.holder, WRITER);
    await sleep(300);
    lease.release();
    const waited = await waiting;
    assert.ok(waited >= 250 && waited < 2000, `paused ${waited} ms`);
    assert.equal(leases.liveHolder(MAINTENANCE_ACK, Date.now()), null, 'ack removed on resume');
    assert.equal(leases.liveHolder(MAINTENANCE_LEASE, Date.now()), null);
    db.close();
  });

  it('the pause is bounded: the writer resumes after maxPauseMs even if the lease is still held', async () => {
    const { db, leases } = fresh();
    const lease = MaintenanceLease.acquire(leases, systemClock, {
      ttlMs: 10_000,
      drainWaitMs: 1000,
      holder: OPT,
    })!;
    const gate = new MaintenanceGate(leases, systemClock, log, {
      maxPauseMs: 300,
      pollMs: 20,
      holder: WRITER,
    });
    const waited = await gate.waitIfHeld();
    assert.ok(waited >= 300 && waited < 1000, `paused ${waited} ms`);
    assert.equal(gate.stats().timeouts, 1);
    lease.release();
    db.close();
  });

  it('without a writer the optimizer does not wait; with a silent writer it waits at most drainWaitMs', async () => {
    const { db, leases } = fresh();
    const lease = MaintenanceLease.acquire(leases, systemClock, {
      ttlMs: 10_000,
      drainWaitMs: 200,
      pollMs: 20,
      holder: OPT,
    })!;
    assert.equal((await lease.waitForWriterPause()).quiet, true);
    leases.tryAcquire(WRITER_LEASE, WRITER, 30_000, Date.now());
    const p = await lease.waitForWriterPause();
    assert.equal(p.quiet, false);
    assert.ok(p.waitedMs >= 200 && p.waitedMs < 1500);
    lease.release();
    db.close();
  });

  it("a crashed optimizer's lease blocks nobody: a dead holder or an expired lease is free", async () => {
    const { db, leases } = fresh();
    // pid 2^22+1 exceeds Linux pid_max defaults: never alive.
    db.prepare('INSERT INTO leases (name, holder, expires_at_ms) VALUES (?, ?, ?)').run(
      MAINTENANCE_LEASE,
      `${hostname()}:4194305:optimize`,
      Date.now() + 60_000,
    );
    const gate = new MaintenanceGate(leases, systemClock, log, { maxPauseMs: 5000, holder: WRITER });
    assert.equal(await gate.waitIfHeld(), 0);
    const l = MaintenanceLease.acquire(leases, systemClock, { ttlMs: 5000, drainWaitMs: 100, holder: OPT });
    assert.ok(l, 'a new optimizer takes over the dead one');
    l.release();
    db.prepare('INSERT INTO leases (name, holder, expires_at_ms) VALUES (?, ?, ?)').run(
      MAINTENANCE_LEASE,
      'otherhost:1:optimize',
      Date.now() - 1,
    );
    assert.equal(await gate.waitIfHeld(), 0);
    db.close();
  });

  it('renew notices a lost lease; the optimizer then gives up', () => {
    const { db, leases } = fresh();
    const lease = MaintenanceLease.acquire(leases, systemClock, {
      ttlMs: 60,
      drainWaitMs: 100,
      holder: OPT,
    })!;
    assert.equal(lease.renew(), true);
    // Simulate a stall past the ttl (the timer cannot renew a lease that already expired) and a takeover.
    db.prepare('UPDATE leases SET expires_at_ms = ? WHERE name = ?').run(Date.now() - 1, MAINTENANCE_LEASE);
    assert.ok(leases.tryAcquire(MAINTENANCE_LEASE, 'otherhost:7:optimize', 10_000, Date.now()));
    assert.equal(lease.renew(), false);
    assert.equal(lease.lost, true);
    lease.release();
    assert.equal(
      leases.liveHolder(MAINTENANCE_LEASE, Date.now())?.holder,
      'otherhost:7:optimize',
      'release never deletes a lease it lost',
    );
    db.close();
  });
});
