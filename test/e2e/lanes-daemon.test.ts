import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { after, describe, it } from 'node:test';
import { jsonl, runJson, startCli, waitFor, workspace, type Workspace } from '../helpers/cli.js';
import { parsePrometheus } from '../helpers/prometheus.js';

// The daemon's two lanes from outside: a backfill goes to the backlog lane, a small fresh file to the
// live lane; freshness is exported per lane; a violated objective makes /readyz (still 200) and status
// say "degraded" with the lane and the stage of the budget.

const recs = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i}`,
    version: 1,
    event_time: '2026-01-01T00:00:00Z',
    text: `${prefix} record ${i} about rivers, harbors and lanterns`,
  }));

describe('processor lanes in the daemon (subprocess)', () => {
  let ws: Workspace;
  let d: ReturnType<typeof startCli> | null = null;
  after(async () => {
    if (d && d.child.exitCode === null && d.child.signalCode === null) {
      d.child.kill('SIGKILL');
      await d.exited;
    }
    ws?.cleanup();
  });

  it(
    'backfill → backlog lane, small file → live lane; per-lane metrics; a violated objective degrades /readyz and status',
    { timeout: 180_000 },
    async () => {
      // An objective no file can meet (1 ms, judged from the first file) so the degraded path is exercised.
      ws = workspace({
        model: { id: 'local/glove-sif-100d' },
        processor: {
          triggerIntervalMs: 100,
          lanes: { liveMaxFileRecords: 50 },
          backlog: { timeBoxMs: 20, initialRecords: 16, minRecords: 8 },
          freshness: { objectiveMs: 1, minSamples: 1, windowMs: 600_000 },
        },
        completeness: { stableWindowMs: 100 },
        log: { level: 'info' },
      });
      d = startCli(['run', '--json'], ws.env());
      const line = await waitFor(
        () =>
          d!
            .output()
            .stdout.split('\n')
            .find((l) => l.includes('http.listening')),
        60_000,
        'the http.listening line',
      );
      const port = (JSON.parse(line) as { port: number }).port;
      const get = async (p: string): Promise<{ status: number; text: string }> => {
        const r = await fetch(`http://127.0.0.1:${port}${p}`);
        return { status: r.status, text: await r.text() };
      };
      await waitFor(async () => (await get('/readyz')).status === 200, 60_000, 'the daemon to be ready');
      ws.drop('backfill.jsonl', jsonl(recs('bf', 300)));
      ws.drop('fresh.jsonl', jsonl(recs('live', 5)));
      await waitFor(
        async () => {
          const s = JSON.parse((await get('/status')).text) as {
            table?: { counters?: { recordsPublished?: number } };
          };
          return (s.table?.counters?.recordsPublished ?? 0) >= 305;
        },
        120_000,
        'both files to be published',
        200,
      );
      const m = parsePrometheus((await get('/metrics')).text);
      assert.equal(
        m.get('seamline_freshness_seconds_count{lane="live"}'),
        1,
        'the small file went through the live lane',
      );
      assert.equal(
        m.get('seamline_freshness_seconds_count{lane="backlog"}'),
        1,
        'the backfill through the backlog lane',
      );
      assert.equal(m.get('seamline_lane_backlog_records{lane="backlog"}'), 0);
      assert.equal(m.get('seamline_freshness_degraded'), 1);
      const ready = await get('/readyz');
      assert.equal(ready.status, 200, 'degraded is not unready');
      const body = JSON.parse(ready.text) as { ready: boolean; reasons: string[] };
      assert.equal(body.ready, true);
      assert.ok(
        body.reasons.some((r) =>
          /^degraded: live lane freshness p99 .* > objective 0\.00 s .*stage '\w+'/.test(r),
        ),
        JSON.stringify(body.reasons),
      );
      d.child.kill('SIGTERM');
      await d.exited;
      // The CLI status judges the same objective from the ledger (no daemon needed) and says why.
      const st = await runJson<{
        table: { lanes: { degraded: string | null; freshness: { worstStage: string; samples: number } } };
      }>(['status'], ws.env());
      assert.match(st.table.lanes.degraded ?? '', /^degraded: live lane/);
      assert.equal(st.table.lanes.freshness.samples, 1);
      // The backfill was sliced into several time-boxed backlog batches; the small file is one live batch.
      const db = new Database(path.join(ws.data, 'seamline.db'), { readonly: true });
      try {
        const by = Object.fromEntries(
          (
            db
              .prepare(`SELECT lane, COUNT(*) AS n FROM batches WHERE state = 'committed' GROUP BY lane`)
              .all() as {
              lane: string;
              n: number;
            }[]
          ).map((r) => [r.lane, r.n]),
        );
        assert.equal(by.live, 1, JSON.stringify(by));
        assert.ok((by.backlog ?? 0) >= 2, JSON.stringify(by));
      } finally {
        db.close();
      }
    },
  );
});
