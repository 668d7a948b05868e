import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { VectorRow } from '../../src/ports/vector-store.js';
import { jsonl, runJson, startCli, waitFor, workspace, type Workspace } from '../helpers/cli.js';
import { servingRows } from '../helpers/table.js';

interface Rec {
  id: string;
  version: number;
  event_time: string;
  text?: string;
  op?: 'delete';
}

const TOPICS = [
  'sailing ships on a stormy sea',
  'ancient oak trees in the forest',
  'bright stars over the desert',
  'granite rocks on a mountain',
  'fresh bread from the bakery',
  'trains crossing a river bridge',
];
const id = (i: number): string => `doc-${String(i).padStart(4, '0')}`;
const rec = (i: number, version: number): Rec => ({
  id: id(i),
  version,
  event_time: '2026-03-01T10:00:00Z',
  text: `note ${i} v${version}: ${TOPICS[(i + version) % TOPICS.length]} and item ${i}`,
});

/** The latest live record per id after applying files in order (highest version wins). */
function latest(files: Rec[][]): Map<string, Rec> {
  const m = new Map<string, Rec>();
  for (const r of files.flat()) {
    const cur = m.get(r.id);
    if (!cur || r.version > cur.version) m.set(r.id, r);
  }
  for (const [k, r] of m) if (r.op === 'delete') m.delete(k);
  return m;
}

/** True when the serving table holds exactly the expected records, once each, with dim-d vectors. */
function matches(rows: VectorRow[], want: Map<string, Rec>, dim: number): string | true {
  const byId = new Map<string, VectorRow[]>();
  for (const r of rows) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
  if (byId.size !== want.size) return `ids ${byId.size} != ${want.size}`;
  for (const [k, r] of want) {
    const got = byId.get(k);
    if (!got || got.length !== 1) return `${k}: ${got?.length ?? 0} rows`;
    if (got[0]!.sourceVersion !== r.version) return `${k}: v${got[0]!.sourceVersion} != v${r.version}`;
    if (got[0]!.vector.length !== dim) return `${k}: ${got[0]!.vector.length}-d`;
  }
  return true;
}

describe('reindex switches the model (glove-sif-100d → use-lite-512d) while the daemon ingests; rollback in one step', () => {
  let ws: Workspace;
  let daemon: ReturnType<typeof startCli> | null = null;
  const a = Array.from({ length: 150 }, (_, i) => rec(i, 1));
  const b: Rec[] = [
    ...Array.from({ length: 30 }, (_, i) => rec(i, 2)),
    ...Array.from({ length: 10 }, (_, i): Rec => ({
      id: id(30 + i),
      version: 2,
      event_time: '2026-03-02T10:00:00Z',
      op: 'delete',
    })),
    ...Array.from({ length: 40 }, (_, i) => rec(150 + i, 1)),
  ];
  const c = Array.from({ length: 5 }, (_, i) => rec(40 + i, 3));

  before(() => {
    ws = workspace({ processor: { triggerIntervalMs: 200 }, landing: { rescanIntervalMs: 500 } });
  });
  after(async () => {
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    ws.cleanup();
  });

  it('search answers throughout; after the swap every latest id is present once, 512-d; rollback brings back the 100-d table', async (t) => {
    ws.drop('a.jsonl', jsonl(a));
    daemon = startCli(['run'], ws.env({ SEAMLINE_LOG__LEVEL: 'info' }));
    await waitFor(
      async () => matches(await servingRows(ws.data), latest([a]), 100) === true,
      90_000,
      'the daemon to index a.jsonl',
    );

    // A throughput cap makes the build take a few seconds, so ingest really happens during it.
    const reindex = startCli(
      ['reindex', '--model', 'local/use-lite-512d', '--yes', '--json'],
      ws.env({
        SEAMLINE_LOG__LEVEL: 'info',
        SEAMLINE_REINDEX__MAX_RECORDS_PER_SECOND: '40',
        SEAMLINE_REINDEX__PAGE_SIZE: '20',
      }),
    );
    await waitFor(
      () => reindex.output().stderr.includes('"event":"reindex.started"'),
      60_000,
      'the reindex to start',
    );
    ws.drop('b.jsonl', jsonl(b));

    let searches = 0;
    const tablesSeen = new Set<string>();
    let finished = false;
    void reindex.exited.then(() => (finished = true));
    while (!finished) {
      const s = await runJson<{ table: string; results: { id: string }[] }>(
        ['search', 'ships on a stormy sea', '-k', '3'],
        ws.env(),
      );
      assert.equal(s.results.length, 3, 'search answers during the reindex');
      tablesSeen.add(s.table);
      searches += 1;
    }
    const res = await reindex.exited;
    assert.equal(res.code, 0, `reindex exit; stderr: ${res.stderr.slice(-2000)}`);
    const report = JSON.parse(res.stdout) as {
      state: string;
      table: string;
      dim: number;
      caughtUpSeq: number;
      catchUpRounds: number;
      gates: { name: string; passed: boolean }[];
    };
    assert.equal(report.state, 'swapped');
    assert.deepEqual([report.table, report.dim], ['records_v2', 512]);
    assert.ok(searches >= 1 && tablesSeen.has('records_v1'), `searched ${searches} time(s) during the build`);
    // b.jsonl was committed to records_v1 while the build ran: the reindex caught it up before swapping.
    assert.ok(
      report.catchUpRounds >= 1 && report.caughtUpSeq >= a.length + b.length,
      `catch-up: ${report.catchUpRounds} round(s) up to seq ${report.caughtUpSeq}`,
    );
    t.diagnostic(
      `${searches} search(es) answered during the reindex; catch-up rounds ${report.catchUpRounds}`,
    );

    // The daemon follows the pointer without restart and writes the new table from then on.
    await waitFor(
      async () => matches(await servingRows(ws.data), latest([a, b]), 512) === true,
      90_000,
      'every latest id once, 512-d, in records_v2',
    );
    const s = await runJson<{
      table: string;
      results: { id: string; provenance: { dim: number; modelId: string } }[];
    }>(['search', 'bright stars over the desert', '-k', '3'], ws.env());
    assert.equal(s.table, 'records_v2');
    assert.deepEqual(
      [s.results[0]!.provenance.dim, s.results[0]!.provenance.modelId],
      [512, 'local/use-lite-512d'],
    );
    ws.drop('c.jsonl', jsonl(c));
    await waitFor(
      async () => matches(await servingRows(ws.data), latest([a, b, c]), 512) === true,
      60_000,
      'c.jsonl ingested into the new table by the same daemon',
    );
    assert.match(daemon.output().stderr, /"event":"daemon.table_switched"/);

    const rb = await runJson<{ from: string; to: string; dim: number }>(['rollback'], ws.env());
    assert.deepEqual([rb.from, rb.to, rb.dim], ['records_v2', 'records_v1', 100]);
    // The old table catches up on what it missed while it was not serving (state-based replay).
    await waitFor(
      async () => matches(await servingRows(ws.data), latest([a, b, c]), 100) === true,
      60_000,
      'records_v1 serving again, caught up, 100-d',
    );
    const s2 = await runJson<{ table: string; results: { provenance: { dim: number } }[] }>(
      ['search', 'granite rocks', '-k', '3'],
      ws.env(),
    );
    assert.deepEqual([s2.table, s2.results[0]!.provenance.dim], ['records_v1', 100]);

    daemon.child.kill('SIGTERM');
    const d = await daemon.exited;
    assert.equal(d.code, 0, `daemon exit; stderr: ${d.stderr.slice(-1500)}`);
  });
});
