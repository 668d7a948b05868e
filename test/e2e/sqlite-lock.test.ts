import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { jsonl, runJson, startCli, waitFor, workspace } from '../helpers/cli.js';
import { E2eFixture, httpGet, listeningPort, published } from '../helpers/daemon.js';

// Issue 12 item 1: another connection (an operator's sqlite3 shell, a backup tool) holds the write lock
// for 30 s. The daemon must not die, /healthz must keep answering, and work resumes afterwards.

const LOCK_MS = 30_000;

const records = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    id: `r${from + i}`,
    version: 1,
    event_time: '2024-05-01T10:00:00Z',
    text: `record number ${from + i} about rivers and mountains`,
  }));

describe('a write lock held by another connection (subprocess daemon, real SQLite)', () => {
  const fx = new E2eFixture();
  const { workspaces: ws, processes: kids } = fx;
  after(() => fx.cleanup());

  it('keeps /healthz answering for 30 s without blocking on the lock, reports the stall in /readyz, does not exit, and resumes', async () => {
    const w = workspace({
      processor: { triggerIntervalMs: 100 },
      landing: { rescanIntervalMs: 500 },
      log: { level: 'info' },
    });
    ws.push(w);
    const d = startCli(['run', '--json'], w.env());
    kids.push(d);
    const port = await listeningPort(d);
    await waitFor(async () => (await httpGet(port, '/readyz', 5_000)).status === 200, 90_000, '/readyz 200');
    w.drop('a.jsonl', jsonl(records(20)));
    await waitFor(async () => (await published(port, 5_000)) === 20, 60_000, '20 records published');

    const other = new Database(path.join(w.data, 'seamline.db'));
    other.pragma('busy_timeout = 5000');
    other.exec('BEGIN IMMEDIATE');
    const lockedAt = Date.now();
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      other.exec('COMMIT');
      other.close();
    };
    try {
      // Work arrives while the lock is held: it must wait, not be lost.
      w.drop('b.jsonl', jsonl(records(30, 20)));
      const latencies: number[] = [];
      const failures: string[] = [];
      let notReady: string | null = null;
      while (Date.now() - lockedAt < LOCK_MS) {
        const t0 = performance.now();
        try {
          const r = await httpGet(port, '/healthz', 2_000);
          latencies.push(performance.now() - t0);
          if (r.status !== 200) failures.push(`healthz ${r.status}`);
        } catch (e) {
          failures.push(`healthz: ${(e as Error).message} after ${Math.round(performance.now() - t0)} ms`);
        }
        if (notReady === null && Date.now() - lockedAt > 5_000) {
          const r = await httpGet(port, '/readyz', 2_000).catch(() => null);
          if (r && r.status === 503) notReady = r.text;
        }
        assert.equal(
          d.child.exitCode,
          null,
          `the daemon exited while the lock was held:\n${d.output().stderr.slice(-3000)}`,
        );
        await new Promise((r) => setTimeout(r, 50));
      }
      release();
      latencies.sort((a, b) => a - b);
      const max = latencies[latencies.length - 1] ?? Infinity;
      const p50 = latencies[Math.floor(latencies.length / 2)] ?? Infinity;
      console.log(
        `healthz under a 30 s lock: n=${latencies.length} p50=${p50.toFixed(1)} ms max=${max.toFixed(1)} ms`,
      );
      assert.deepEqual(failures, []);
      assert.ok(latencies.length > 100, `only ${latencies.length} answers in 30 s`);
      // Blocking on the lock would stall the event loop for a busy timeout (5 s at start-up, up to 1 s as
      // daemonBusyTimeoutMs); 500 ms tells that apart from a loaded machine's scheduling noise (a CI run
      // beside benchmarks saw 107.8 ms once against the old 100 ms bound). The median shows the norm.
      assert.ok(max < 500, `slowest /healthz answer took ${max.toFixed(1)} ms while the lock was held`);
      assert.ok(p50 < 50, `median /healthz answer took ${p50.toFixed(1)} ms while the lock was held`);
      assert.ok(notReady !== null, '/readyz stayed 200 during a 30 s lock');
      assert.match(notReady, /stalled.*DB_BUSY/);
    } finally {
      release();
    }
    // Released: the waiting file lands and is published; the stall closes and its incident resolves.
    await waitFor(
      async () => (await published(port, 5_000)) === 50,
      60_000,
      'all 50 records published after the lock',
    );
    await waitFor(
      async () => (await httpGet(port, '/readyz', 5_000)).status === 200,
      30_000,
      '/readyz 200 again',
    );
    const status = JSON.parse((await httpGet(port, '/status', 5_000)).text) as {
      stalls: unknown[];
      incidents: { batchId: string; status: string; guard: string }[];
    };
    assert.deepEqual(status.stalls, []);
    const stallIncidents = status.incidents.filter((i) => i.batchId.startsWith('stall:'));
    assert.ok(stallIncidents.length > 0, 'the stall was recorded as an incident');
    assert.ok(
      stallIncidents.every((i) => i.status === 'resolved'),
      JSON.stringify(stallIncidents),
    );
    assert.equal(d.child.exitCode, null);
    const err = d.output().stderr;
    // Classified in the adapter: the raw SqliteError appears only as the `cause` of a DB_BUSY, never on its own.
    assert.doesNotMatch(err, /"level":60|^SqliteError/m);
    assert.match(err, /"code":"DB_BUSY"/);
    assert.match(err, /"event":"stall.closed"/);
    d.child.kill('SIGTERM');
    const exit = await d.exited;
    assert.equal(exit.code, 0, exit.stderr.slice(-2000));
    // Nothing lost or duplicated while the daemon waited: verify (with its vector sample) is clean.
    const v = await runJson<{ consistent: boolean; vectorsSampled: number }>(['verify'], w.env());
    assert.equal(v.consistent, true, JSON.stringify(v));
  });
});
