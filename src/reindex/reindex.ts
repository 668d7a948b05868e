import { randomUUID } from 'node:crypto';
import { SeamlineError, toSeamlineError } from '../errors/errors.js';
import { every } from '../runtime/every.js';
import { selfHolder } from '../runtime/lock.js';
import type { ReindexDeps, ReindexOptions, ReindexReport } from './deps.js';
import { nextStep, type Facts } from './machine.js';
import { prepareBuild, type BuildContext } from './prepare.js';
import { runStep } from './steps.js';

export { settingsKeyOf } from './deps.js';
export type { ReindexDeps, ReindexOptions, ReindexReport } from './deps.js';

export const REINDEX_LEASE = 'reindex';
const REINDEX_TTL_MS = 60_000;

/**
 * Blue/green reindex: builds a new versioned table from the key state and bronze (never the landing
 * folder) under a throughput cap, catches up the batches the live daemon committed meanwhile, runs the
 * gates, and swaps the serving pointer atomically — only if nothing newer committed since the last
 * catch-up. A kill at any point leaves serving untouched; running it again resumes the job.
 * The flow is the state machine of machine.ts; this file holds the lease and drives it.
 */
export async function runReindex(
  deps: ReindexDeps,
  opts: ReindexOptions,
  signal?: AbortSignal,
): Promise<ReindexReport> {
  const { leases, clock } = deps;
  const log = deps.logger.child({ component: 'reindex' });
  // host:pid:run — unique per run (the lease is re-entrant per holder), and a dead pid still frees it.
  const holder = `${selfHolder()}:${randomUUID().slice(0, 8)}`;
  if (!(await leases.tryAcquire(REINDEX_LEASE, holder, REINDEX_TTL_MS, clock.nowMs()))) {
    const h = await leases.holder(REINDEX_LEASE, clock.nowMs());
    throw new SeamlineError(
      'LOCKED',
      `another reindex (${h?.holder ?? 'unknown'}) is running on ${deps.config.dataDir}; wait for it or stop it (a killed one is resumed by the next run)`,
    );
  }
  const renewal = new AbortController();
  const renewing = every(
    clock,
    REINDEX_TTL_MS / 3,
    renewal.signal,
    async () => {
      await leases.tryAcquire(REINDEX_LEASE, holder, REINDEX_TTL_MS, clock.nowMs());
    },
    (e) => log.warn({ event: 'reindex.lease_renew_failed', err: e }, 'could not renew the reindex lease'),
  );
  try {
    const ctx = await prepareBuild(deps, opts, log, signal);
    return await drive(ctx);
  } finally {
    renewal.abort();
    await renewing;
    await leases.release(REINDEX_LEASE, holder);
  }
}

/** Gathers the facts, asks the machine for the next step, runs it; until a step ends the job. */
async function drive(ctx: BuildContext): Promise<ReindexReport> {
  try {
    for (;;) {
      const step = nextStep(ctx.job, await gatherFacts(ctx));
      const report = await runStep(ctx, step);
      if (report) return report;
    }
  } catch (e) {
    ctx.progress.end();
    const err = toSeamlineError(e, 'INTERNAL', `reindex into ${ctx.job.tableName}`);
    if (err.code === 'LEDGER_CONFLICT' && !err.retryable) {
      await ctx.deps.jobs.fail(ctx.job.jobId, err.message, ctx.deps.clock.nowMs());
    } else {
      // Anything else (abort, a store or embed error) leaves the job resumable.
      await ctx.deps.jobs.progress(ctx.job.jobId, { ...ctx.counters }, ctx.deps.clock.nowMs());
    }
    throw err;
  }
}

/** Reads what the current phase needs: the next key page while building, the source's marks after. */
async function gatherFacts(ctx: BuildContext): Promise<Facts> {
  const { jobs, config } = ctx.deps;
  const building = ctx.job.state === 'building';
  ctx.page =
    building && !ctx.signal?.aborted ? await jobs.keyPage(ctx.job.cursorId, config.reindex.pageSize) : [];
  let commitMark = ctx.job.caughtUpSeq;
  if (!building) {
    const m = await jobs.sourceMarks(ctx.serving.tableName);
    commitMark = m.commitMark;
    // Every published record at or below the watermark is in the new table once caught up to this mark.
    if (m.commitMark <= ctx.job.caughtUpSeq) ctx.gateSeq = m.watermark;
  }
  return {
    aborted: ctx.signal?.aborted === true,
    pageRows: ctx.page.length,
    commitMark,
    gates: ctx.gates,
    lastSwap: ctx.lastSwap,
    rounds: ctx.rounds,
    maxRounds: config.reindex.maxCatchUpRounds,
  };
}
