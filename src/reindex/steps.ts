import { SeamlineError } from '../errors/errors.js';
import { materialize } from '../processor/materialize.js';
import type { ReindexReport } from './deps.js';
import type { Step } from './machine.js';
import { addCounts, type BuildContext } from './prepare.js';
import { rateAndEta } from './progress.js';
import { runGates } from './run-gates.js';

/** Runs one step of the machine; returns the report when the step ends the job. */
export async function runStep(ctx: BuildContext, step: Step): Promise<ReindexReport | null> {
  switch (step.kind) {
    case 'abort':
      ctx.signal?.throwIfAborted();
      throw new SeamlineError('ABORTED', 'reindex interrupted; run seamline reindex again to resume');
    case 'build-page':
      await buildPage(ctx);
      break;
    case 'end-build':
      await endBuild(ctx);
      break;
    case 'catch-up':
      await catchUp(ctx, step.from, step.to);
      break;
    case 'stuck':
      throw new SeamlineError(
        'LEDGER_CONFLICT',
        `reindex catch-up did not converge after ${step.rounds} round(s) (ingest keeps committing); run seamline reindex again to resume, or raise reindex.maxCatchUpRounds`,
        { retryable: true },
      );
    case 'run-gates':
      await gate(ctx);
      break;
    case 'reject':
      return reject(ctx, step.failed);
    case 'conflict':
      throw new SeamlineError(
        'LEDGER_CONFLICT',
        `serving moved from ${ctx.serving.tableName} to ${step.servingNow ?? 'nothing'} during the reindex (rollback or another swap); ${ctx.job.tableName} is not swapped`,
      );
    case 'swap':
      await swap(ctx);
      break;
    case 'done':
      return step.state === 'swapped' ? swapped(ctx) : report(ctx, 'failed', ctx.job.error);
  }
  ctx.job = (await ctx.deps.jobs.get(ctx.job.jobId))!;
  return null;
}

/** Paces `n` records under the throughput cap (a shutdown cuts the wait short). */
async function pace(ctx: BuildContext, n: number): Promise<void> {
  const wait = ctx.limiter.take(n, ctx.deps.clock.nowMs());
  if (wait > 0) await ctx.deps.clock.sleep(wait, ctx.signal);
  ctx.signal?.throwIfAborted();
}

/** building: one page of the key state, in id order, from the job's cursor. */
async function buildPage(ctx: BuildContext): Promise<void> {
  const { deps, job, page } = ctx;
  const live = page.filter((k) => !k.deleted).map((k) => k.id);
  if (live.length > 0)
    addCounts(
      ctx.counters,
      await materialize(ctx.mat, ctx.table, live, `${job.tableName}:build`, ctx.signal),
    );
  ctx.opts.fault('reindex-after-page');
  const done = job.recordsDone + page.length;
  ctx.build.doneHere += page.length;
  // Pace before measuring, so the reported rate includes the cap's waits (a kill here redoes one page, harmlessly).
  await pace(ctx, page.length);
  const snap = {
    phase: 'build',
    table: job.tableName,
    done,
    total: Math.max(job.recordsTotal, done),
    doneHere: ctx.build.doneHere,
    elapsedMs: deps.clock.nowMs() - ctx.build.t0,
  };
  const { rate, etaMs } = rateAndEta(snap);
  await deps.jobs.progress(
    job.jobId,
    { cursorId: page[page.length - 1]!.id, recordsDone: done, ...ctx.counters, rateRps: rate, etaMs },
    deps.clock.nowMs(),
  );
  ctx.progress.update(snap, deps.clock.nowMs());
}

/** building → catching_up. */
async function endBuild(ctx: BuildContext): Promise<void> {
  const { job, counters } = ctx;
  ctx.progress.end();
  await ctx.deps.jobs.progress(job.jobId, { state: 'catching_up', etaMs: null }, ctx.deps.clock.nowMs());
  ctx.log.info(
    {
      event: 'reindex.built',
      job_id: job.jobId,
      table: job.tableName,
      records: job.recordsDone,
      ...counters,
    },
    `built ${job.tableName}: ${job.recordsDone} record(s), ${counters.textsEmbedded} embedded, ${counters.textsReused} reused`,
  );
}

/**
 * One catch-up round: the ids the serving table committed in (from, to] are rebuilt (state-based:
 * replaying is harmless). The mark counts the serving table's commits, both lanes.
 */
