import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/observability/logger.js';
import { openRuntime, type Runtime } from '../../../src/runtime/runtime.js';
import { workspace, type Workspace } from '../../helpers/cli.js';
import { scratchDatabase, type ScratchDatabase } from '../../helpers/postgres.js';

/**
 * Two workers starting on an empty shared store (one database, one LanceDB folder) both pick the first
 * table name. The one whose registration loses must not drop that table: it is the winner's too. The
 * crash harness on PostgreSQL hit this on a fresh CI machine (every later cycle: "serving table
 * records_v1 is registered but missing").
 */
describe('the first serving table, created by two workers at once (real PostgreSQL, shared folder)', () => {
  const dbs: ScratchDatabase[] = [];
  const spaces: Workspace[] = [];
  after(async () => {
    spaces.forEach((w) => w.cleanup());
    for (const d of dbs) await d.drop();
  });

  it('both end up serving the same table, and it exists', async () => {
    for (let round = 0; round < 6; round++) {
      const scratch = await scratchDatabase();
      dbs.push(scratch);
      const ws = workspace({ db: { kind: 'postgres', url: scratch.url } });
      spaces.push(ws);
      const config = loadConfig({ file: ws.configFile, env: {} });
      const log = createLogger('silent', 'itest', 'test');
      const [a, b] = await Promise.all([openRuntime(config, log), openRuntime(config, log)]);
      const rts: Runtime[] = [a, b];
      try {
        // Both look for the serving table, load the model and pick the next name at the same time.
        const [ta, tb] = await Promise.all(rts.map((rt) => rt.servingTable(true)));
        assert.ok(ta && tb);
        assert.equal(ta.name, tb.name, `round ${round}`);
        for (const rt of rts) {
          const t = await rt.servingTable(false);
          assert.ok(t, `round ${round}: the serving table is missing`);
          assert.equal(await t.countRows(), 0);
        }
      } finally {
        for (const rt of rts) await rt.close();
      }
    }
  });
});
