import { isSeamlineError } from '../errors/errors.js';
import type { LandingService } from '../landing/service.js';
import type { FreshnessTracker } from '../observability/freshness.js';
import type { LiveStats } from '../observability/metrics.js';
import type { Embedder } from '../ports/embedder.js';
import type { VectorTable } from '../ports/vector-store.js';
import type { BacklogPacer } from '../processor/lanes.js';
import type { MergeWindow } from '../processor/merge-window.js';
import type { Processor } from '../processor/processor.js';
import type { Runtime } from '../runtime/runtime.js';
import type { StallMonitor } from '../runtime/stall-monitor.js';
import { buildPipeline, type TestHooks } from './pipeline.js';
import type { Wakeup } from './wakeup.js';

/** What the daemon's two loops share. */
export interface LoopContext {
  readonly rt: Runtime;
  readonly hooks: TestHooks;
  readonly live: LiveStats;
  readonly stop: AbortSignal;
  readonly landingWake: Wakeup;
  readonly processorWake: Wakeup;
  readonly stalls: StallMonitor;
  readonly freshness: FreshnessTracker;
  readonly pacer: BacklogPacer;
  /** A watcher event arrived since the last landing pass. */
  dirty: boolean;
  /** Several workers: whether this worker lands now (holds the lander lease; never throws). Absent: always. */
  readonly mayLand?: () => Promise<boolean>;
}

/** What the processor writes to: swapped together when the serving pointer moves. */
export interface Writing {
  table: VectorTable;
  processor: Processor;
  embedder: Embedder;
}

/** Sees and lands files: on a watcher hint, every rescan interval, or while files wait to retry. */
export async function landingLoop(ctx: LoopContext, landing: LandingService, idleMs: number): Promise<void> {
  const c = ctx.rt.config;
  let lastScan = 0;
  while (!ctx.stop.aborted) {
    if (ctx.mayLand && !(await ctx.mayLand())) {
      await ctx.landingWake.sleep(idleMs);
      continue;
    }
    const now = ctx.rt.clock.nowMs();
    if (
      ctx.dirty ||
      now - lastScan >= c.landing.rescanIntervalMs ||
      landing.waiting().some((w) => w.reason !== 'landing')
    ) {
      ctx.dirty = false;
      lastScan = now;
      if ((await landingPass(ctx, landing)) === 'stop') break;
    }
    await ctx.landingWake.sleep(idleMs);
  }
}

async function landingPass(ctx: LoopContext, landing: LandingService): Promise<'stop' | void> {
  const { stalls } = ctx;
  try {
    // pass() starts landings and returns: a heavy file lands in its own task (bounded by
    // landing.concurrency) while later passes pick up the files behind it.
    const r = await landing.pass(ctx.stop);
    if (r.landed.length > 0) ctx.processorWake.wake();
    // Files that failed to land back off in the landing service; their error still counts as a stall.
    const failed = r.landed.find((o) => o.kind === 'failed' && o.error !== undefined);
    if (failed?.kind === 'failed') stalls.failed('landing', failed.error);
    else if (!r.waiting.some((w) => w.reason === 'retry-backoff')) stalls.succeeded('landing');
  } catch (e) {
    if (ctx.stop.aborted) return 'stop';
    ctx.dirty = true;
    await ctx.rt.clock.sleep(stalls.failed('landing', e).delayMs, ctx.stop);
  }
}

/**
 * Runs a batch whenever there is work; between batches follows the serving pointer and acknowledges
 * a maintenance window. Batches go on during a window: only a merge that rewrites existing rows
 * waits for it (bounded), inside the batch (processor/merge-window.ts).
 */
export async function processorLoop(
  ctx: LoopContext,
  window: MergeWindow,
  w: Writing,
  idleMs: number,
): Promise<void> {
  while (!ctx.stop.aborted) {
    let didWork = false;
    let backlogWaitMs = 0;
    try {
      await followServing(ctx, w, window);
      // The batch in flight is not aborted by stop(): it finishes (or the deadline kills the process).
      const tokensBefore = w.embedder.stats().realTokens;
      // The optimizer starts its window once the writer has acknowledged it (between batches).
      await window.between();
      if (ctx.stop.aborted) break;
      // Live first, always; the backlog lane only when its cap allows (else sleep until it does, or a
      // landed file wakes the loop for the live lane).
      const b = await w.processor.runOnce(w.table, undefined, () => {
        backlogWaitMs = ctx.pacer.waitMs(ctx.rt.clock.nowMs());
        return backlogWaitMs === 0;
      });
      if (b) observeBatch(ctx, w, b, tokensBefore);
      didWork = b !== null;
      ctx.stalls.succeeded('processor');
    } catch (e) {
      await processorFailed(ctx, e);
    }
    if (!didWork) await ctx.processorWake.sleep(backlogWaitMs > 0 ? Math.min(idleMs, backlogWaitMs) : idleMs);
  }
}

type Batch = NonNullable<Awaited<ReturnType<Processor['runOnce']>>>;

function observeBatch(ctx: LoopContext, w: Writing, b: Batch, tokensBefore: number): void {
  const { live } = ctx;
  if (b.lane === 'backlog') ctx.pacer.done(b.recordsIn, b.durationMs, ctx.rt.clock.nowMs());
  ctx.freshness.observe(b.searchable);
  const tokens = w.embedder.stats().realTokens - tokensBefore;
  live.embedTokens += tokens;
  if (tokens > 0 && b.durationMs > 0) live.tokensPerSecond = (tokens * 1000) / b.durationMs;
}

async function processorFailed(ctx: LoopContext, e: unknown): Promise<void> {
  if (isSeamlineError(e) && !e.retryable && e.code === 'LOCKED') throw e;
  // A gate failure is the processor's own incident (the batch waits for an operator); others back off.
  if (!(isSeamlineError(e) && e.code === 'GATE_FAILED'))
    await ctx.rt.clock.sleep(ctx.stalls.failed('processor', e).delayMs, ctx.stop);
  else ctx.rt.logger.warn({ event: 'daemon.step_failed', code: e.code, err: e }, 'batch held by a gate');
}

/** Follows the serving pointer (reindex swap, rollback) between batches, without a restart. */
async function followServing(ctx: LoopContext, w: Writing, window: MergeWindow): Promise<void> {
  const { rt } = ctx;
  const serving = await rt.tables.serving();
  if (!serving || serving.tableName === w.table.name) return;
  // Build everything first: a failure here leaves the old trio consistent and is retried.
  const next = {
    table: await rt.servingTable(false),
    processor: (
      await buildPipeline(rt, ctx.hooks, ctx.live.startedAtMs, {
        mergeGate: (kind) => window.beforeMerge(kind),
      })
    ).processor,
    embedder: await rt.embedder(serving.modelId),
  };
  w.table = next.table!;
  w.processor = next.processor;
  w.embedder = next.embedder;
  if (await w.table.ensureFtsIndex())
    rt.logger.info({ event: 'fts.created', table: w.table.name }, 'created the full-text index');
  rt.logger.info(
    {
      event: 'daemon.table_switched',
      table: serving.tableName,
      model_id: serving.modelId,
      dim: serving.dim,
    },
    `now writing ${serving.tableName} (${serving.modelId}, ${serving.dim}-d): the serving pointer moved`,
  );
}