async function catchUp(ctx: BuildContext, from: number, to: number): Promise<void> {
  const { deps, job } = ctx;
  const size = deps.config.reindex.pageSize;
  ctx.rounds += 1;
  const ids = await deps.jobs.idsCommittedBetween(ctx.serving.tableName, from, to);
  for (let i = 0; i < ids.length; i += size) {
    const part = ids.slice(i, i + size);
    const batchId = `${job.tableName}:catchup:${from + 1}-${to}`;
    addCounts(ctx.counters, await materialize(ctx.mat, ctx.table, part, batchId, ctx.signal));
    await pace(ctx, part.length);
  }
  ctx.log.info(
    {
      event: 'reindex.catchup',
      job_id: job.jobId,
      table: job.tableName,
      commits_from: from + 1,
      commits_to: to,
      ids: ids.length,
      round: ctx.rounds,
    },
    `caught up ${job.tableName} with commits ${from + 1}..${to} of ${ctx.serving.tableName} (${ids.length} id(s))`,
  );
  ctx.opts.fault('reindex-after-catchup');
  await deps.jobs.progress(
    job.jobId,
    { caughtUpSeq: to, state: 'catching_up', ...ctx.counters },
    deps.clock.nowMs(),
  );
}

/** Runs the gates against the caught-up table; a failure leaves serving untouched. */
async function gate(ctx: BuildContext): Promise<void> {
  const { deps, job } = ctx;
  await deps.jobs.progress(job.jobId, { state: 'gating' }, deps.clock.nowMs());
  const gates = await runGates(deps, {
    oldTable: ctx.oldTable,
    newTable: ctx.table,
    oldModelId: ctx.serving.modelId,
    embedder: ctx.embedder,
    sameModel: ctx.sameModel,
    caughtUpSeq: ctx.gateSeq,
    evaluationFile: ctx.opts.evaluationFile,
    signal: ctx.signal,
  });
  await deps.jobs.setGates(job.jobId, gates, deps.clock.nowMs());
  for (const g of gates)
    ctx.log.info(
      {
        event: 'reindex.gate',
        job_id: job.jobId,
        gate: g.name,
        passed: g.passed,
        skipped: g.skipped ?? null,
        ...g.details,
      },
      `gate ${g.name}: ${g.passed ? 'passed' : 'FAILED'} — ${g.figure}`,
    );
  ctx.gates = gates;
}

/** A gate failed: the job and its table are marked failed (one atomic move), serving stays. */
async function reject(ctx: BuildContext, failed: BuildContext['gates'] & object): Promise<ReindexReport> {
  const { job } = ctx;
  const msg = `gate(s) failed: ${failed.map((g) => `${g.name} (${g.figure})`).join('; ')}`;
  await ctx.deps.jobs.fail(job.jobId, msg, ctx.deps.clock.nowMs());
  ctx.log.error(
    { event: 'reindex.failed', job_id: job.jobId, table: job.tableName, gates: failed.map((g) => g.name) },
    `${job.tableName} not swapped: ${msg}`,
  );
  return report(ctx, 'failed', msg);
}

/** Swap-if-unchanged, one atomic move; its outcome is the next fact. */
async function swap(ctx: BuildContext): Promise<void> {
  const { deps, job } = ctx;
  const version = await ctx.table.version();
  ctx.opts.fault('reindex-before-swap');
  ctx.lastSwap = await deps.jobs.swapIfUnchanged(
    {
      jobId: job.jobId,
      tableName: job.tableName,
      sourceTable: ctx.serving.tableName,
      caughtUpSeq: job.caughtUpSeq,
      tableVersion: version,
      modelId: ctx.embedder.modelId,
      pipelineVersion: deps.config.pipelineVersion,
      counters: { ...ctx.counters },
    },
    deps.clock.nowMs(),
  );
}

function swapped(ctx: BuildContext): Promise<ReindexReport> {
  const { job, counters } = ctx;
  ctx.log.info(
    {
      event: 'reindex.swapped',
      job_id: job.jobId,
      table: job.tableName,
      previous: ctx.serving.tableName,
      caught_up_seq: job.caughtUpSeq,
      ...counters,
    },
    `serving ${job.tableName} (previous: ${ctx.serving.tableName}; rollback with seamline rollback)`,
  );
  return report(ctx, 'swapped', null);
}

async function report(
  ctx: BuildContext,
  state: 'swapped' | 'failed',
  error: string | null,
): Promise<ReindexReport> {
  const j = (await ctx.deps.jobs.get(ctx.job.jobId))!;
  return {
    jobId: j.jobId,
    state,
    resumed: ctx.resumed,
    table: j.tableName,
    sourceTable: ctx.serving.tableName,
    modelId: ctx.embedder.modelId,
    dim: ctx.embedder.dim,
    sourceModelId: ctx.serving.modelId,
    records: j.recordsDone,
    rowsWritten: ctx.counters.rowsWritten,
    textsEmbedded: ctx.counters.textsEmbedded,
    textsReused: ctx.counters.textsReused,
    catchUpRounds: ctx.rounds,
    caughtUpSeq: ctx.gateSeq,
    gates: ctx.gates ?? [],
    durationMs: ctx.deps.clock.nowMs() - ctx.startedMs,
    error,
  };
}
