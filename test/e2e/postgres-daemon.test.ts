import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { jsonl, runJson, waitFor } from '../helpers/cli.js';
import { E2eFixture, published } from '../helpers/daemon.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/postgres.js';
import { servingRowsPg } from '../helpers/table.js';

const records = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    id: `r${from + i}`,
    version: 1,
    event_time: '2024-05-01T10:00:00Z',
    text: `record number ${from + i} about rivers mountains and ${(from + i) % 7 === 0 ? 'cats' : 'dogs'}`,
  }));

// The real daemon (subprocess) with db: { kind: "postgres", url } on a fresh database of the real
// PostgreSQL test server (issue 16): files become searchable, a SIGKILL mid-backfill loses nothing, and
// verify is clean after the restart. Without a server this FAILS (scratchDatabase throws), never skips.
describe('daemon on PostgreSQL (subprocess, real server)', () => {
  const fx = new E2eFixture();
  const dbs: ScratchDatabase[] = [];
  after(async () => {
    fx.cleanup();
    for (const d of dbs) await d.drop();
  });

  it('drop → searchable; SIGKILL mid-backfill; restart finishes; verify clean; listings read PostgreSQL', async () => {
    const scratch = await scratchDatabase();
    dbs.push(scratch);
    const w = fx.workspace({
      db: { kind: 'postgres', url: scratch.url },
      processor: { maxRecords: 100, triggerIntervalMs: 100 },
      log: { level: 'info' },
    });
    const { d, port } = await fx.daemon(w, 60_000);
    w.drop('a.jsonl', jsonl(records(40)));
    await waitFor(async () => (await published(port)) === 40, 90_000, '40 records published');
    const hits = await runJson<{ results: { id: string }[] }>(['search', 'cats', '-k', '3'], w.env());
    assert.ok(hits.results.length > 0, 'searchable through the CLI');

    w.drop('b.jsonl', jsonl(records(600, 40)));
    await waitFor(async () => (await published(port)) > 40, 90_000, 'a batch of b.jsonl committed');
    d.child.kill('SIGKILL');
    await d.exited;

    const { d: d2, port: port2 } = await fx.daemon(w, 60_000);
    await waitFor(async () => (await published(port2)) === 640, 120_000, 'all 640 records after restart');
    d2.child.kill('SIGKILL');
    await d2.exited;

    const v = await runJson<{ consistent: boolean; checkedIds: number }>(['verify'], w.env());
    assert.equal(v.consistent, true, JSON.stringify(v));
    assert.equal(v.checkedIds, 640);
    const rows = await servingRowsPg(scratch.url, w.data);
    assert.equal(new Set(rows.map((r) => r.rowKey)).size, rows.length, 'no duplicate rows');
    assert.equal(new Set(rows.map((r) => r.id)).size, 640);
    const files = await runJson<{ files: { path: string; published: number }[] }>(['files'], w.env());
    assert.deepEqual(files.files.map((f) => [path.basename(f.path), f.published]).sort(), [
      ['a.jsonl', 40],
      ['b.jsonl', 600],
    ]);
    assert.equal(existsSync(path.join(w.data, 'seamline.db')), false, 'nothing went to SQLite');
  });
});
