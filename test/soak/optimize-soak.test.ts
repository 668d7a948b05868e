import { describe, it } from 'node:test';
import { assertSoakHealthy, describeSoak, runSoak } from './driver.js';

// npm run test:soak — at least 5 minutes (SOAK_DURATION_MS overrides; not a SEAMLINE_* variable on purpose).
const DURATION_MS = Math.max(300_000, Number(process.env.SOAK_DURATION_MS ?? 300_000));
const BOUND_MS = 8000;

describe(`optimize soak (${Math.round(DURATION_MS / 60_000)} min)`, () => {
  it(
    'daemon ingesting continuously while the optimize job runs on a short interval',
    { timeout: DURATION_MS + 600_000 },
    async () => {
      const r = await runSoak(
        {
          durationMs: DURATION_MS,
          dropEveryMs: 300,
          recordsPerFile: 10,
          optimizeIntervalMs: 5000,
          maxWriterPauseMs: BOUND_MS,
        },
        (l) => console.log(`# ${l}`),
      );
      for (const line of describeSoak(r).split('\n')) console.log(`# ${line}`);
      assertSoakHealthy(r, BOUND_MS);
    },
  );
});
