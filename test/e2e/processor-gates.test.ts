import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jsonl, runCli, runJson, workspace, type Workspace } from '../helpers/cli.js';
import { servingRows } from '../helpers/table.js';

interface StatusOut {
  table: { batches: Record<string, number> };
  incidents: {
    batchId: string;
    failureMode: string;
    status: string;
    affectedRows: number;
    guard: string;
    runId: string;
    pipeline: string;
    detail: { attempts: number };
  }[];
}

describe('quality gates through the CLI: a refused batch stays unpublished, is listed as an incident, and an operator can waive it', () => {
  let ws: Workspace;
  before(() => {
    ws = workspace({ gates: { quarantineMinRecords: 4, maxQuarantineRatio: 0.5 } });
    const good = [
      { id: 'g1', version: 1, event_time: '2026-01-01T00:00:00Z', text: 'granite lantern orchard' },
      { id: 'g2', version: 1, event_time: '2026-01-01T00:00:01Z', text: 'violin harbor comet' },
    ];
    const bad = [1, 2, 3, 4].map((i) => ({
      id: `b${i}`,
      version: 1,
      event_time: '2026-01-01T00:00:00',
      text: 'no zone',
    }));
    ws.drop('mostly-bad.jsonl', jsonl([...good, ...bad]));
  });
  after(() => ws.cleanup());

  it('ingest --once exits with GATE_FAILED (7); nothing is published; status --json lists the incident and the failed batch', async () => {
    const r = await runCli(['ingest', '--once', '--json'], ws.env());
    assert.equal(r.code, 7, r.stderr.slice(-2000));
    assert.match(r.stdout + r.stderr, /GATE_FAILED/);
    assert.equal((await servingRows(ws.data)).length, 0);
    const s = await runJson<StatusOut>(['status'], ws.env());
    assert.equal(s.table.batches.failed, 1);
    assert.equal(s.incidents.length, 1);
    const inc = s.incidents[0]!;
    assert.deepEqual(
      [inc.batchId, inc.failureMode, inc.status, inc.affectedRows, inc.pipeline],
      ['records_v1:1-2', 'quarantine_ratio', 'open', 4, 'processor:records_v1'],
    );
    assert.match(inc.guard, /maxQuarantineRatio=0.5/);
    assert.match(inc.runId, /^[0-9a-f]{8}$/);
  });

  it('a restart retries the same batch once and fails the same way: the incident is updated, not duplicated', async () => {
    const r = await runCli(['ingest', '--once'], ws.env());
    assert.equal(r.code, 7);
    const s = await runJson<StatusOut>(['status'], ws.env());
    assert.equal(s.incidents.length, 1);
    assert.equal(s.incidents[0]!.detail.attempts, 2);
  });

  it('SEAMLINE_GATES__WAIVE names the batch: it commits with exactly its planned range and the incident is closed as waived', async () => {
    const out = await runJson<{ batches: number; inserted: number }>(
      ['ingest', '--once'],
      ws.env({ SEAMLINE_GATES__WAIVE: '["records_v1:1-2"]' }),
    );
    assert.equal(out.batches, 1);
    assert.equal(out.inserted, 2);
    const rows = await servingRows(ws.data);
    assert.deepEqual(rows.map((x) => [x.id, x.batchId]).sort(), [
      ['g1', 'records_v1:1-2'],
      ['g2', 'records_v1:1-2'],
    ]);
    const s = await runJson<StatusOut>(['status'], ws.env());
    assert.equal(s.table.batches.failed ?? 0, 0);
    assert.equal(s.incidents[0]!.status, 'waived');
  });
});
