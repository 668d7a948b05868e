import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../../src/config/load.js';
import { isSeamlineError } from '../../../src/errors/errors.js';
import type { Embedder } from '../../../src/ports/embedder.js';
import type {
  JobProgress,
  KeyRow,
  NewJob,
  ReindexJob,
  ReindexStore,
  SwapOutcome,
  SwapRequest,
} from '../../../src/ports/reindex-store.js';
import type { VectorStore, VectorTable } from '../../../src/ports/vector-store.js';
import type { GateResult } from '../../../src/reindex/gates.js';
import { nextStep, resumeDecision, type Facts } from '../../../src/reindex/machine.js';
import { runReindex, type ReindexDeps } from '../../../src/reindex/reindex.js';
import { SqliteLeases } from '../../../src/store/sqlite/leases.js';
import { openSqlite } from '../../../src/store/sqlite/db.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const gate = (name: string, passed: boolean): GateResult =>
  ({ name, passed, figure: passed ? 'ok' : 'bad', details: {} }) as unknown as GateResult;
const facts = (over: Partial<Facts> = {}): Facts => ({
  aborted: false,
  pageRows: 0,
  commitMark: 5,
  gates: null,
  lastSwap: null,
  rounds: 0,
  maxRounds: 3,
  ...over,
});

describe('reindex nextStep (pure)', () => {
  const building = { state: 'building' as const, caughtUpSeq: 5 };
  const catching = { state: 'catching_up' as const, caughtUpSeq: 5 };
  it('builds page by page, then ends the build', () => {
    assert.deepEqual(nextStep(building, facts({ pageRows: 10 })), { kind: 'build-page' });
    assert.deepEqual(nextStep(building, facts({ pageRows: 0, commitMark: 9 })), { kind: 'end-build' });
  });
  it('an abort stops at the step boundary, in every active phase', () => {
    for (const s of [building, catching, { state: 'gating' as const, caughtUpSeq: 5 }])
      assert.deepEqual(nextStep(s, facts({ aborted: true, pageRows: 3 })), { kind: 'abort' });
  });
  it('catches up while the source committed more, and gives up (resumable) after maxRounds', () => {
    assert.deepEqual(nextStep(catching, facts({ commitMark: 8 })), { kind: 'catch-up', from: 5, to: 8 });
    assert.deepEqual(nextStep(catching, facts({ commitMark: 8, rounds: 3 })), { kind: 'stuck', rounds: 3 });
  });
  it('gates once caught up, then swaps; a failed gate rejects before anything else', () => {
    assert.deepEqual(nextStep(catching, facts()), { kind: 'run-gates' });
    const passed = [gate('parity', true)];
    assert.deepEqual(nextStep(catching, facts({ gates: passed })), { kind: 'swap' });
    assert.deepEqual(nextStep({ state: 'gating', caughtUpSeq: 5 }, facts({ gates: passed })), {
      kind: 'swap',
    });
    const failed = [gate('parity', true), gate('vectors', false)];
    const s = nextStep(catching, facts({ gates: failed, commitMark: 9 }));
    assert.equal(s.kind, 'reject');
    assert.deepEqual(s.kind === 'reject' && s.failed.map((g) => g.name), ['vectors']);
  });
  it('a swap that found the source ahead catches up and swaps again; gates are not re-run', () => {
    const passed = [gate('parity', true)];
    const behind: SwapOutcome = { kind: 'behind' };
    assert.deepEqual(nextStep(catching, facts({ gates: passed, lastSwap: behind, commitMark: 6 })), {
      kind: 'catch-up',
      from: 5,
      to: 6,
    });
    assert.deepEqual(
      nextStep(
        { state: 'catching_up', caughtUpSeq: 6 },
        facts({ gates: passed, lastSwap: behind, commitMark: 6 }),
      ),
      {
        kind: 'swap',
      },
    );
  });
  it('serving moved under the swap is a conflict, even with a shutdown pending; swapped is done', () => {
    const moved: SwapOutcome = { kind: 'serving-moved', servingNow: 'records_v1' };
    assert.deepEqual(nextStep(catching, facts({ lastSwap: moved, aborted: true })), {
      kind: 'conflict',
      servingNow: 'records_v1',
    });
    assert.deepEqual(nextStep(catching, facts({ lastSwap: { kind: 'swapped' }, aborted: true })), {
      kind: 'done',
      state: 'swapped',
    });
  });
});

