import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NAMED_POINTS, runHarness, totalViolations } from '../crash/harness.js';

// The CI part of the crash harness (test/crash/harness.ts); `npm run test:crash -- --cycles 1000` runs more.
describe('processor: exactly-once effect under SIGKILL (crash harness, subprocess CLI)', () => {
  it(
    'both lanes busy (live drops + backfills), ≥ 50 kill cycles at every named fault point, at random times and in the daemon: 0 lost, 0 duplicate, 0 stale, 0 unexpected',
    { timeout: 420_000 },
    async (t) => {
      const r = await runHarness({ seed: 20260301, maxCycles: 100, minKills: 50 });
      t.diagnostic(
        `cycles ${r.cycles}, kills ${r.kills}, batches by lane ${JSON.stringify(r.violations.lanes)}, tail losses ${r.tailLosses}, files ${r.files}, records ${r.records}, ${Math.round(r.ms / 1000)} s; kills by mode ${JSON.stringify(r.killsByMode)}`,
      );
      assert.deepEqual(r.errors, [], 'no run failed other than by SIGKILL');
      assert.equal(
        totalViolations(r.violations),
        0,
        `oracle violations: ${JSON.stringify(r.violations, null, 1)}`,
      );
      assert.ok(r.kills >= 50, `only ${r.kills} kill cycles`);
      // Both lanes busy: live drops and backfills sliced by the backlog lane, committed in interleaved order.
      assert.ok((r.violations.lanes.live ?? 0) > 0, `no live batch: ${JSON.stringify(r.violations.lanes)}`);
      assert.ok(
        (r.violations.lanes.backlog ?? 0) > 0,
        `no backlog batch: ${JSON.stringify(r.violations.lanes)}`,
      );
      for (const p of NAMED_POINTS)
        assert.ok((r.killsByMode[p] ?? 0) >= 1, `never killed at ${p}: ${JSON.stringify(r.killsByMode)}`);
      assert.ok(
        (r.killsByMode['random-kill'] ?? 0) + (r.killsByMode['daemon-kill'] ?? 0) >= 1,
        'killed at random times too',
      );
    },
  );

  for (const unsafe of ['no-guard', 'no-dedupe'] as const) {
    it(
      `catches a broken pipeline: SEAMLINE_UNSAFE=${unsafe} makes the oracle report violations`,
      { timeout: 180_000 },
      async (t) => {
        const r = await runHarness({ seed: 11, maxCycles: 5, unsafe, noKills: true });
        t.diagnostic(
          `${unsafe}: ${JSON.stringify({ ...r.violations, examples: r.violations.examples.slice(0, 3) })}`,
        );
        assert.ok(totalViolations(r.violations) > 0, `the oracle found nothing wrong with ${unsafe}`);
        if (unsafe === 'no-guard')
          assert.ok(
            r.violations.stale + r.violations.lost > 0,
            'a lower version won or a batch never published',
          );
        else
          assert.ok(
            r.violations.duplicate + r.violations.stale + r.violations.lost > 0,
            'duplicates or stale rows',
          );
      },
    );
  }
});
