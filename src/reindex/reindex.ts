import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/load.js';
import { SeamlineError, toSeamlineError } from '../errors/errors.js';
import type { Embedder } from '../ports/embedder.js';
import type { VectorTable } from '../ports/vector-store.js';
import { materialize, type MaterializeDeps, type MaterializeResult } from '../processor/materialize.js';
import type { FaultHook } from '../runtime/fault.js';
import { Leases, selfHolder } from '../runtime/lock.js';
import type { Runtime } from '../runtime/runtime.js';
import { LanesSql } from '../store/sqlite/lanes.js';
import { RegistrySql } from '../store/sqlite/registry.js';
import { runGates } from './run-gates.js';
import type { GateResult } from './gates.js';
import { ReindexJobs, type ReindexJob } from './jobs.js';
import { ProgressReporter, rateAndEta } from './progress.js';
import { RateLimiter } from './rate.js';

export const REINDEX_LEASE = 'reindex';
const REINDEX_TTL_MS = 60_000;

export interface ReindexOptions {
  /** Model of the new table. Default: config model.id. */
  readonly modelId: string;
  /** Throughput cap in records/s (0 = none). Default: config reindex.maxRecordsPerSecond. */
  readonly maxRps: number;
  /** Absolute path of the evaluation file, or null. */
  readonly evaluationFile: string | null;
  readonly tty: boolean;
  readonly write: (s: string) => void;
  readonly fault: FaultHook;
}

export interface ReindexReport {
  readonly jobId: number;
  readonly state: 'swapped' | 'failed';
  readonly resumed: boolean;
  readonly table: string;
  readonly sourceTable: string;
  readonly modelId: string;
  readonly dim: number;
  readonly sourceModelId: string;
  readonly records: number;
  readonly rowsWritten: number;
  readonly textsEmbedded: number;
  readonly textsReused: number;
  readonly catchUpRounds: number;
  readonly caughtUpSeq: number;
  readonly gates: readonly GateResult[];
  readonly durationMs: number;
  readonly error: string | null;
}

/** What the model, pipeline and chunking of a build are: a job only resumes under the same key. */
export function settingsKeyOf(config: Config, modelId: string): string {
  return JSON.stringify({
    modelId,
    pipelineVersion: config.pipelineVersion,
    maxTokens: config.chunking.maxTokens,
    overlapTokens: config.chunking.overlapTokens,
  });
}

interface Counters {
  rowsWritten: number;
  textsEmbedded: number;
  textsReused: number;
}

const add = (c: Counters, r: MaterializeResult): void => {
  c.rowsWritten += r.inserted + r.updated;
  c.textsEmbedded += r.embedded;
  c.textsReused += r.reused;
};

/**
 * Blue/green reindex: builds a new versioned table from the key state and bronze (never the landing
 * folder) under a throughput cap, catches up the batches the live daemon committed meanwhile, runs the
 * gates, and swaps the serving pointer in one SQLite transaction — only if nothing newer committed since
 * the last catch-up. A kill at any point leaves serving untouched; running it again resumes the job.
 */
export async function runReindex(
  rt: Runtime,
  opts: ReindexOptions,
  signal?: AbortSignal,
): Promise<ReindexReport> {
  const c = rt.config;
  const log = rt.logger.child({ component: 'reindex' });
  const leases = new Leases(rt.db);
  // host:pid:run — unique per run (the lease is re-entrant per holder), and a dead pid still frees it.
  const holder = `${selfHolder()}:${randomUUID().slice(0, 8)}`;
  if (!leases.tryAcquire(REINDEX_LEASE, holder, REINDEX_TTL_MS, rt.clock.nowMs())) {
    const h = leases.holder(REINDEX_LEASE, rt.clock.nowMs());
    throw new SeamlineError(
      'LOCKED',
      `another reindex (${h?.holder ?? 'unknown'}) is running on ${c.dataDir}; wait for it or stop it (a killed one is resumed by the next run)`,
    );
  }
  const renew = setInterval(
    () => leases.tryAcquire(REINDEX_LEASE, holder, REINDEX_TTL_MS, rt.clock.nowMs()),
    REINDEX_TTL_MS / 3,
  );
  renew.unref();
  try {
    return await build(rt, opts, log, signal);
  } finally {
    clearInterval(renew);
    leases.release(REINDEX_LEASE, holder);
  }
}

