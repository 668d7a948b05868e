import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { isSeamlineError } from '../../../src/errors/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import { runReindex, type ReindexOptions } from '../../../src/reindex/reindex.js';
import type { FaultPoint } from '../../../src/runtime/fault.js';
import { openRuntime, type Runtime } from '../../../src/runtime/runtime.js';
import { openSqliteStoresFor } from '../../../src/store/open.js';
import type { Sqlite } from '../../../src/store/sqlite/db.js';
import { reindexDepsOf } from '../../../src/runtime/wiring.js';
import { RegistrySql } from '../../../src/store/sqlite/registry.js';
import { jsonl, runJson, workspace, type Workspace } from '../../helpers/cli.js';

const N = 60;
// The SQLite connection under each runtime (a fault hook below rolls back through it, mid-reindex).
const dbOf = new WeakMap<Runtime, Sqlite>();

/** In-process reindex against real SQLite, LanceDB and the glove model, data landed by the CLI. */
describe('reindex job lifecycle (in process): conflicts, abandoned jobs, lost tables', () => {
  let ws: Workspace;

  before(async () => {
    ws = workspace({ reindex: { maxRecordsPerSecond: 0, pageSize: 10 } });
    ws.drop(
      'a.jsonl',
      jsonl(
        Array.from({ length: N }, (_, i) => ({
          id: `r-${String(i).padStart(3, '0')}`,
          version: 1,
          event_time: '2026-03-01T10:00:00Z',
          text: `lifecycle record ${i} on topic ${i % 5}`,
        })),
      ),
    );
    await runJson(['ingest', '--once'], ws.env());
  });
  after(() => ws.cleanup());

  async function withRuntime<T>(env: Record<string, string>, f: (rt: Runtime) => Promise<T>): Promise<T> {
    const config = loadConfig({ file: ws.configFile, env: { ...env } });
    const stores = openSqliteStoresFor(config);
    const rt = await openRuntime(config, createLogger('silent', 'test', 'test'), { stores });
    dbOf.set(rt, stores.db);
    try {
      return await f(rt);
    } finally {
      await rt.close();
    }
  }
  const opts = (rt: Runtime, fault: (p: FaultPoint) => void = () => undefined): ReindexOptions => ({
    modelId: rt.config.model.id,
    maxRps: 0,
    evaluationFile: null,
    tty: false,
    write: () => undefined,
    fault,
  });
  /** A fault hook that throws at the n-th time a point is reached (an in-process "crash"). */
  const crashAt = (point: FaultPoint, n: number) => {
    let hits = 0;
    return (p: FaultPoint): void => {
      if (p === point && ++hits === n) throw new Error(`injected crash at ${point}#${n}`);
    };
  };

  it('a table lost after a crash is recreated and the resumed job completes with every id', async () => {
    await withRuntime({}, async (rt) => {
      await assert.rejects(
        runReindex(reindexDepsOf(rt), opts(rt, crashAt('reindex-after-page', 3))),
        /injected crash/,
      );
      const job = (await rt.reindexJobs.active())!;
      assert.equal(job.state, 'building');
      assert.equal(job.recordsDone, 20, 'two pages recorded before the crash');
      await rt.store.dropTable(job.tableName);
      const r = await runReindex(reindexDepsOf(rt), opts(rt));
      assert.equal(r.state, 'swapped');
      assert.equal(r.resumed, true);
      assert.equal(r.table, job.tableName);
      assert.equal(r.records, N, 'the build restarted from the first id');
      assert.equal(await (await rt.store.openTable(r.table))!.countRows(), N);
      assert.equal(r.textsEmbedded, 0, 'vectors reused from the serving table');
    });
  });

  it('an unfinished job built under other settings is abandoned (its table marked failed), a new one completes', async () => {
    const first = await withRuntime({}, async (rt) => {
      await assert.rejects(
        runReindex(reindexDepsOf(rt), opts(rt, crashAt('reindex-after-page', 2))),
        /injected crash/,
      );
      return (await rt.reindexJobs.active())!;
    });
    await withRuntime({ SEAMLINE_CHUNKING__MAX_TOKENS: '64' }, async (rt) => {
      const r = await runReindex(reindexDepsOf(rt), opts(rt));
      assert.equal(r.state, 'swapped');
      assert.equal(r.resumed, false);
      assert.notEqual(r.table, first.tableName);
      const jobs = rt.reindexJobs;
      assert.equal((await jobs.get(first.jobId))!.state, 'abandoned');
      assert.match((await jobs.get(first.jobId))!.error!, /superseded/);
      assert.equal((await rt.tables.get(first.tableName))!.state, 'failed');
      assert.equal((await rt.tables.serving())!.tableName, r.table);
    });
  });

  it('when serving moves during the build (e.g. a rollback), the reindex refuses to swap and marks its table failed', async () => {
    await withRuntime({}, async (rt) => {
      const before = (await rt.tables.serving())!;
      assert.ok(before.previous);
      let moved = false;
      const fault = (p: FaultPoint): void => {
        if (p === 'reindex-after-page' && !moved) {
          moved = true;
          // The fault hook is synchronous: roll back through the SQLite adapter's synchronous core.
          assert.ok(new RegistrySql(dbOf.get(rt)!).rollback(rt.clock.nowMs(), () => true));
        }
      };
      await assert.rejects(
        runReindex(reindexDepsOf(rt), opts(rt, fault)),
        (e: unknown) => isSeamlineError(e) && e.code === 'LEDGER_CONFLICT' && /serving moved/.test(e.message),
      );
      const job = (await rt.reindexJobs.latest())!;
      assert.equal(job.state, 'failed');
      assert.equal((await rt.tables.get(job.tableName))!.state, 'failed');
      assert.equal(
        (await rt.tables.serving())!.tableName,
        before.previous,
        'the rollback stands; the reindex did not override it',
      );
    });
  });

  it('a second reindex while one runs is refused (LOCKED)', async () => {
    await withRuntime({}, async (rt) => {
      let inner: unknown = null;
      const fault = (p: FaultPoint): void => {
        if (p === 'reindex-after-page' && inner === null)
          inner = runReindex(reindexDepsOf(rt), opts(rt)).catch((e: unknown) => e);
      };
      const r = await runReindex(reindexDepsOf(rt), opts(rt, fault));
      assert.equal(r.state, 'swapped');
      const e = await (inner as Promise<unknown>);
      assert.ok(isSeamlineError(e) && e.code === 'LOCKED', `second run refused: ${String(e)}`);
    });
  });
});
