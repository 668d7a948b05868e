import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { migratePostgres } from '../../../src/store/postgres/migrations.js';
import { pgStoresOf, type PgStores } from '../../../src/store/postgres/open.js';
import { openPg, scratchDatabase, type ScratchDatabase } from '../../helpers/postgres.js';

const info = (p: string) => ({
  path: p,
  sha256: `sha-${p}`,
  size: 1,
  mtimeMs: 0,
  format: 'jsonl',
  manifestJson: null,
  manifestSha256: null,
});
const rec = (id: string) => ({
  id,
  version: 1,
  eventTime: '2026-01-01T00:00:00.000Z',
  eventTimeMs: 1,
  op: 'upsert' as const,
  text: id,
  metadata: {},
});

// Several workers on one database (issue 16): each worker is a pool of its own with its own owner name.
describe('PostgreSQL workers: landing owners and batch claims (real PostgreSQL)', () => {
  let scratch: ScratchDatabase;
  const workers: PgStores[] = [];
  const open = async (owner: string): Promise<PgStores> => {
    const s = pgStoresOf(await openPg(scratch.url, { poolMax: 3 }), owner);
    workers.push(s);
    return s;
  };
  before(async () => {
    scratch = await scratchDatabase();
    const db = await openPg(scratch.url, { poolMax: 1 });
    await migratePostgres(db);
    await db.close();
  });
  after(async () => {
    for (const w of workers) await w.close();
    await scratch?.drop();
  });

  it("recoverLanding removes only landings whose owner is gone, never a live worker's", async () => {
    const a = await open('other-host:1');
    const b = await open('other-host:2');
    const c = await open('other-host:3');
    await a.leases.tryAcquire('worker:other-host:1', 'other-host:1', 60_000, Date.now());
    await c.leases.tryAcquire('worker:other-host:3', 'other-host:3', 1, 0); // long expired
    for (const [s, p] of [
      [a, 'a.jsonl'],
      [b, 'b.jsonl'],
      [c, 'c.jsonl'],
    ] as const) {
      const w = await s.bronze.beginFile(info(p), 1);
      await w.addRecord(rec(p), 1, 0);
      await w.flush();
    }
    // b never took a worker lease, c's expired: their landings are a crash's leftovers; a's is live.
    assert.deepEqual((await b.bronze.recoverLanding()).sort(), ['b.jsonl', 'c.jsonl']);
    assert.deepEqual(
      (await a.bronze.files()).map((f) => [f.path, f.state]),
      [['a.jsonl', 'landing']],
    );
    assert.deepEqual(await a.bronze.recoverLanding(), ['a.jsonl'], 'its own owner may always recover it');
  });

  it('four workers claiming at once never get the same batch and never wait for each other', async () => {
    const ws = await Promise.all([1, 2, 3, 4].map((i) => open(`claim-host:${i}`)));
    const now = Date.now();
    for (const [i, w] of ws.entries())
      await w.leases.tryAcquire(`worker:claim-host:${i + 1}`, `claim-host:${i + 1}`, 60_000, now);
    const land = await ws[0]!.bronze.beginFile(info('big.jsonl'), 1);
    for (let i = 0; i < 40; i++) await land.addRecord(rec(`k${i}`), i + 1, i);
    const f = await land.finish('unverified', null, []);
    await ws[0]!.ledger
      .lanes()
      .discover('t', 2, () => ({ lane: 'backlog', reason: 'large', completeAtMs: 1 }));
    for (let i = 0; i < 20; i++) {
      const from = f.seqFrom! + i * 2;
      await ws[0]!.ledger.plan(
        't',
        'backlog',
        [{ fileId: f.fileId, seqFrom: from, seqTo: from + 1, records: 2 }],
        'm',
        '1',
        3,
      );
    }
    const got: string[] = [];
    await Promise.all(
      ws.map(async (w, i) => {
        const claim = { owner: `claim-host:${i + 1}`, ttlMs: 60_000 };
        for (;;) {
          const b = await w.ledger.claimPending('t', 'backlog', claim, now);
          if (!b) return;
          got.push(b.batchId);
          await w.ledger.commit(
            b.batchId,
            1,
            {
              recordsIn: 2,
              idsTouched: 2,
              rowsInserted: 2,
              rowsUpdated: 0,
              rowsDeleted: 0,
              textsEmbedded: 2,
              textsReused: 0,
            },
            now,
          );
        }
      }),
    );
    assert.equal(got.length, 20, 'every batch claimed');
    assert.equal(new Set(got).size, 20, 'none twice');
    assert.equal((await ws[0]!.ledger.lanes().progress('t', f.fileId))!.committedTo, f.seqTo);
  });

  it('lane discovery never steps over a file that publishes while it runs (landers and discoverers at once)', async () => {
    const landers = await Promise.all([1, 2, 3].map((i) => open(`disc-host:${i}`)));
    const disc = await open('disc-host:9');
    let landing = true;
    const landAll = async (w: PgStores, k: number): Promise<void> => {
      for (let i = 0; i < 40; i++) {
        const f = await w.bronze.beginFile(info(`d${k}-${i}.jsonl`), 1);
        await f.addRecord(rec(`d${k}-${i}`), 1, 0);
        await f.finish('unverified', null, []);
      }
    };
    const discovering = (async () => {
      while (landing)
        await disc.ledger
          .lanes()
          .discover('dt', 2, () => ({ lane: 'live', reason: 'fresh', completeAtMs: 1 }));
    })();
    await Promise.all(landers.map((w, k) => landAll(w, k)));
    landing = false;
    await discovering;
    await disc.ledger.lanes().discover('dt', 3, () => ({ lane: 'live', reason: 'fresh', completeAtMs: 1 }));
    assert.deepEqual(await disc.ledger.lanes().undiscovered('dt'), { files: 0, records: 0 });
    const n = async (sql: string) => (await disc.db.query<{ n: number }>(sql)).rows[0]!.n;
    const published = await n(`SELECT COUNT(*) AS n FROM files WHERE state IN ('verified','unverified')`);
    assert.ok(published >= 120);
    assert.equal(
      await n(`SELECT COUNT(*) AS n FROM file_progress WHERE table_name = 'dt'`),
      published,
      'every published file joined the lane',
    );
  });
});
