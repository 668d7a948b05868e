import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqlite } from '../../src/store/sqlite/db.js';
import { RegistrySql as TableRegistry } from '../../src/store/sqlite/registry.js';
import type { VectorRow } from '../../src/ports/vector-store.js';
import { jsonl, runJson, startCli, waitFor, workspace, type Workspace } from '../helpers/cli.js';
import { servingRows } from '../helpers/table.js';

function servingName(dataDir: string): string | null {
  const db = openSqlite(path.join(dataDir, 'seamline.db'), { synchronous: 'FULL', busyTimeoutMs: 5000 });
  try {
    return new TableRegistry(db).serving()?.tableName ?? null;
  } finally {
    db.close();
  }
}

const key = (r: VectorRow) => `${r.rowKey}|${r.sourceVersion}|${r.bronzeSeq}|${r.contentHash}`;

describe('reindex killed with SIGKILL at random points leaves serving untouched; running it again completes', () => {
  let ws: Workspace;
  const seed = Number(process.env.REINDEX_KILL_SEED ?? Date.now() % 100_000);
  let s = seed;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) % 2147483648), s / 2147483648);
  const N = 300;

  before(async () => {
    ws = workspace();
    const recs = Array.from({ length: N }, (_, i) => ({
      id: `k-${i}`,
      version: 1,
      event_time: '2026-03-01T10:00:00Z',
      text: `kill test record ${i} about ${['ships', 'trees', 'stars', 'rocks'][i % 4]} number ${i * 7}`,
    }));
    ws.drop('a.jsonl', jsonl(recs));
    await runJson(['ingest', '--once'], ws.env());
  });
  after(() => ws.cleanup());

  it(`survives kills during build, catch-up/gates and right before the swap (seed ${seed}), then completes`, async () => {
    const before = (await servingRows(ws.data)).map(key).sort();
    assert.equal(before.length, N);
    // 50 records/s: the build takes ~6 s after the model loads, so every kill lands inside the run.
    const env = ws.env({
      SEAMLINE_LOG__LEVEL: 'info',
      SEAMLINE_REINDEX__MAX_RECORDS_PER_SECOND: '50',
      SEAMLINE_REINDEX__PAGE_SIZE: '25',
    });
    // Kill points: a log event, random times, and SEAMLINE_FAULT points (the process SIGKILLs itself).
    type Point =
      { kind: 'time'; ms: number } | { kind: 'event'; event: string } | { kind: 'fault'; fault: string };
    const plan: Point[] = [
      { kind: 'event', event: 'reindex.started' },
      { kind: 'time', ms: 1200 + Math.floor(rnd() * 1300) },
      { kind: 'time', ms: 1200 + Math.floor(rnd() * 1300) },
      { kind: 'fault', fault: `reindex-after-page:${1 + Math.floor(rnd() * 3)}` },
      { kind: 'fault', fault: 'reindex-before-swap' },
    ];
    const killedAt: string[] = [];
    for (const p of plan) {
      const run = startCli(
        ['reindex', '--yes'],
        p.kind === 'fault' ? { ...env, SEAMLINE_FAULT: p.fault } : env,
      );
      if (p.kind === 'time') await new Promise((r) => setTimeout(r, p.ms));
      else if (p.kind === 'event')
        await waitFor(
          () => run.output().stderr.includes(`"event":"${p.event}"`),
          60_000,
          `log event ${p.event}`,
          20,
        );
      else await run.exited;
      run.child.kill('SIGKILL');
      const res = await run.exited;
      assert.equal(
        res.signal,
        'SIGKILL',
        `the run was killed (not finished) at ${JSON.stringify(p)}; stderr: ${res.stderr.slice(-800)}`,
      );
      const done = (res.stderr.match(/"event":"reindex\.(\w+)"/g) ?? []).join(',');
      killedAt.push(`${JSON.stringify(p)} after [${done}]`);
      assert.equal(servingName(ws.data), 'records_v1', `serving untouched after kill ${JSON.stringify(p)}`);
      assert.deepEqual((await servingRows(ws.data)).map(key).sort(), before, 'serving rows untouched');
      const st = await runJson<{ reindex: { state: string; tableName: string } }>(['status'], ws.env());
      assert.ok(
        ['building', 'catching_up', 'gating'].includes(st.reindex.state),
        `job left resumable, got ${JSON.stringify(st.reindex)} after ${killedAt.join('; ')}`,
      );
      assert.equal(
        st.reindex.tableName,
        'records_v2',
        'the same job and table are resumed, not a new one per kill',
      );
    }
    const r = await runJson<{
      state: string;
      resumed: boolean;
      table: string;
      textsEmbedded: number;
      records: number;
    }>(['reindex', '--yes'], ws.env());
    assert.equal(r.state, 'swapped', `killed at: ${killedAt.join('; ')}`);
    assert.equal(r.resumed, true);
    assert.equal(r.table, 'records_v2');
    assert.equal(r.textsEmbedded, 0, 'same model: nothing embedded, across all attempts');
    assert.equal(servingName(ws.data), 'records_v2');
    const rows = await servingRows(ws.data);
    assert.deepEqual(rows.map(key).sort(), before, 'every id present once, same content as the old table');
  });
});
