import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertSoakHealthy, describeSoak, runSoak } from '../soak/driver.js';

// The CI variant of the soak (npm run test:soak runs the same driver for ≥ 5 minutes).
const BOUND_MS = 8000;

describe('optimize soak (CI variant, ~60 s)', () => {
  it('daemon ingesting while the optimize job runs every 3 s: runs succeed, fragments stay bounded, no lost/duplicate rows, pauses within the lease bound', async () => {
    const r = await runSoak(
      {
        durationMs: 60_000,
        dropEveryMs: 400,
        recordsPerFile: 8,
        optimizeIntervalMs: 3000,
        maxWriterPauseMs: BOUND_MS,
      },
      (l) => console.log(`# ${l}`),
    );
    for (const line of describeSoak(r).split('\n')) console.log(`# ${line}`);
    assert.ok(r.runs.length >= 10, `optimize runs: ${r.runs.length}`);
    assert.ok(r.compactions >= 3, `compactions: ${r.compactions}`);
    assertSoakHealthy(r, BOUND_MS);
  });
});
