import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { jsonl, runJson, waitFor } from '../helpers/cli.js';
import { E2eFixture } from '../helpers/daemon.js';

/** Nice value of each thread of a process (Linux: field 19 of /proc/PID/task/TID/stat). */
function threadNices(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // After the command name "(…)" come the fields from 3 (state) on: nice is field 19.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), Number(fields[19 - 3]));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

const records = Array.from({ length: 60 }, (_, i) => ({
  id: `p${i}`,
  version: 1,
  event_time: '2024-01-01T00:00:00Z',
  text: `record ${i} about compaction at a lower priority than the daemon`,
}));

/**
 * Issue 11: the optimize job's compaction and index builds shared the two cores with the daemon's live
 * lane at the same priority. `optimize.nice` renices every thread of the job at start, and the threads
 * LanceDB starts later inherit it. Checked from outside, on the real process's /proc entries.
 */
describe('optimize job priority (subprocess, /proc)', () => {
  const fx = new E2eFixture();
  after(() => fx.cleanup());

  const runOptimizer = async (nice?: number) => {
    const w = fx.workspace({
      log: { level: 'info' },
      optimize: { intervalMs: 200, compactMinSmallFragments: 2, ...(nice === undefined ? {} : { nice }) },
      processor: { maxRecords: 10 },
    });
    w.drop('a.jsonl', jsonl(records));
    await runJson(['ingest', '--once'], w.env());
    const job = fx.start(['optimize'], w.env());
    // Two passes done: LanceDB has opened the table and compacted, so its threads exist.
    await waitFor(
      () => (job.output().stderr.match(/"event":"optimize.run"/g) ?? []).length >= 2,
      60_000,
      'two optimize passes',
    );
    const nices = threadNices(job.child.pid!);
    job.child.kill('SIGTERM');
    const r = await job.exited;
    return { nices, stderr: r.stderr, code: r.code };
  };

  it('by default every thread of the job, including those LanceDB started after, runs at nice 10', async () => {
    const { nices, stderr, code } = await runOptimizer();
    assert.equal(code, 0, stderr.slice(-2000));
    assert.match(stderr, /"event":"priority.lowered","nice":10/);
    const lowered = JSON.parse(stderr.split('\n').find((l) => l.includes('"priority.lowered"'))!) as {
      reniced: number;
    };
    // More threads exist now than were reniced at start: the later ones inherited the value.
    assert.ok(nices.size > lowered.reniced, `${nices.size} threads now, ${lowered.reniced} reniced at start`);
    assert.deepEqual([...new Set(nices.values())], [10], JSON.stringify([...nices]));
  });

  it('optimize.nice = 0 leaves the job at the priority it was started with', async () => {
    const { nices, stderr } = await runOptimizer(0);
    assert.doesNotMatch(stderr, /priority.lowered/);
    const mine = threadNices(process.pid).get(process.pid);
    assert.deepEqual([...new Set(nices.values())], [mine], JSON.stringify([...nices]));
  });
});
