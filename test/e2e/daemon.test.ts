import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { jsonl, runCli, runJson, startCli, waitFor, workspace } from '../helpers/cli.js';
import { E2eFixture, httpGet, listeningPort, published } from '../helpers/daemon.js';
import { parsePrometheus } from '../helpers/prometheus.js';
import { servingRows } from '../helpers/table.js';

const records = (n: number, from = 0, version = 1) =>
  Array.from({ length: n }, (_, i) => ({
    id: `r${from + i}`,
    version,
    event_time: '2024-05-01T10:00:00Z',
    text: `record number ${from + i} about rivers mountains and ${i % 7 === 0 ? 'cats' : 'dogs'}`,
  }));

describe('daemon lifecycle and HTTP (subprocess)', () => {
  const fx = new E2eFixture();
  const { workspaces: ws, processes: kids } = fx;
  after(() => fx.cleanup());

  it('readyz waits for the model; metrics parse and match status; a second daemon is refused; SIGTERM mid-batch exits 0 and restart finishes', async () => {
    const w = workspace({ processor: { maxRecords: 200, triggerIntervalMs: 100 }, log: { level: 'info' } });
    ws.push(w);
    const d = startCli(['run', '--json'], w.env());
    kids.push(d);
    const port = await listeningPort(d);
    // Poll /readyz from the first moment: every answer before the model is loaded must be 503.
    const seen: number[] = [];
    await waitFor(
      async () => {
        const r = await httpGet(port, '/readyz');
        seen.push(r.status);
        if (r.status === 503) assert.match(r.text, /model is not loaded|starting/);
        return r.status === 200;
      },
      60_000,
      '/readyz 200',
      20,
    );
    const loadedAt = d.output().stderr.indexOf('"event":"model.loaded"');
    assert.ok(loadedAt >= 0, 'the model.loaded log line was written before ready');
    assert.equal(seen[seen.length - 1], 200);
    assert.ok(seen.slice(0, -1).every((s) => s === 503));
    assert.equal((await httpGet(port, '/healthz')).status, 200);

    // Second daemon on the same data folder: refused with LOCKED (exit 6).
    const second = await runCli(['run'], w.env());
    assert.equal(second.code, 6, second.stderr);
    assert.match(second.stderr, /LOCKED: another seamline process .* is writing to/);

    // Metrics and /status agree with status --json.
    w.drop('a.jsonl', jsonl(records(50)));
    await waitFor(async () => (await published(port)) === 50, 60_000, '50 records published');
    const m = parsePrometheus((await httpGet(port, '/metrics')).text);
    const s = await runJson<{
      records: { read: number; landed: number; quarantined: number };
      table: {
        rows: number;
        counters: {
          batchesCommitted: number;
          recordsPublished: number;
          textsEmbedded: number;
          textsReused: number;
        };
      };
    }>(['status'], w.env());
    assert.equal(m.get('seamline_records_read_total'), s.records.read);
    assert.equal(m.get('seamline_records_landed_total'), s.records.landed);
    assert.equal(m.get('seamline_records_quarantined_total'), s.records.quarantined);
    assert.equal(m.get('seamline_records_published_total'), s.table.counters.recordsPublished);
    assert.equal(m.get('seamline_batches_committed_total'), s.table.counters.batchesCommitted);
    assert.equal(m.get('seamline_texts_embedded_total'), s.table.counters.textsEmbedded);
    assert.equal(m.get('seamline_table_rows'), s.table.rows);
    assert.equal(m.get('seamline_ledger_backlog_records'), 0);
    assert.equal(m.get('seamline_landing_to_searchable_seconds_count'), 50);
    assert.equal(m.get('seamline_daemon_state{state="running"}'), 1);
    assert.equal(m.get('seamline_model_loaded'), 1);

    // POST /search through the daemon.
    const sr = await fetch(`http://127.0.0.1:${port}/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'cats',
        k: 3,
        mode: 'hybrid',
        filters: [{ field: 'id', op: 'in', value: ['r0', 'r7', "x' OR 1=1 --"] }],
      }),
    });
    const body = (await sr.json()) as { results: { id: string }[] };
    assert.equal(sr.status, 200);
    assert.deepEqual(body.results.map((r) => r.id).sort(), ['r0', 'r7']);

    // SIGTERM while batches are in flight: exit 0; the ledger is committed or re-planned on restart.
    w.drop('b.jsonl', jsonl(records(1000, 50)));
    await waitFor(async () => (await published(port)) > 50, 60_000, 'a batch of b.jsonl committed');
    d.child.kill('SIGTERM');
    const exit = await d.exited;
    assert.equal(exit.code, 0, exit.stderr.slice(-2000));
    assert.match(exit.stderr, /"event":"daemon.state","state":"draining"/);
    assert.match(exit.stderr, /"event":"daemon.state","state":"stopped"/);

    // Restart: it resumes and ends with every record searchable and verify clean.
    const d2 = startCli(['run', '--json'], w.env());
    kids.push(d2);
    const port2 = await listeningPort(d2);
    await waitFor(
      async () => (await published(port2)) === 1050,
      90_000,
      'all 1050 records published after restart',
    );
    d2.child.kill('SIGKILL');
    await d2.exited;
    // After SIGKILL the lease of a dead pid does not block the next writer.
    const v = await runJson<{ consistent: boolean; checkedIds: number }>(['verify'], w.env());
    assert.equal(v.consistent, true);
    assert.equal(v.checkedIds, 1050);
    const rows = await servingRows(w.data);
    assert.equal(new Set(rows.map((r) => r.rowKey)).size, rows.length);
  });
});