describe('reindex resumeDecision (pure)', () => {
  const job = { settingsKey: 'k', sourceTable: 'records_v2' };
  const now = { settingsKey: 'k', servingTable: 'records_v2', tableState: 'building' };
  it('resumes the same build from the same source; else abandons it and says why', () => {
    assert.deepEqual(resumeDecision(null, now), { kind: 'create' });
    assert.deepEqual(resumeDecision(job, now), { kind: 'resume' });
    assert.match(
      (resumeDecision(job, { ...now, servingTable: 'records_v1' }) as { why: string }).why,
      /serving moved from records_v2 to records_v1/,
    );
    assert.match(
      (resumeDecision(job, { ...now, settingsKey: 'other' }) as { why: string }).why,
      /model, pipeline version or chunking changed/,
    );
    assert.equal(resumeDecision(job, { ...now, tableState: 'failed' }).kind, 'abandon');
  });
});

/** The reindex store port in memory: key state of deleted ids only (no materialize), a scripted source. */
class FakeReindexStore implements ReindexStore {
  jobs: ReindexJob[] = [];
  tableStates = new Map<string, string>([['records_v1', 'serving']]);
  servingName = 'records_v1';
  commitMark = 0;
  /** Called at every sourceMarks read: lets a test make "ingest" commit while the job runs. */
  onMarks: () => void = () => undefined;
  calls: string[] = [];
  constructor(private readonly keys: KeyRow[]) {}
  serving() {
    return Promise.resolve({ tableName: this.servingName, modelId: 'm', dim: 4 });
  }
  active() {
    return Promise.resolve(
      [...this.jobs].reverse().find((j) => ['building', 'catching_up', 'gating'].includes(j.state)) ?? null,
    );
  }
  latest() {
    return Promise.resolve(this.jobs.at(-1) ?? null);
  }
  get(id: number) {
    return Promise.resolve(this.jobs.find((j) => j.jobId === id) ?? null);
  }
  tableState(name: string) {
    return Promise.resolve(this.tableStates.get(name) ?? null);
  }
  create(j: NewJob, nowMs: number) {
    const name = `records_v${this.tableStates.size + 1}`;
    this.tableStates.set(name, 'building');
    const job = {
      jobId: this.jobs.length + 1,
      tableName: name,
      sourceTable: j.sourceTable,
      modelId: j.modelId,
      dim: j.dim,
      settingsKey: j.settingsKey,
      state: 'building',
      baseSeq: this.commitMark,
      caughtUpSeq: this.commitMark,
      cursorId: '',
      recordsTotal: this.keys.length,
      recordsDone: 0,
      rowsWritten: 0,
      textsEmbedded: 0,
      textsReused: 0,
      rateRps: null,
      etaMs: null,
      gates: null,
      error: null,
      pid: 1,
      attempts: 0,
      startedAtMs: nowMs,
      updatedAtMs: nowMs,
      finishedAtMs: null,
    } satisfies ReindexJob;
    this.jobs.push(job);
    this.calls.push('create');
    return Promise.resolve(job);
  }
  private patch(id: number, p: Partial<ReindexJob>) {
    this.jobs = this.jobs.map((j) => (j.jobId === id ? { ...j, ...p } : j));
  }
  resume(id: number) {
    this.patch(id, { attempts: this.jobs.find((j) => j.jobId === id)!.attempts + 1 });
    return this.get(id).then((j) => j!);
  }
  abandon(id: number, reason: string) {
    this.patch(id, { state: 'abandoned', error: reason });
    return Promise.resolve();
  }
  fail(id: number, message: string) {
    this.patch(id, { state: 'failed', error: message });
    this.tableStates.set(this.jobs.find((j) => j.jobId === id)!.tableName, 'failed');
    this.calls.push('fail');
    return Promise.resolve();
  }
  progress(id: number, p: JobProgress) {
    this.patch(id, p);
    return Promise.resolve();
  }
  setGates(id: number, gates: unknown) {
    this.patch(id, { gates });
    return Promise.resolve();
  }
  keyPage(afterId: string, limit: number) {
    return Promise.resolve(this.keys.filter((k) => k.id > afterId).slice(0, limit));
  }
  sourceMarks() {
    this.onMarks();
    return Promise.resolve({ commitMark: this.commitMark, watermark: this.commitMark * 10 });
  }
  idsCommittedBetween() {
    return Promise.resolve([]);
  }
  swapIfUnchanged(s: SwapRequest): Promise<SwapOutcome> {
    this.calls.push(`swap@${s.caughtUpSeq}`);
    if (this.servingName !== s.sourceTable)
      return Promise.resolve({ kind: 'serving-moved', servingNow: this.servingName });
    if (this.commitMark !== s.caughtUpSeq) return Promise.resolve({ kind: 'behind' });
    this.patch(s.jobId, { state: 'swapped' });
    this.servingName = s.tableName;
    return Promise.resolve({ kind: 'swapped' });
  }
}

