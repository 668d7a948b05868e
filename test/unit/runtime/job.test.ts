import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { runJob, type JobHarnessOptions } from '../../../src/runtime/job.js';
import { FakeClock, flush } from '../../helpers/fake-clock.js';

/** Signals from an EventEmitter, exits recorded instead of ending the test process. */
const harness = (over: Partial<JobHarnessOptions> = {}) => {
  const signals = new EventEmitter();
  const exits: [NodeJS.Signals, number][] = [];
  const logs: Record<string, unknown>[] = [];
  const clock = new FakeClock();
  const opts: JobHarnessOptions = {
    name: 'job',
    logger: pino(
      { level: 'info' },
      { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) },
    ),
    deadlineMs: 5000,
    drainMessage: 'draining',
    clock,
    signals: signals,
    exit: (sig, code) => void exits.push([sig, code]),
    ...over,
  };
  const send = (sig: NodeJS.Signals) => signals.emit(sig, sig);
  return { signals, exits, logs, clock, opts, send };
};

describe('job harness (fake clock, fake signals)', () => {
  it('returns the job result and removes its handlers when no signal comes', async () => {
    const h = harness();
    assert.equal(await runJob(h.opts, () => Promise.resolve(7)), 7);
    assert.equal(h.signals.listenerCount('SIGTERM') + h.signals.listenerCount('SIGINT'), 0);
    assert.deepEqual(h.exits, []);
  });

  it('the first signal aborts the job signal (with its reason) and lets it drain; no exit', async () => {
    const h = harness({ abortReason: () => new Error('stop please') });
    let seen: unknown = null;
    const p = runJob(h.opts, async (signal) => {
      await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
      seen = signal.reason;
      await h.clock.sleep(1000); // drain: the batch in flight finishes
      return 0;
    });
    await flush();
    h.send('SIGTERM');
    assert.equal(await h.clock.run(p, 100), 0);
    assert.match(String(seen), /stop please/);
    assert.deepEqual(h.exits, [], 'drained inside the deadline: the command returns normally');
    assert.ok(h.logs.some((l) => l.event === 'job.draining' && l.signal === 'SIGTERM'));
    // The deadline timer is cancelled with the job: time passing later exits nothing.
    await h.clock.advance(60_000);
    assert.deepEqual(h.exits, []);
    assert.equal(h.clock.pending(), 0);
  });

  it('a second signal ends the process at once by that signal (fallback exit 130)', async () => {
    const h = harness();
    let release!: () => void;
    const p = runJob(h.opts, () => new Promise<number>((r) => (release = () => r(0))));
    await flush();
    h.send('SIGINT');
    assert.deepEqual(h.exits, []);
    h.send('SIGTERM');
    assert.deepEqual(h.exits, [['SIGTERM', 130]]);
    assert.ok(h.logs.some((l) => l.event === 'job.forced_exit'));
    release();
    await p;
  });

  it('a drain that outlives the deadline ends the process by the first signal exactly at the deadline (fallback exit 1)', async () => {
    const h = harness({ deadlineMs: 5000 });
    let release!: () => void;
    const p = runJob(h.opts, () => new Promise<number>((r) => (release = () => r(0))));
    await flush();
    h.send('SIGTERM');
    await h.clock.advance(4999);
    assert.deepEqual(h.exits, []);
    await h.clock.advance(1);
    assert.deepEqual(h.exits, [['SIGTERM', 1]]);
    assert.ok(h.logs.some((l) => l.event === 'job.deadline' && l.deadline_ms === 5000));
    release();
    await p;
  });

  it("the job's error is the command's; handlers are removed after it", async () => {
    const h = harness();
    await assert.rejects(
      runJob(h.opts, () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(h.signals.listenerCount('SIGTERM'), 0);
  });
});