async function build(
  rt: Runtime,
  opts: ReindexOptions,
  log: Runtime['logger'],
  signal: AbortSignal | undefined,
): Promise<ReindexReport> {
  const c = rt.config;
  const started = rt.clock.nowMs();
  const jobs = new ReindexJobs(rt.db);
  // The multi-table transactions below use the SQLite adapters directly (they become single methods of
  // the reindex jobs port with the harness branch).
  const registry = new RegistrySql(rt.db);
  const lanes = new LanesSql(rt.db);
  const serving = await rt.tables.serving();
  if (!serving)
    throw new SeamlineError(
      'USAGE',
      `nothing is serving yet in ${c.dataDir}: ingest first (seamline ingest --once or run); reindex rebuilds an existing index`,
    );
  const oldTable = await rt.store.openTable(serving.tableName);
  if (!oldTable)
    throw new SeamlineError(
      'STORE_FAILED',
      `serving table ${serving.tableName} is registered but missing on disk; run seamline rollback`,
    );
  const embedder = await rt.embedder(opts.modelId);
  const settingsKey = settingsKeyOf(c, embedder.modelId);
  const sameModel = serving.modelId === embedder.modelId && serving.dim === embedder.dim;

  // Resume the unfinished job when it builds the same thing from the same source; else abandon it.
  let job: ReindexJob | null = jobs.active();
  let resumed = false;
  if (job) {
    const reg = await rt.tables.get(job.tableName);
    if (
      job.settingsKey === settingsKey &&
      job.sourceTable === serving.tableName &&
      reg?.state === 'building'
    ) {
      job = jobs.resume(job.jobId, rt.clock.nowMs());
      resumed = true;
      log.info(
        {
          event: 'reindex.resumed',
          job_id: job.jobId,
          table: job.tableName,
          cursor: job.cursorId,
          done: job.recordsDone,
          state: job.state,
        },
        `resuming reindex job ${job.jobId} into ${job.tableName}`,
      );
    } else {
      const why =
        job.sourceTable !== serving.tableName
          ? `serving moved from ${job.sourceTable} to ${serving.tableName}`
          : 'model, pipeline version or chunking changed';
      rt.db
        .transaction(() => {
          jobs.finish(job!.jobId, 'abandoned', `superseded: ${why}`, rt.clock.nowMs());
          if (reg?.state === 'building') registry.setState(job!.tableName, 'failed');
        })
        .immediate();
      log.warn(
        { event: 'reindex.abandoned', job_id: job.jobId, table: job.tableName, reason: why },
        `abandoned unfinished reindex job ${job.jobId} (${why})`,
      );
      job = null;
    }
  }
  if (!job) {
    const onDisk = new Set(await rt.store.listTables());
    job = rt.db
      .transaction(() => {
        const name = freeName(registry, c.store.tableBaseName, onDisk);
        const now = rt.clock.nowMs();
        registry.register(name, embedder.modelId, embedder.dim, c.pipelineVersion, 'building', now);
        const total = (rt.db.prepare('SELECT COUNT(*) AS n FROM key_state').get() as { n: number }).n;
        return jobs.create(
          {
            tableName: name,
            sourceTable: serving.tableName,
            modelId: embedder.modelId,
            dim: embedder.dim,
            settingsKey,
            // A commit mark of the serving table, not a bronze seq: its two lanes commit out of seq order.
            baseSeq: lanes.commitMark(serving.tableName),
            recordsTotal: total,
          },
          now,
        );
      })
      .immediate();
    log.info(
      {
        event: 'reindex.started',
        job_id: job.jobId,
        table: job.tableName,
        source: serving.tableName,
        model_id: embedder.modelId,
        dim: embedder.dim,
        base_seq: job.baseSeq,
        records: job.recordsTotal,
      },
      `reindex into ${job.tableName} (${embedder.modelId}, ${embedder.dim}-d) started`,
    );
  }
  const jobId = job.jobId;
  const name = job.tableName;

  const table = await openBuildTable(rt, job, embedder, log);
  job = jobs.get(jobId)!;
  const counters: Counters = {
    rowsWritten: job.rowsWritten,
    textsEmbedded: job.textsEmbedded,
    textsReused: job.textsReused,
  };
  const deps: MaterializeDeps = {
    bronze: rt.bronze,
    ledger: rt.ledger,
    embedder,
    chunking: c.chunking,
    pipelineVersion: c.pipelineVersion,
    fault: opts.fault,
    nowIso: () => new Date(rt.clock.nowMs()).toISOString(),
    // Same model: the serving table's vectors are reused by content hash (nothing is re-embedded).
    vectorSource: sameModel ? (ids) => oldTable.rowsForIds(ids) : undefined,
  };
  // Burst of one page: the measured rate stays at the cap from the first page on.
  const limiter = new RateLimiter(opts.maxRps, c.reindex.pageSize);
  const progress = new ProgressReporter(opts.tty, opts.write, log, c.reindex.progressLogIntervalMs);
  const pace = async (n: number): Promise<void> => {
    const wait = limiter.take(n, rt.clock.nowMs());
    if (wait > 0) await sleep(wait, undefined, { signal });
  };
  // The serving table's contiguous watermark when last caught up (reported as caughtUpSeq; the job row
  // stores the commit mark, which is what the catch-up resumes from).
  let gateSeq = 0;
  const report = (
    state: 'swapped' | 'failed',
    gates: readonly GateResult[],
    rounds: number,
    error: string | null,
  ): ReindexReport => {
    const j = jobs.get(jobId)!;
    return {
      jobId,
      state,
      resumed,
      table: name,
      sourceTable: serving.tableName,
      modelId: embedder.modelId,
      dim: embedder.dim,
      sourceModelId: serving.modelId,
      records: j.recordsDone,
      rowsWritten: counters.rowsWritten,
      textsEmbedded: counters.textsEmbedded,
      textsReused: counters.textsReused,
      catchUpRounds: rounds,
      caughtUpSeq: gateSeq,
      gates,
      durationMs: rt.clock.nowMs() - started,
      error,
    };
  };

  try {
    // 1. Build: every id of the key state, in id order, from the job's cursor.
    if (job.state === 'building') {
      let cursor = job.cursorId;
      let done = job.recordsDone;
      const total = Math.max(job.recordsTotal, done);
      let doneHere = 0;
      const t0 = rt.clock.nowMs();
      for (;;) {
        signal?.throwIfAborted();
        const page = jobs.keyPage(cursor, c.reindex.pageSize);
        if (page.length === 0) break;
        const live = page.filter((k) => !k.deleted).map((k) => k.id);
        if (live.length > 0) add(counters, await materialize(deps, table, live, `${name}:build`, signal));
        opts.fault('reindex-after-page');
        cursor = page[page.length - 1]!.id;
        done += page.length;
        doneHere += page.length;
        // Pace before measuring, so the reported rate includes the cap's waits (a kill here redoes one page, harmlessly).
        await pace(page.length);
        const snap = {
          phase: 'build',
          table: name,
          done,
          total: Math.max(total, done),
          doneHere,
          elapsedMs: rt.clock.nowMs() - t0,
        };
        const { rate, etaMs } = rateAndEta(snap);
        jobs.progress(
          jobId,
          { cursorId: cursor, recordsDone: done, ...counters, rateRps: rate, etaMs },
          rt.clock.nowMs(),
        );
        progress.update(snap, rt.clock.nowMs());
      }
      progress.end();
      jobs.progress(jobId, { state: 'catching_up', etaMs: null }, rt.clock.nowMs());
      log.info(
        { event: 'reindex.built', job_id: jobId, table: name, records: done, ...counters },
        `built ${name}: ${done} record(s), ${counters.textsEmbedded} embedded, ${counters.textsReused} reused`,
      );
    }

    // 2. Catch up what the live daemon committed meanwhile (state-based: replaying is harmless). The
    // mark counts the serving table's commits (both lanes); `gateSeq` is the serving table's contiguous
    // watermark read in the same snapshot: every published record at or below it is caught up.
    let caught = jobs.get(jobId)!.caughtUpSeq;
    let rounds = 0;
    const markAndWatermark = rt.db.transaction((): [number, number] => [
      lanes.commitMark(serving.tableName),
      lanes.watermark(serving.tableName),
    ]);
    const catchUp = async (): Promise<void> => {
      for (;;) {
        signal?.throwIfAborted();
        const [s, wm] = markAndWatermark.deferred();
        if (s <= caught) {
          gateSeq = wm;
          return;
        }
        if (rounds >= c.reindex.maxCatchUpRounds) {
          throw new SeamlineError(
            'LEDGER_CONFLICT',
            `reindex catch-up did not converge after ${rounds} round(s) (ingest keeps committing); run seamline reindex again to resume, or raise reindex.maxCatchUpRounds`,
            { retryable: true },
          );
        }
        rounds += 1;
        const ids = await rt.ledger.lanes().idsCommittedBetween(serving.tableName, caught, s);
        for (let i = 0; i < ids.length; i += c.reindex.pageSize) {
          const part = ids.slice(i, i + c.reindex.pageSize);
          add(counters, await materialize(deps, table, part, `${name}:catchup:${caught + 1}-${s}`, signal));
          await pace(part.length);
        }
        log.info(
          {
            event: 'reindex.catchup',
            job_id: jobId,
            table: name,
            commits_from: caught + 1,
            commits_to: s,
            ids: ids.length,
            round: rounds,
          },
          `caught up ${name} with commits ${caught + 1}..${s} of ${serving.tableName} (${ids.length} id(s))`,
        );
        opts.fault('reindex-after-catchup');
        caught = s;
        jobs.progress(jobId, { caughtUpSeq: s, state: 'catching_up', ...counters }, rt.clock.nowMs());
      }
    };
    await catchUp();

    // 3. Gates: a failure marks the table failed and leaves serving untouched.
    jobs.progress(jobId, { state: 'gating' }, rt.clock.nowMs());
    const gates = await runGates(rt, {
      oldTable,
      newTable: table,
      oldModelId: serving.modelId,
      embedder,
      sameModel,
      caughtUpSeq: gateSeq,
      evaluationFile: opts.evaluationFile,
      signal,
    });
    jobs.setGates(jobId, gates, rt.clock.nowMs());
    for (const g of gates)
      log.info(
        {
          event: 'reindex.gate',
          job_id: jobId,
          gate: g.name,
          passed: g.passed,
          skipped: g.skipped ?? null,
          ...g.details,
        },
        `gate ${g.name}: ${g.passed ? 'passed' : 'FAILED'} — ${g.figure}`,
      );
    const failed = gates.filter((g) => !g.passed);
    if (failed.length > 0) {
      const msg = `gate(s) failed: ${failed.map((g) => `${g.name} (${g.figure})`).join('; ')}`;
      rt.db
        .transaction(() => {
          registry.setState(name, 'failed');
          jobs.finish(jobId, 'failed', msg, rt.clock.nowMs());
        })
        .immediate();
      log.error(
        { event: 'reindex.failed', job_id: jobId, table: name, gates: failed.map((g) => g.name) },
        `${name} not swapped: ${msg}`,
      );
      return report('failed', gates, rounds, msg);
    }

    // 4. Swap, in one transaction, only if nothing committed since the last catch-up; else catch up again.
    for (;;) {
      await catchUp();
      const version = await table.version();
      opts.fault('reindex-before-swap');
      const swapped = rt.db
        .transaction(() => {
          const cur = registry.serving();
          if (!cur || cur.tableName !== serving.tableName) {
            throw new SeamlineError(
              'LEDGER_CONFLICT',
              `serving moved from ${serving.tableName} to ${cur?.tableName ?? 'nothing'} during the reindex (rollback or another swap); ${name} is not swapped`,
            );
          }
          if (lanes.commitMark(serving.tableName) !== caught) return false;
          const now = rt.clock.nowMs();
          jobs.recordCoverage(
            name,
            serving.tableName,
            caught,
            version,
            embedder.modelId,
            c.pipelineVersion,
            {
              idsTouched: jobs.get(jobId)!.recordsDone,
              rowsInserted: counters.rowsWritten,
              textsEmbedded: counters.textsEmbedded,
              textsReused: counters.textsReused,
            },
            now,
          );
          registry.swap(name, now);
          jobs.progress(jobId, counters, now);
          jobs.finish(jobId, 'swapped', null, now);
          return true;
        })
        .immediate();
      if (swapped) break;
    }
    log.info(
      {
        event: 'reindex.swapped',
        job_id: jobId,
        table: name,
        previous: serving.tableName,
        caught_up_seq: caught,
        ...counters,
      },
      `serving ${name} (previous: ${serving.tableName}; rollback with seamline rollback)`,
    );
    return report('swapped', gates, rounds, null);
  } catch (e) {
    progress.end();
    const err = toSeamlineError(e, 'INTERNAL', `reindex into ${name}`);
    if (err.code === 'LEDGER_CONFLICT' && !err.retryable) {
      rt.db
        .transaction(() => {
          registry.setState(name, 'failed');
          jobs.finish(jobId, 'failed', err.message, rt.clock.nowMs());
        })
        .immediate();
    } else {
      // Anything else (abort, a store or embed error) leaves the job resumable.
      jobs.progress(jobId, { ...counters }, rt.clock.nowMs());
    }
    throw err;
  }
}

