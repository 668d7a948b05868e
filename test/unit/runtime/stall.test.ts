import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeamlineError } from '../../../src/errors/errors.js';
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  LaneHealth,
  type RetryPolicy,
} from '../../../src/runtime/stall.js';

const P: RetryPolicy = { baseMs: 100, maxMs: 1_000, jitter: 0.5, stallAfterFailures: 3 };

class FakeClock {
  t = 1_000_000;
  nowMs(): number {
    return this.t;
  }
  sleep(): Promise<void> {
    return Promise.resolve();
  }
}

describe('backoffDelayMs (pure)', () => {
  it('doubles from baseMs, caps at maxMs, and jitters only the configured fraction', () => {
    const lo = (a: number) => backoffDelayMs(a, P, () => 0);
    const hi = (a: number) => backoffDelayMs(a, P, () => 0.999999);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(lo), [50, 100, 200, 400, 500, 500]);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(hi), [100, 200, 400, 800, 1000, 1000]);
    assert.equal(
      backoffDelayMs(3, { ...P, jitter: 0 }, () => 0.7),
      400,
    );
    assert.equal(
      backoffDelayMs(1000, P, () => 0.5),
      750,
      'huge attempt counts stay capped, no overflow',
    );
  });

  it('spreads retries: different random draws give different delays inside the window', () => {
    const seen = new Set([0.1, 0.3, 0.6, 0.9].map((r) => backoffDelayMs(3, P, () => r)));
    assert.equal(seen.size, 4);
    for (const d of seen) assert.ok(d >= 200 && d <= 400);
  });
});

describe('LaneHealth (fake clock)', () => {
  const busy = () => new SeamlineError('DB_BUSY', 'database is locked');

  it('retries a retryable error with growing delays and stalls after stallAfterFailures; success closes the stall', () => {
    const clock = new FakeClock();
    const h = new LaneHealth('processor', P, clock, () => 0);
    const v1 = h.failure(busy());
    assert.equal(v1.kind, 'retry');
    assert.equal(v1.delayMs, 50);
    assert.equal(h.current(), null, 'one failure is not a stall');
    clock.t += 50;
    assert.equal(h.failure(busy()).delayMs, 100);
    clock.t += 100;
    const v3 = h.failure(busy());
    assert.equal(v3.kind, 'retry');
    assert.equal(v3.delayMs, 200);
    assert.equal(v3.opened, true);
    assert.deepEqual(
      { ...h.current()!, message: '' },
      { lane: 'processor', code: 'DB_BUSY', message: '', sinceMs: 1_000_000, failures: 3, halted: false },
    );
    assert.equal(h.failure(busy()).opened, false, 'the same stall is not opened twice');
    const ended = h.success();
    assert.equal(ended?.sinceMs, 1_000_000);
    assert.equal(h.current(), null);
    assert.equal(h.failure(busy()).delayMs, 50, 'the count restarts after a success');
  });

  it('a full disk is a stall from the first failure, still retried with backoff', () => {
    const h = new LaneHealth('landing', P, new FakeClock(), () => 0);
    const v = h.failure(new SeamlineError('DISK_FULL', 'no space'));
    assert.equal(v.kind, 'retry');
    assert.equal(v.opened, true);
    assert.equal(h.current()?.code, 'DISK_FULL');
  });

  it('a non-retryable error halts that work at once, says why, and waits maxMs before looking again', () => {
    const h = new LaneHealth('processor', P, new FakeClock(), () => 0);
    const v = h.failure(new SeamlineError('MERGE_MISMATCH', 'merge changed 3 rows, planned 2'));
    assert.equal(v.kind, 'halt');
    assert.equal(v.delayMs, 1_000);
    assert.equal(v.stall.halted, true);
    assert.match(v.stall.message, /planned 2/);
    const raw = h.failure(new TypeError('x is undefined'));
    assert.equal(raw.kind, 'halt', 'an unclassified error is INTERNAL, not retried blindly');
    assert.equal(raw.stall.code, 'INTERNAL');
  });

  it('honours the registry verdict: the old loop retried everything but LOCKED once a second', () => {
    const h = new LaneHealth('x', DEFAULT_RETRY_POLICY, new FakeClock(), () => 0.5);
    const store = h.failure(new SeamlineError('STORE_FAILED', 'io'));
    assert.equal(store.kind, 'retry');
    const notRetryable = h.failure(new SeamlineError('STORE_FAILED', 'corrupt', { retryable: false }));
    assert.equal(notRetryable.kind, 'halt');
  });
});
