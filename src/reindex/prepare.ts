import { SeamlineError } from '../errors/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Embedder } from '../ports/embedder.js';
import type { KeyRow, ReindexJob, ServingTable, SwapOutcome } from '../ports/reindex-store.js';
import type { VectorTable } from '../ports/vector-store.js';
import type { MaterializeDeps, MaterializeResult } from '../processor/materialize.js';
import { settingsKeyOf, type ReindexDeps, type ReindexOptions } from './deps.js';
import type { GateResult } from './gates.js';
import { resumeDecision } from './machine.js';
import { ProgressReporter } from './progress.js';
import { RateLimiter } from './rate.js';

export interface Counters {
  rowsWritten: number;
  textsEmbedded: number;
  textsReused: number;
}

export const addCounts = (c: Counters, r: MaterializeResult): void => {
  c.rowsWritten += r.inserted + r.updated;
  c.textsEmbedded += r.embedded;
  c.textsReused += r.reused;
};

/** Everything one attempt of a job works with; the job row is re-read after each step. */
export interface BuildContext {
  readonly deps: ReindexDeps;
  readonly opts: ReindexOptions;
  readonly log: Logger;
  readonly signal: AbortSignal | undefined;
  readonly serving: ServingTable;
  readonly oldTable: VectorTable;
  readonly embedder: Embedder;
  readonly sameModel: boolean;
  readonly resumed: boolean;
  readonly table: VectorTable;
  readonly mat: MaterializeDeps;
  readonly limiter: RateLimiter;
  readonly progress: ProgressReporter;
  readonly counters: Counters;
  readonly startedMs: number;
  /** Build phase of this attempt: when it started and how many records it did (the rate). */
  readonly build: { t0: number; doneHere: number };
  job: ReindexJob;
  page: KeyRow[];
  rounds: number;
  /** The serving table's contiguous watermark when last caught up (reported as caughtUpSeq). */
  gateSeq: number;
  gates: readonly GateResult[] | null;
  lastSwap: SwapOutcome | null;
}

/** Checks there is something to rebuild, resumes or creates the job, and opens its table. */
export async function prepareBuild(
  deps: ReindexDeps,
  opts: ReindexOptions,
  log: Logger,
  signal: AbortSignal | undefined,
): Promise<BuildContext> {
  const c = deps.config;
  const startedMs = deps.clock.nowMs();
  const serving = await deps.jobs.serving();
  if (!serving)
    throw new SeamlineError(
      'USAGE',
      `nothing is serving yet in ${c.dataDir}: ingest first (seamline ingest --once or run); reindex rebuilds an existing index`,
    );
  const oldTable = await deps.store.openTable(serving.tableName);
  if (!oldTable)
    throw new SeamlineError(
      'STORE_FAILED',
      `serving table ${serving.tableName} is registered but missing on disk; run seamline rollback`,
    );
  const embedder = await deps.embedder(opts.modelId);
  const sameModel = serving.modelId === embedder.modelId && serving.dim === embedder.dim;
  const { job: started, resumed } = await startJob(deps, log, serving, embedder);
  const table = await openBuildTable(deps, started, embedder, log);
  const job = (await deps.jobs.get(started.jobId))!;
  return {
    deps,
    opts,
    log,
    signal,
    serving,
    oldTable,
    embedder,
    sameModel,
    resumed,
    table,
    mat: materializeDeps(deps, opts, embedder, sameModel ? oldTable : null),
    // Burst of one page: the measured rate stays at the cap from the first page on.
    limiter: new RateLimiter(opts.maxRps, c.reindex.pageSize),
    progress: new ProgressReporter(opts.tty, opts.write, log, c.reindex.progressLogIntervalMs),
    counters: {
      rowsWritten: job.rowsWritten,
      textsEmbedded: job.textsEmbedded,
      textsReused: job.textsReused,
    },
    startedMs,
    build: { t0: deps.clock.nowMs(), doneHere: 0 },
    job,
    page: [],
    rounds: 0,
    gateSeq: 0,
    gates: null,
    lastSwap: null,
  };
}

function materializeDeps(
  deps: ReindexDeps,
  opts: ReindexOptions,
  embedder: Embedder,
  reuseFrom: VectorTable | null,
): MaterializeDeps {
  return {
    bronze: deps.bronze,
    ledger: deps.ledger,
    embedder,
    chunking: deps.config.chunking,
    pipelineVersion: deps.config.pipelineVersion,
    fault: opts.fault,
    nowIso: () => new Date(deps.clock.nowMs()).toISOString(),
    // Same model: the serving table's vectors are reused by content hash (nothing is re-embedded).
    vectorSource: reuseFrom ? (ids) => reuseFrom.rowsForIds(ids) : undefined,
  };
}

/** Resumes the unfinished job when it builds the same thing from the same source; else abandons it. */
async function startJob(
  deps: ReindexDeps,
  log: Logger,
  serving: ServingTable,
  embedder: Embedder,
): Promise<{ job: ReindexJob; resumed: boolean }> {
  const { jobs, clock } = deps;
  const active = await jobs.active();
  const decision = resumeDecision(active, {
    settingsKey: settingsKeyOf(deps.config, embedder.modelId),
    servingTable: serving.tableName,
    tableState: active ? await jobs.tableState(active.tableName) : null,
  });
  if (active && decision.kind === 'resume') {
    const job = await jobs.resume(active.jobId, clock.nowMs());
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
    return { job, resumed: true };
  }
  if (active && decision.kind === 'abandon') {
    await jobs.abandon(active.jobId, `superseded: ${decision.why}`, clock.nowMs());
    log.warn(
      { event: 'reindex.abandoned', job_id: active.jobId, table: active.tableName, reason: decision.why },
      `abandoned unfinished reindex job ${active.jobId} (${decision.why})`,
    );
  }
  return { job: await createJob(deps, log, serving, embedder), resumed: false };
}

async function createJob(
  deps: ReindexDeps,
  log: Logger,
  serving: ServingTable,
  embedder: Embedder,
): Promise<ReindexJob> {
  const c = deps.config;
  const job = await deps.jobs.create(
    {
      tableBaseName: c.store.tableBaseName,
      onDisk: new Set(await deps.store.listTables()),
      sourceTable: serving.tableName,
      modelId: embedder.modelId,
      dim: embedder.dim,
      pipelineVersion: c.pipelineVersion,
      settingsKey: settingsKeyOf(c, embedder.modelId),
    },
    deps.clock.nowMs(),
  );
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
  return job;
}

/** Opens the job's table; a table a kill left missing or unreadable is recreated and the build restarts. */
async function openBuildTable(
  deps: ReindexDeps,
  job: ReindexJob,
  embedder: Embedder,
  log: Logger,
): Promise<VectorTable> {
  const { store } = deps;
  let t: VectorTable | null = null;
  try {
    t = await store.openTable(job.tableName);
    if (t) await t.countRows();
  } catch (e) {
    log.warn(
      { event: 'reindex.table_unreadable', table: job.tableName, err: e },
      `table ${job.tableName} is unreadable; recreating it`,
    );
    t = null;
    try {
      await store.dropTable(job.tableName);
    } catch {
      /* nothing to drop */
    }
  }
  if (t && t.dim === embedder.dim) return t;
  if (t) await store.dropTable(job.tableName);
  if (job.recordsDone > 0 || job.state !== 'building') {
    await deps.jobs.progress(
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
      deps.clock.nowMs(),
    );
  }
  return store.createTable(job.tableName, embedder.dim);
}