/** BASE_vN with N above every registered table and free on disk (an orphan folder is never reused). */
function freeName(registry: RegistrySql, base: string, onDisk: ReadonlySet<string>): string {
  let name = registry.nextName(base);
  for (let n = Number(/_v(\d+)$/.exec(name)![1]); onDisk.has(name); n++) name = `${base}_v${n + 1}`;
  return name;
}

/** Opens the job's table; a table a kill left missing or unreadable is recreated and the build restarts. */
async function openBuildTable(
  rt: Runtime,
  job: ReindexJob,
  embedder: Embedder,
  log: Runtime['logger'],
): Promise<VectorTable> {
  const jobs = new ReindexJobs(rt.db);
  let t: VectorTable | null = null;
  try {
    t = await rt.store.openTable(job.tableName);
    if (t) await t.countRows();
  } catch (e) {
    log.warn(
      { event: 'reindex.table_unreadable', table: job.tableName, err: e },
      `table ${job.tableName} is unreadable; recreating it`,
    );
    t = null;
    try {
      await rt.store.dropTable(job.tableName);
    } catch {
      /* nothing to drop */
    }
  }
  if (t && t.dim === embedder.dim) return t;
  if (t) await rt.store.dropTable(job.tableName);
  if (job.recordsDone > 0 || job.state !== 'building') {
    jobs.progress(
      job.jobId,
      {
        cursorId: '',
        recordsDone: 0,
        rowsWritten: 0,
        textsEmbedded: 0,
        textsReused: 0,
        caughtUpSeq: job.baseSeq,
        state: 'building',
      },
      rt.clock.nowMs(),
    );
  }
  return rt.store.createTable(job.tableName, embedder.dim);
}
