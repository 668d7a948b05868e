import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../../src/config/load.js';
import { runOptimizeJob } from '../../../src/optimize/job.js';
import type { OptimizerDeps } from '../../../src/optimize/optimizer.js';
import type { LeaseStore } from '../../../src/ports/leases.js';
import type { OptimizeRunRecord, OptimizeRunStore, RunFields } from '../../../src/ports/optimize-runs.js';
import type { VectorStore } from '../../../src/ports/vector-store.js';
import { FakeClock, flush } from '../../helpers/fake-clock.js';

/** optimize_runs in memory. */
class FakeRuns implements OptimizeRunStore {
  rows = new Map<string, OptimizeRunRecord>();
  begin(runId: string, startedAtMs: number) {
    this.rows.set(runId, {
      runId,
      startedAtMs,
      status: 'running',
      actions: [],
    } as unknown as OptimizeRunRecord);
    return Promise.resolve();
  }
  update(runId: string, f: RunFields) {
    this.rows.set(runId, { ...this.rows.get(runId)!, ...f });
    return Promise.resolve();
  }
  get(runId: string) {
    return Promise.resolve(this.rows.get(runId) ?? null);
  }
  registry() {
    return Promise.resolve([]);
  }
  markDropped() {
    return Promise.resolve();
  }
}

describe('optimize job loop (fake clock; nothing serving, so every pass is a no-op)', () => {
  it('runs a pass every intervalMs of clock time and stops at once on abort', async () => {
    const clock = new FakeClock();
    const runs = new FakeRuns();
    const deps: OptimizerDeps = {
      runs,
      leases: {} as LeaseStore,
      tables: { serving: () => Promise.resolve(null) },
      store: { listTables: () => Promise.resolve([]) } as unknown as VectorStore,
      clock,
      logger: pino({ level: 'silent' }),
    };
    const o = { ...loadConfig({ env: {}, values: {} }).optimize, intervalMs: 60_000 };
    const ctl = new AbortController();
    const passes: number[] = [];
    const job = runOptimizeJob(deps, o, ctl.signal, () => passes.push(clock.nowMs()));
    await flush();
    const t0 = clock.nowMs();
    assert.deepEqual(passes, [t0], 'the first pass runs at once');
    await clock.advance(59_999);
    assert.equal(passes.length, 1);
    await clock.advance(1);
    await clock.advance(120_000);
    assert.deepEqual(passes, [t0, t0 + 60_000, t0 + 120_000, t0 + 180_000]);
    ctl.abort();
    const s = await job;
    assert.equal(s.passes, 4);
    assert.deepEqual(s.byStatus, { noop: 4 });
    assert.equal(clock.pending(), 0);
    assert.ok([...runs.rows.values()].every((r) => r.status === 'noop'));
  });
});
