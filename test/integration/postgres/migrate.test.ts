import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { migratePostgres, PG_MIGRATIONS } from '../../../src/store/postgres/migrations.js';
import { openSqlite } from '../../../src/store/sqlite/db.js';
import { openPg, scratchDatabase, type ScratchDatabase } from '../../helpers/postgres.js';

async function versions(url: string): Promise<number[]> {
  const db = await openPg(url, { poolMax: 1 });
  try {
    const r = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    return r.rows.map((x) => x.version);
  } finally {
    await db.close();
  }
}

/** table → sorted column names, as the engine reports them. */
async function pgColumns(url: string): Promise<Map<string, string[]>> {
  const db = await openPg(url, { poolMax: 1 });
  try {
    const r = await db.query<{ t: string; c: string }>(
      `SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`,
    );
    const out = new Map<string, string[]>();
    for (const { t, c } of r.rows) out.set(t, [...(out.get(t) ?? []), c]);
    return out;
  } finally {
    await db.close();
  }
}

function sqliteColumns(): Map<string, string[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'seamline-pgparity-'));
  try {
    const db = openSqlite(path.join(dir, 'seamline.db'), { synchronous: 'NORMAL', busyTimeoutMs: 1000 });
    try {
      const tables = db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .all() as { name: string }[];
      return new Map(
        tables.map(({ name }) => [
          name,
          (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(name) as { name: string }[])
            .map((c) => c.name)
            .sort(),
        ]),
      );
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('PostgreSQL migrations (real server)', () => {
  let scratch: ScratchDatabase;
  before(async () => {
    scratch = await scratchDatabase();
  });
  after(async () => {
    await scratch?.drop();
  });

  it('apply on an empty database, record each version, and a second run applies nothing', async () => {
    const db = await openPg(scratch.url);
    try {
      const first = await migratePostgres(db);
      assert.deepEqual(first, { from: 0, to: PG_MIGRATIONS.length, applied: [1, 2, 3, 4, 5, 6, 7] });
      const again = await migratePostgres(db);
      assert.deepEqual(again, { from: 7, to: 7, applied: [] });
    } finally {
      await db.close();
    }
    assert.deepEqual(await versions(scratch.url), [1, 2, 3, 4, 5, 6, 7]);
  });

  it('give the same tables and columns as the SQLite migrations 1–6 (same logical schema)', async () => {
    const pg = await pgColumns(scratch.url);
    pg.delete('schema_migrations');
    const lite = sqliteColumns();
    assert.deepEqual([...pg.keys()].sort(), [...lite.keys()].sort());
    for (const [t, cols] of lite) assert.deepEqual(pg.get(t), cols, `columns of ${t}`);
  });

  it('use PostgreSQL types where they matter: bigint seqs and ms, identity bronze seq, bytea raw, boolean flags', async () => {
    const db = await openPg(scratch.url, { poolMax: 1 });
    try {
      const r = await db.query<{ t: string; c: string; type: string; identity: string }>(
        `SELECT table_name AS t, column_name AS c, data_type AS type, is_identity AS identity
           FROM information_schema.columns WHERE table_schema = 'public'`,
      );
      const col = (t: string, c: string) => r.rows.find((x) => x.t === t && x.c === c);
      assert.equal(col('bronze', 'seq')?.type, 'bigint');
      assert.equal(col('bronze', 'seq')?.identity, 'YES');
      assert.equal(col('bronze', 'landed_at_ms')?.type, 'bigint');
      assert.equal(col('quarantine', 'raw')?.type, 'bytea');
      assert.equal(col('key_state', 'deleted')?.type, 'boolean');
      assert.equal(col('incidents', 'detail_json')?.type, 'jsonb');
      assert.equal(col('bronze', 'metadata_json')?.type, 'text');
      // Nothing is left as a 32-bit integer where an epoch-ms or a seq goes.
      const narrow = r.rows.filter((x) => x.type === 'integer' && /(_ms|seq|_id|size|bytes)$/.test(x.c));
      assert.deepEqual(narrow, []);
    } finally {
      await db.close();
    }
  });

  it('several migrators starting at once on a fresh database all succeed and apply each version once', async () => {
    const fresh = await scratchDatabase();
    try {
      const dbs = await Promise.all(Array.from({ length: 4 }, () => openPg(fresh.url, { poolMax: 1 })));
      try {
        const results = await Promise.all(dbs.map((d) => migratePostgres(d)));
        const appliers = results.filter((r) => r.applied.length > 0);
        assert.equal(appliers.length, 1, JSON.stringify(results));
        assert.deepEqual(appliers[0]!.applied, [1, 2, 3, 4, 5, 6, 7]);
        for (const r of results) assert.equal(r.to, 7);
      } finally {
        await Promise.all(dbs.map((d) => d.close()));
      }
      assert.deepEqual(await versions(fresh.url), [1, 2, 3, 4, 5, 6, 7]);
    } finally {
      await fresh.drop();
    }
  });

  it('a failing migration leaves nothing of itself or of the ones before it in the same run', async () => {
    const fresh = await scratchDatabase();
    try {
      const db = await openPg(fresh.url, { poolMax: 1 });
      try {
        const broken = [
          ...PG_MIGRATIONS,
          { name: 'broken', sql: 'CREATE TABLE half_done (x int); SELECT no_such_fn();' },
        ];
        await assert.rejects(migratePostgres(db, broken), /no_such_fn/);
        const t = await db.query(
          `SELECT 1 FROM information_schema.tables WHERE table_name IN ('files', 'half_done')`,
        );
        assert.equal(t.rowCount, 0, 'the whole run rolled back');
        assert.deepEqual(await migratePostgres(db), { from: 0, to: 7, applied: [1, 2, 3, 4, 5, 6, 7] });
      } finally {
        await db.close();
      }
    } finally {
      await fresh.drop();
    }
  });
});
