import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { jsonl, runJson, startCli, waitFor, workspace, type Workspace } from '../helpers/cli.js';
import { listeningPort } from '../helpers/daemon.js';

const records = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    id: `r${from + i}`,
    version: 1,
    event_time: '2024-01-01T00:00:00Z',
    text: `record number ${from + i} about signals, drains and deadlines in a long running job`,
  }));

/** The one job harness (src/runtime/job.ts) as the commands use it: real subprocesses, real signals. */
describe('job harness: SIGTERM drains, a second signal exits at once (subprocess)', () => {
  const ws: Workspace[] = [];
  const kids: ReturnType<typeof startCli>[] = [];
  after(() => {
    for (const k of kids)
      if (k.child.exitCode === null && k.child.signalCode === null) k.child.kill('SIGKILL');
    for (const w of ws) w.cleanup();
  });

  it('ingest --once: SIGTERM stops after the batch in flight (exit 130, ABORTED); the next run finishes the rest', async () => {
    const w = workspace({ processor: { maxRecords: 50 }, log: { level: 'info' } });
    ws.push(w);
    w.drop('a.jsonl', jsonl(records(1500)));
    const p = startCli(['ingest', '--once', '--json'], w.env());
    kids.push(p);
    await waitFor(
      () => /"event":"batch.committed"/.test(p.output().stderr),
      120_000,
      'a first batch committed',
    );
    p.child.kill('SIGTERM');
    const r = await p.exited;
    assert.equal(r.code, 130, r.stderr.slice(-2000));
    assert.match(r.stderr, /"event":"ingest.draining","signal":"SIGTERM"/);
    assert.match(r.stderr, /ABORTED: ingest interrupted after \d+ batch\(es\)/);
    assert.doesNotMatch(r.stderr, /forced_exit/);
    // The lease was released on the way out: the next run takes it and processes what is left.
    const s = await runJson<{ records: number; tableRows: number }>(['ingest', '--once'], w.env());
    assert.ok(s.records > 0 && s.records < 1500, `the second run processed ${s.records} record(s)`);
    assert.equal(s.tableRows, 1500);
  });

  it('run: a second signal while the worker embeds ends the daemon at once by that signal, logging the forced exit', async () => {
    // Every batch is 300 records on the 512-d model (seconds each), and the backlog lane never rests
    // (maxShare 1): once the first batch has committed, the next one is in flight. With the defaults
    // (glove, growing batches, a 10 % rest after each) the SIGTERM could land between two batches, the
    // drain finished in 3 ms, and the SIGINT found the daemon already stopped (CI run 10).
    const w = workspace({
      model: { id: 'local/use-lite-512d' },
      processor: {
        maxRecords: 300,
        backlog: { initialRecords: 300, minRecords: 300, maxShare: 1 },
      },
      log: { level: 'info' },
    });
    ws.push(w);
    const d = startCli(['run', '--json'], w.env());
    kids.push(d);
    await listeningPort(d);
    w.drop('a.jsonl', jsonl(records(1500)));
    // After the first commit the next batch (300 records to embed) is in flight: the drain waits for it.
    await waitFor(
      () => /"event":"batch.committed"/.test(d.output().stderr),
      120_000,
      'a first batch committed',
    );
    // Back to back: the drain (batch in flight, HTTP, watcher, stores) cannot finish between the two.
    d.child.kill('SIGTERM');
    d.child.kill('SIGINT');
    const r = await d.exited;
    // It ends by the second signal, as its default action would (a shell reports 130), not by an
    // abort: process.exit() with the embedding worker inside ONNX Runtime ended in SIGABRT
    // ("terminate called after throwing an instance of 'Napi::Error'").
    // Both signals are pending at once: the kernel hands them over in its own order (SIGINT first).
    const second = /"event":"daemon.forced_exit","signal":"(SIG[A-Z]+)"/.exec(r.stderr)?.[1];
    assert.ok(second === 'SIGINT' || second === 'SIGTERM', r.stderr.slice(-2000));
    assert.deepEqual([r.code, r.signal], [null, second], r.stderr.slice(-2000));
    assert.doesNotMatch(r.stderr, /terminate called|Napi::Error/);
    assert.match(r.stderr, /"event":"daemon.draining"/);
    assert.match(r.stderr, /"event":"daemon.forced_exit"/);
    assert.doesNotMatch(r.stderr, /"state":"stopped"/, 'it did not wait for the drain');
    // The proof the drain had something to wait for: the batch in flight never committed.
    const commits = r.stderr.match(/"event":"batch.committed"/g) ?? [];
    assert.ok(commits.length < 5, `${commits.length} of 5 batches committed`);
  });
});
