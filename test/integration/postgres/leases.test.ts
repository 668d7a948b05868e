import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { PgDatabase } from '../../../src/store/postgres/connect.js';
import { PgLeases } from '../../../src/store/postgres/leases.js';
import { migratePostgres } from '../../../src/store/postgres/migrations.js';
import { openPg, scratchDatabase, type ScratchDatabase } from '../../helpers/postgres.js';

describe('PgLeases: the writer lease of several workers (real PostgreSQL)', () => {
  let scratch: ScratchDatabase;
  let db: PgDatabase;
  before(async () => {
    scratch = await scratchDatabase();
    db = await openPg(scratch.url, { poolMax: 4 });
    await migratePostgres(db);
  });
  beforeEach(async () => {
    await db.query('TRUNCATE leases');
  });
  after(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it('of five workers racing for a free lease exactly one gets it, every round', async () => {
    const dbs = await Promise.all([1, 2, 3, 4, 5].map(() => openPg(scratch.url, { poolMax: 1 })));
    try {
      const ls = dbs.map((d) => new PgLeases(d));
      for (let round = 0; round < 10; round++) {
        const got = await Promise.all(
          ls.map((l, i) => l.tryAcquire('writer:records_v1', `w${i}`, 5_000, 1_000)),
        );
        assert.equal(got.filter(Boolean).length, 1, `round ${round}: ${got.join(',')}`);
        const h = await ls[0]!.holder('writer:records_v1', 1_000);
        await ls[0]!.release('writer:records_v1', h!.holder);
      }
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
    }
  });

  it('renew never steals, expiry frees, release is only the holder’s, a dead holder of this host is free', async () => {
    const dead = new Set<string>();
    const l = new PgLeases(db, (h) => dead.has(h));
    assert.equal(await l.tryAcquire('m', 'a', 100, 0), true);
    assert.equal(await l.tryAcquire('m', 'a', 100, 50), true, 're-entrant');
    assert.equal(await l.tryAcquire('m', 'b', 100, 60), false);
    assert.equal(await l.renew('m', 'b', 100, 60), false);
    await l.release('m', 'b');
    assert.equal((await l.holder('m', 60))?.holder, 'a');
    assert.equal(await l.tryAcquire('m', 'b', 100, 151), true, 'expired at 150');
    assert.equal(await l.renew('m', 'a', 100, 160), false, 'lost');
    dead.add('b');
    assert.equal((await l.holder('m', 160))?.holder, 'b');
    assert.equal(await l.liveHolder('m', 160), null);
    assert.equal(await l.tryAcquire('m', 'c', 100, 160), true);
  });
});