const fakeTable = (name: string): VectorTable =>
  ({
    name,
    dim: 4,
    countRows: () => Promise.resolve(0),
    version: () => Promise.resolve(7),
  }) as unknown as VectorTable;
const fakeVectorStore = {
  openTable: (name: string) => Promise.resolve(fakeTable(name)),
  createTable: (name: string) => Promise.resolve(fakeTable(name)),
  listTables: () => Promise.resolve(['records_v1']),
  dropTable: () => Promise.resolve(),
} as unknown as VectorStore;
const embedder = { modelId: 'm', dim: 4 } as unknown as Embedder;

describe('reindex driver on a fake store and a fake clock', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'seamline-reindex-unit-'));
  const setup = (keys = 100, maxRounds = 3) => {
    const config = loadConfig({
      env: {},
      values: {
        dataDir: dir,
        landingDir: dir,
        reindex: {
          pageSize: 10,
          maxCatchUpRounds: maxRounds,
          gates: { parity: false, vectors: false, overlapSample: 0 },
        },
      },
    });
    const db = openSqlite(path.join(dir, `leases-${Math.random()}.db`), config.sqlite);
    const jobs = new FakeReindexStore(
      Array.from({ length: keys }, (_, i) => ({
        id: `k${String(i).padStart(4, '0')}`,
        seq: i + 1,
        deleted: true,
      })),
    );
    const clock = new FakeClock();
    const deps: ReindexDeps = {
      config,
      logger: pino({ level: 'silent' }),
      clock,
      leases: new SqliteLeases(db),
      jobs,
      store: fakeVectorStore,
      bronze: null as never,
      ledger: null as never,
      embedder: () => Promise.resolve(embedder),
    };
    const opts = (maxRps = 0) => ({
      modelId: 'm',
      maxRps,
      evaluationFile: null,
      tty: false,
      write: () => undefined,
      fault: () => undefined,
    });
    return { deps, jobs, clock, db, opts };
  };

  it('paces the build under the cap on the injected clock: 100 records at 20/s take 4.5 s of fake time', async () => {
    const { deps, jobs, clock, db, opts } = setup(100);
    const r = await clock.run(runReindex(deps, opts(20)), 50);
    assert.equal(r.state, 'swapped');
    assert.equal(r.records, 100);
    // Burst of one page (10), then 10 records per 500 ms: 9 waits of 500 ms.
    assert.equal(r.durationMs, 4500);
    assert.deepEqual(jobs.calls, ['create', 'swap@0']);
    db.close();
  });

  it('ingest committing during the swap: catch up, swap again; rounds counted', async () => {
    const { deps, jobs, clock, db, opts } = setup(20);
    // Two commits land while the job converges: one before the gates, one between the gates and the swap.
    let reads = 0;
    jobs.onMarks = () => {
      reads += 1;
      if (reads === 1 || reads === 3) jobs.commitMark += 1;
    };
    const r = await clock.run(runReindex(deps, opts()), 10);
    assert.equal(r.state, 'swapped');
    assert.equal(r.catchUpRounds, 2);
    assert.equal(r.caughtUpSeq, 20, 'the watermark read when last caught up');
    assert.deepEqual(jobs.calls, ['create', 'swap@2']);
    db.close();
  });

  it('a swap that finds the source ahead retries after a catch-up round', async () => {
    const { deps, jobs, clock, db, opts } = setup(5);
    const swap = jobs.swapIfUnchanged.bind(jobs);
    let first = true;
    jobs.swapIfUnchanged = (s) => {
      if (first) {
        first = false;
        jobs.commitMark += 1; // committed between the last catch-up and the swap transaction
      }
      return swap(s);
    };
    const r = await clock.run(runReindex(deps, opts()), 10);
    assert.equal(r.state, 'swapped');
    assert.deepEqual(jobs.calls, ['create', 'swap@0', 'swap@1']);
    assert.equal(r.catchUpRounds, 1);
    db.close();
  });

  it('catch-up that never converges stops with a retryable conflict and leaves the job resumable', async () => {
    const { deps, jobs, clock, db, opts } = setup(5, 2);
    jobs.onMarks = () => {
      jobs.commitMark += 1;
    };
    const e = await clock.run(
      runReindex(deps, opts()).catch((x: unknown) => x),
      10,
    );
    assert.ok(isSeamlineError(e) && e.code === 'LEDGER_CONFLICT' && e.retryable, String(e));
    assert.equal((await jobs.latest())!.state, 'catching_up');
    assert.ok(!jobs.calls.includes('fail'));
    db.close();
  });

  it('serving moved under the swap: the job and its table are failed (one store move), serving stays', async () => {
    const { deps, jobs, clock, db, opts } = setup(5);
    jobs.swapIfUnchanged = () => {
      jobs.servingName = 'records_v0';
      return Promise.resolve({ kind: 'serving-moved', servingNow: 'records_v0' });
    };
    const e = await clock.run(
      runReindex(deps, opts()).catch((x: unknown) => x),
      10,
    );
    assert.ok(isSeamlineError(e) && e.code === 'LEDGER_CONFLICT' && !e.retryable, String(e));
    assert.match((e as Error).message, /serving moved from records_v1 to records_v0/);
    assert.equal((await jobs.latest())!.state, 'failed');
    assert.equal(jobs.tableStates.get('records_v2'), 'failed');
    db.close();
  });

  it('a shutdown mid-build stops at the page boundary with the cursor saved; the next run resumes there', async () => {
    const { deps, jobs, clock, db, opts } = setup(100);
    const ctl = new AbortController();
    const running = runReindex(deps, opts(20), ctl.signal).catch((x: unknown) => x);
    await clock.advance(1200);
    ctl.abort();
    const e = await clock.run(running, 10);
    assert.ok(e instanceof Error);
    const job = (await jobs.latest())!;
    assert.equal(job.state, 'building');
    assert.ok(job.recordsDone > 0 && job.recordsDone < 100, `done ${job.recordsDone}`);
    const r = await clock.run(runReindex(deps, opts()), 10);
    assert.equal(r.resumed, true);
    assert.equal(r.records, 100);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
