import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ContractRecord } from '../../../src/contract/types.js';
import type { NewFileInfo } from '../../../src/ports/bronze.js';
import { PgBronze } from '../../../src/store/postgres/bronze.js';
import type { PgDatabase } from '../../../src/store/postgres/connect.js';
import { migratePostgres } from '../../../src/store/postgres/migrations.js';
import { openPg, scratchDatabase, type ScratchDatabase } from '../../helpers/postgres.js';

const rec = (id: string, version = 1, text = `text of ${id}`): ContractRecord => ({
  id,
  version,
  eventTime: '2026-01-01T00:00:00.000Z',
  eventTimeMs: Date.parse('2026-01-01T00:00:00.000Z'),
  op: 'upsert',
  text,
  metadata: { n: version, tags: ['a', 'b'] },
});

const info = (p: string): NewFileInfo => ({
  path: p,
  sha256: `sha-${p}`,
  size: 100,
  mtimeMs: 1000,
  format: 'jsonl',
  manifestJson: null,
  manifestSha256: null,
});

describe('PgBronze: the bronze port over a real PostgreSQL', () => {
  let scratch: ScratchDatabase;
  let db: PgDatabase;
  let bronze: PgBronze;
  before(async () => {
    scratch = await scratchDatabase();
    db = await openPg(scratch.url, { poolMax: 6 });
    await migratePostgres(db);
  });
  beforeEach(async () => {
    await db.query('TRUNCATE files, bronze, quarantine, manifest_events RESTART IDENTITY CASCADE');
    bronze = new PgBronze(db, { flushEvery: 3 });
  });
  after(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it('lands a file in slices, invisible to publishedUpTo until finished, then reads it back', async () => {
    const w = await bronze.beginFile(info('a.jsonl'), 5000);
    for (let i = 1; i <= 7; i++) await w.addRecord(rec(`id${i}`, i), i, i * 10);
    // U+0000 and a lone surrogate in a quarantined raw line: stored as bytes, read back as text.
    await w.addQuarantine({
      line: 8,
      offset: 80,
      code: 'MALFORMED_JSON',
      field: null,
      message: 'bad',
      raw: '{"x":\u0000',
    });
    assert.deepEqual(w.counts(), { read: 8, landed: 7, quarantined: 1 });
    assert.equal(await bronze.publishedUpTo(), 0, 'a landing file holds back every seq from its first one');
    const row = await w.finish('verified', null, ['extra_field']);
    assert.equal(row.state, 'verified');
    assert.deepEqual([row.seqFrom, row.seqTo], [1, 7]);
    assert.deepEqual(row.newFields, ['extra_field']);
    assert.equal(row.recordsLanded, 7);
    assert.equal(await bronze.publishedUpTo(), 7);
    assert.equal(await bronze.maxSeq(), 7);
    const evs = await bronze.eventsInRange(2, 4);
    assert.deepEqual(
      evs.map((e) => [e.seq, e.id, e.version, e.file, e.line, e.offset]),
      [
        [2, 'id2', 2, 'a.jsonl', 2, 20],
        [3, 'id3', 3, 'a.jsonl', 3, 30],
        [4, 'id4', 4, 'a.jsonl', 4, 40],
      ],
    );
    assert.equal(evs[0]!.metadataJson, JSON.stringify({ n: 2, tags: ['a', 'b'] }));
    assert.deepEqual(
      (await bronze.eventsBySeq([5, 99, 1])).map((e) => e.seq),
      [5, 1],
    );
    const q = await bronze.quarantineFor(row.fileId);
    assert.equal(q.length, 1);
    assert.equal(q[0]!.raw, '{"x":\u0000');
    assert.deepEqual(await bronze.quarantineByCode(), { MALFORMED_JSON: 1 });
    assert.deepEqual(await bronze.totals(), {
      files: { verified: 1 },
      read: 8,
      landed: 7,
      quarantined: 1,
      withheld: 0,
      bronzeRecords: 7,
    });
    assert.equal((await bronze.latestFileByPath('a.jsonl'))?.fileId, row.fileId);
    assert.equal((await bronze.filesBySha('sha-a.jsonl')).length, 1);
  });

  it('an incomplete file withdraws its records; a failed one its quarantine too; refusals are recorded', async () => {
    const w = await bronze.beginFile(info('inc.jsonl'), 1);
    for (let i = 0; i < 4; i++) await w.addRecord(rec(`x${i}`), i + 1, i);
    const inc = await w.finish('incomplete', 'manifest says 5', []);
    assert.equal(inc.recordsLanded, 0);
    assert.equal(inc.seqFrom, null);
    assert.equal(await bronze.maxSeq(), 0);
    const t = await bronze.totals();
    assert.equal(t.withheld, 4);
    const refused = await bronze.recordRefused(info('r.jsonl'), 'failed', 'changed while read', 2, 3);
    assert.equal(refused.state, 'failed');
    assert.equal(refused.recordsRead, 3);
  });

  it('recoverLanding removes what a crashed landing left and names the paths to redo', async () => {
    const w = await bronze.beginFile(info('crashed.jsonl'), 1);
    for (let i = 0; i < 5; i++) await w.addRecord(rec(`c${i}`), i + 1, i);
    await w.flush();
    const done = await bronze.beginFile(info('done.jsonl'), 1);
    await done.addRecord(rec('d'), 1, 0);
    await done.finish('unverified', null, []);
    assert.deepEqual(await bronze.recoverLanding(), ['crashed.jsonl']);
    assert.deepEqual(
      (await bronze.files()).map((f) => f.path),
      ['done.jsonl'],
    );
    assert.deepEqual(await bronze.recoverLanding(), []);
  });

  it('late/orphan manifests are recorded once per (path, content, state)', async () => {
    const e = {
      path: 'm.jsonl',
      manifestSha256: 'abc',
      state: 'orphan' as const,
      fileId: null,
      detail: null,
      atMs: 1,
    };
    assert.equal(await bronze.recordManifestEvent(e), true);
    assert.equal(await bronze.recordManifestEvent(e), false);
    assert.deepEqual(await bronze.manifestEventCounts(), { orphan: 1 });
    assert.equal((await bronze.manifestEvents())[0]!.path, 'm.jsonl');
  });

  it('several concurrent landers: a seq below publishedUpTo never appears after it was handed out', async () => {
    // Two pools = two workers. Each lands files in tiny slices while a reader keeps asking publishedUpTo
    // and counting the rows at or below it; at the end no mark may have gained rows. Without the append
    // lock (seq order = commit order) slices commit out of seq order and marks gain rows later.
    const dbs = await Promise.all([openPg(scratch.url, { poolMax: 4 }), openPg(scratch.url, { poolMax: 4 })]);
    try {
      // A random pause between a slice's insert and its commit widens the window a real machine has.
      const pause = () => new Promise<void>((r) => setTimeout(r, Math.random() * 15));
      const workers = dbs.map((d) => new PgBronze(d, { flushEvery: 2, afterAppend: pause }));
      let landing = true;
      const land = async (w: PgBronze, name: string) => {
        for (let f = 0; f < 40; f++) {
          const l = await w.beginFile(info(`${name}-${f}.jsonl`), 1);
          for (let i = 0; i < 3; i++) await l.addRecord(rec(`${name}-${f}-${i}`), i + 1, i);
          await l.finish('verified', null, []);
        }
      };
      const marks: { mark: number; rows: number }[] = [];
      const reader = (async () => {
        while (landing) {
          const mark = await bronze.publishedUpTo();
          const rows = (
            await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM bronze WHERE seq <= $1', [mark])
          ).rows[0]!.n;
          marks.push({ mark, rows });
        }
      })();
      await Promise.all(workers.map((w, i) => land(w, `w${i}`)));
      landing = false;
      await reader;
      assert.ok(marks.length > 5, `the reader sampled while landing (${marks.length})`);
      const late: string[] = [];
      for (const m of marks) {
        const now = (
          await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM bronze WHERE seq <= $1', [m.mark])
        ).rows[0]!.n;
        if (now !== m.rows) late.push(`mark ${m.mark}: ${m.rows} rows then, ${now} now`);
      }
      assert.deepEqual(late, []);
      assert.equal((await bronze.totals()).bronzeRecords, 240);
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
    }
  });
});
