import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqlite } from '../../src/store/sqlite/db.js';
import { jsonl, runCli, runJson, workspace } from '../helpers/cli.js';
import { servingRows } from '../helpers/table.js';

interface Run {
  status: string;
  actions: string[];
  reasons: { action: string; decision: string; why: string }[];
  fragmentsBefore: number;
  fragmentsAfter: number;
  versionsBefore: number;
  versionsAfter: number;
  error: string | null;
}

describe('seamline optimize --once (subprocess CLI)', () => {
  const ws = workspace({
    processor: { maxRecords: 40 },
    optimize: { compactMinSmallFragments: 4, versionRetentionMs: 0 },
  });
  after(() => ws.cleanup());

  it('skips while another optimizer holds the lease, then compacts and prunes with reasons; data unchanged', async () => {
    for (let f = 0; f < 3; f++)
      ws.drop(
        `f${f}.jsonl`,
        jsonl(
          Array.from({ length: 80 }, (_, i) => ({
            id: `d${f * 80 + i}`,
            version: 1,
            event_time: '2024-01-01T00:00:00Z',
            text: `document ${f * 80 + i} about rivers and copper`,
          })),
        ),
      );
    const ing = await runJson<{ batches: number }>(['ingest', '--once'], ws.env());
    // Each batch is one merge, so one fragment: at least 6 (the lanes may slice the files finer).
    assert.ok(ing.batches >= 6, `batches ${ing.batches}`);
    const before = (await servingRows(ws.data))
      .map((r) => `${r.rowKey}:${r.sourceVersion}:${r.contentHash}`)
      .sort();

    // Another live optimizer (this test process) holds the maintenance lease.
    const db = openSqlite(path.join(ws.data, 'seamline.db'), { synchronous: 'FULL', busyTimeoutMs: 5000 });
    db.prepare('INSERT INTO leases (name, holder, expires_at_ms) VALUES (?, ?, ?)').run(
      'maintenance',
      `${hostname()}:${process.pid}:optimize`,
      Date.now() + 60_000,
    );
    const skipped = await runJson<Run>(['optimize', '--once'], ws.env());
    assert.equal(skipped.status, 'skipped');
    assert.match(skipped.error ?? '', /another optimizer holds the maintenance lease/);
    assert.ok(skipped.fragmentsBefore >= 6);
    db.prepare('DELETE FROM leases WHERE name = ?').run('maintenance');

    const r = await runJson<Run>(['optimize', '--once'], ws.env());
    assert.equal(r.status, 'ok', r.error ?? '');
    assert.ok(r.actions.includes('optimize'));
    assert.ok(r.fragmentsAfter <= 2, `fragments ${r.fragmentsBefore} → ${r.fragmentsAfter}`);
    assert.ok(r.versionsAfter < r.versionsBefore, `versions ${r.versionsBefore} → ${r.versionsAfter}`);
    assert.ok(
      r.reasons.some((x) => x.action === 'compact' && x.decision === 'do' && /threshold 4/.test(x.why)),
    );
    const after = (await servingRows(ws.data))
      .map((x) => `${x.rowKey}:${x.sourceVersion}:${x.contentHash}`)
      .sort();
    assert.deepEqual(after, before);

    // Human output names what was done and skipped.
    const human = await runCli(['optimize', '--once'], ws.env());
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^optimize (ok|noop) on records_v1/);
    assert.match(human.stdout, /- vector-index: \d+ row\(s\) < annMinRows 10000/);

    const runs = db.prepare('SELECT status FROM optimize_runs ORDER BY started_at_ms').all() as {
      status: string;
    }[];
    db.close();
    assert.deepEqual(runs.map((x) => x.status).slice(0, 2), ['skipped', 'ok']);
    assert.equal(runs.length, 3);
  });
});
