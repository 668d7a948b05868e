import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runHarness, totalViolations } from '../crash/harness.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/postgres.js';

// The crash harness with TWO workers per cycle on PostgreSQL (issue 16), CI-sized: every cycle runs two
// real CLI processes on one fresh database and one shared data folder; a fault point or a random SIGKILL
// hits either of them while the other runs on. `npm run test:crash -- --postgres --cycles 200` runs more
// (docs/testing.md). Without a PostgreSQL server this FAILS (scratchDatabase throws), never skips.
describe('processor on PostgreSQL with 2 workers: exactly-once effect under SIGKILL of either (crash harness)', () => {
  const dbs: ScratchDatabase[] = [];
  after(async () => {
    for (const d of dbs) await d.drop();
  });

  it(
    '≥ 12 kill cycles over both lanes, either worker killed: 0 lost, duplicate, stale, unexpected; both workers commit',
    { timeout: 420_000 },
    async (t) => {
      const scratch = await scratchDatabase();
      dbs.push(scratch);
      const r = await runHarness({ seed: 20261216, maxCycles: 64, minKills: 12, postgresUrl: scratch.url });
      t.diagnostic(
        `cycles ${r.cycles}, kills ${r.kills}, batches by lane ${JSON.stringify(r.violations.lanes)}, committers ${r.violations.committers}, ${Math.round(r.ms / 1000)} s; kills by mode ${JSON.stringify(r.killsByMode)}`,
      );
      assert.deepEqual(r.errors, [], 'no run failed other than by SIGKILL');
      assert.equal(
        totalViolations(r.violations),
        0,
        `oracle violations: ${JSON.stringify(r.violations, null, 1)}`,
      );
      assert.ok(r.kills >= 12, `only ${r.kills} kill cycles`);
      assert.ok((r.violations.lanes.live ?? 0) > 0 && (r.violations.lanes.backlog ?? 0) > 0, 'both lanes');
      assert.ok(r.violations.committers >= 2, `batches committed by ${r.violations.committers} worker(s)`);
    },
  );
});
