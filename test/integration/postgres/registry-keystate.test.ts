import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SeamlineError } from '../../../src/errors/errors.js';
import type { BronzeEvent } from '../../../src/ports/bronze.js';
import type { PgDatabase } from '../../../src/store/postgres/connect.js';
import { PgKeyState } from '../../../src/store/postgres/key-state.js';
import { migratePostgres } from '../../../src/store/postgres/migrations.js';
import { PgTableRegistry } from '../../../src/store/postgres/registry.js';
import { openPg, scratchDatabase, type ScratchDatabase } from '../../helpers/postgres.js';

const ev = (
  id: string,
  version: number,
  seq: number,
  op: 'upsert' | 'delete' = 'upsert',
  eventTimeMs = 0,
): BronzeEvent => ({
  seq,
  fileId: 1,
  file: 'f.jsonl',
  line: seq,
  offset: 0,
  id,
  version,
  eventTime: new Date(eventTimeMs).toISOString(),
  eventTimeMs,
  op,
  text: '',
  metadataJson: '{}',
  landedAtMs: 0,
});

describe('PgTableRegistry and PgKeyState over a real PostgreSQL', () => {
  let scratch: ScratchDatabase;
  let db: PgDatabase;
  before(async () => {
    // A linguistic default collation, as production databases often have: ids must still page in byte order.
    scratch = await scratchDatabase({ icuLocale: 'en-US' });
    db = await openPg(scratch.url, { poolMax: 6 });
    await migratePostgres(db);
  });
  beforeEach(async () => {
    await db.query('TRUNCATE serving, vector_tables, key_state');
  });
  after(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it('registry: first serving table, versioned names, swap, rollback and roll forward', async () => {
    const reg = new PgTableRegistry(db);
    assert.equal(await reg.serving(), null);
    assert.equal(await reg.nextName('records'), 'records_v1');
    await reg.registerServing('records_v1', 'm', 100, '1', 10);
    assert.equal((await reg.serving())?.tableName, 'records_v1');
    assert.equal(await reg.nextName('records'), 'records_v2');
    await reg.register('records_v2', 'm2', 100, '1', 'building', 20);
    await reg.swap('records_v2', 30);
    const s = await reg.serving();
    assert.deepEqual([s?.tableName, s?.previous, s?.state], ['records_v2', 'records_v1', 'serving']);
    assert.equal((await reg.get('records_v1'))?.state, 'retired');
    assert.equal(await reg.rollback(40, () => false), null, 'nothing to go back to when its data is gone');
    assert.deepEqual(await reg.rollback(40, () => true), { from: 'records_v2', to: 'records_v1' });
    assert.deepEqual(await reg.rollback(50, () => true), { from: 'records_v1', to: 'records_v2' });
    assert.deepEqual(
      (await reg.list()).map((t) => t.tableName),
      ['records_v1', 'records_v2'],
    );
  });

  it('registry: two workers creating the first table at once — one serves, the other gets LEDGER_CONFLICT', async () => {
    const dbs = await Promise.all([openPg(scratch.url, { poolMax: 1 }), openPg(scratch.url, { poolMax: 1 })]);
    try {
      const regs = dbs.map((d) => new PgTableRegistry(d));
      const r = await Promise.allSettled([
        regs[0]!.registerServing('records_v1', 'm', 100, '1', 1),
        regs[1]!.registerServing('records_v1b', 'm', 100, '1', 1),
      ]);
      const lost = r.filter((x) => x.status === 'rejected');
      assert.equal(lost.length, 1);
      const e = (lost[0] as PromiseRejectedResult).reason as unknown;
      assert.ok(e instanceof SeamlineError && e.code === 'LEDGER_CONFLICT', String(e));
      const tables = await new PgTableRegistry(db).list();
      assert.equal(tables.length, 1, 'the loser wrote nothing');
      assert.equal((await new PgTableRegistry(db).serving())?.tableName, tables[0]!.tableName);
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
    }
  });

  it('key state: the highest (version, event time, seq) wins, deletes stick, refolds change nothing', async () => {
    const ks = new PgKeyState(db);
    await ks.fold([
      ev('a', 2, 1),
      ev('a', 1, 2),
      ev('b', 1, 3),
      ev('b', 1, 4, 'upsert', 5),
      ev('c', 3, 5, 'delete'),
    ]);
    await ks.fold([ev('c', 2, 6), ev('a', 2, 1)]);
    const m = await ks.keyStates(['a', 'b', 'c', 'zz']);
    assert.deepEqual([...m.keys()].sort(), ['a', 'b', 'c']);
    assert.deepEqual([m.get('a')!.version, m.get('a')!.seq], [2, 1]);
    assert.deepEqual([m.get('b')!.eventTimeMs, m.get('b')!.seq], [5, 4]);
    assert.deepEqual([m.get('c')!.version, m.get('c')!.deleted], [3, true]);
    assert.deepEqual(await ks.keyStateCounts(), { ids: 3, live: 2, deleted: 1 });
    // unsafeLastWins (test-only) applies events in the order given, as SQLite's one-by-one fold does
    await ks.fold([ev('a', 9, 10), ev('a', 1, 11)], true);
    assert.equal((await ks.keyStates(['a'])).get('a')!.version, 1);
  });

  it('key state: pages in byte order (COLLATE "C", as SQLite), whatever the database collation', async () => {
    const ks = new PgKeyState(db);
    const ids = ['b', 'B', 'a', 'A', '_x', 'é', 'z1', 'Z0'];
    await ks.fold(ids.map((id, i) => ev(id, 1, i + 1)));
    const seen: string[] = [];
    for await (const page of ks.allKeyIds(3)) seen.push(...page);
    assert.deepEqual(
      seen,
      [...ids].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
    );
  });

  it('key state: concurrent folds from several workers over overlapping ids end at the per-id maximum', async () => {
    const dbs = await Promise.all([1, 2, 3].map(() => openPg(scratch.url, { poolMax: 2 })));
    try {
      const workers = dbs.map((d) => new PgKeyState(d));
      let seq = 0;
      const all: BronzeEvent[] = [];
      const batches: BronzeEvent[][] = [];
      for (let b = 0; b < 30; b++) {
        const batch: BronzeEvent[] = [];
        for (let i = 0; i < 40; i++) {
          const id = `k${(b * 7 + i * 13) % 60}`;
          const e = ev(id, (b * 31 + i * 17) % 11, ++seq, (b + i) % 9 === 0 ? 'delete' : 'upsert');
          batch.push(e);
          all.push(e);
        }
        // Alternate directions so unsorted locking would cross
        batches.push(b % 2 ? batch.reverse() : batch);
      }
      await Promise.all(
        workers.map(async (w, wi) => {
          for (let b = wi; b < batches.length; b += workers.length) await w.fold(batches[b]!);
        }),
      );
      const want = new Map<string, BronzeEvent>();
      for (const e of all) {
        const c = want.get(e.id);
        if (!c || e.version > c.version || (e.version === c.version && e.seq > c.seq)) want.set(e.id, e);
      }
      const got = await new PgKeyState(db).keyStates([...want.keys()]);
      for (const [id, e] of want) {
        const k = got.get(id)!;
        assert.deepEqual([k.version, k.seq, k.deleted], [e.version, e.seq, e.op === 'delete'], id);
      }
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
    }
  });
});
