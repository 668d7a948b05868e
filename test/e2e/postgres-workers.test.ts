import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { jsonl, runJson, waitFor } from '../helpers/cli.js';
import { E2eFixture, published } from '../helpers/daemon.js';
import { openPg, scratchDatabase, type ScratchDatabase } from '../helpers/postgres.js';
import { servingRowsPg } from '../helpers/table.js';

const WORDS =
  'river mountain city music garden ocean winter summer forest market school doctor engine rocket'.split(' ');
const records = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    id: `r${from + i}`,
    version: 1,
    event_time: '2024-05-01T10:00:00Z',
    text: `record ${from + i}: ${WORDS[(from + i) % WORDS.length]} ${WORDS[(from + i * 3) % WORDS.length]} ${WORDS[(from + i * 7) % WORDS.length]}`,
  }));

// Two real daemons (subprocesses) on one PostgreSQL database and one shared data folder (LanceDB tables)
// process a backfill together (issue 16): each batch is claimed by one worker, merges take turns under the
// table's writer lease, and the end state has every record once. Fails (never skips) without a server.
describe('two workers on PostgreSQL (subprocesses, real server, shared LanceDB folder)', () => {
  const fx = new E2eFixture();
  const dbs: ScratchDatabase[] = [];
  after(async () => {
    fx.cleanup();
    for (const d of dbs) await d.drop();
  });

  it('a backfill is shared: both workers commit batches, no lost or duplicate rows; the lander can die', async () => {
    const scratch = await scratchDatabase();
    dbs.push(scratch);
    const w = fx.workspace({
      db: { kind: 'postgres', url: scratch.url },
      model: { id: 'local/glove-sif-100d' },
      processor: { maxRecords: 50, triggerIntervalMs: 50, backlog: { timeBoxMs: 100, initialRecords: 16 } },
      log: { level: 'info' },
    });
    const a = await fx.daemon(w, 60_000);
    const b = await fx.daemon(w, 60_000);
    for (let f = 0; f < 6; f++) w.drop(`part-${f}.jsonl`, jsonl(records(300, f * 300)));
    await waitFor(async () => (await published(a.port)) >= 600, 180_000, 'part of the backfill published');
    // Kill whichever worker lands: the other takes the lander lease over for the files dropped next.
    const db = await openPg(scratch.url, { poolMax: 1 });
    try {
      const lander = (await db.query<{ holder: string }>(`SELECT holder FROM leases WHERE name = 'lander'`))
        .rows[0]!.holder;
      const [dead, alive] = lander.endsWith(`:${a.d.child.pid}`) ? [a, b] : [b, a];
      dead.d.child.kill('SIGKILL');
      await dead.d.exited;
      w.drop('late.jsonl', jsonl(records(200, 1800)));
      await waitFor(
        async () => (await published(alive.port)) === 2000,
        240_000,
        'all 2000 records published',
      );
      const owners = (
        await db.query<{ owner: string; n: number }>(
          `SELECT claimed_by AS owner, COUNT(*) AS n FROM batches WHERE state = 'committed' GROUP BY claimed_by`,
        )
      ).rows;
      assert.equal(owners.length, 2, `both workers committed batches: ${JSON.stringify(owners)}`);
      const dup = await db.query<{ n: number }>(
        `SELECT COUNT(*) AS n FROM (SELECT path FROM files GROUP BY path HAVING COUNT(*) > 1) x`,
      );
      assert.equal(dup.rows[0]!.n, 0, 'every file landed once');
      alive.d.child.kill('SIGKILL');
      await alive.d.exited;
    } finally {
      await db.close();
    }
    const v = await runJson<{ consistent: boolean; checkedIds: number }>(['verify'], w.env());
    assert.equal(v.consistent, true, JSON.stringify(v));
    assert.equal(v.checkedIds, 2000);
    const rows = await servingRowsPg(scratch.url, w.data);
    assert.equal(new Set(rows.map((r) => r.rowKey)).size, rows.length, 'no duplicate rows');
    assert.equal(new Set(rows.map((r) => r.id)).size, 2000, 'no lost records');
  });
});
