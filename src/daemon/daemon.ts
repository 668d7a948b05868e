import { mkdir } from 'node:fs/promises';
import { watch, type FSWatcher } from 'chokidar';
import { setBusyTimeout } from '../store/sqlite/db.js';
import { isSeamlineError, SeamlineError } from '../errors/errors.js';
import { startHttpServer, type HttpServerHandle } from '../http/server.js';
import { EventLoopMonitor } from '../observability/event-loop.js';
import { FreshnessTracker } from '../observability/freshness.js';
import { newLiveStats, type LiveStats } from '../observability/metrics.js';
import { BacklogPacer } from '../processor/lanes.js';
import { MaintenanceGate } from '../optimize/gate.js';
import { acquireWriter, Leases, WRITER_LEASE, WRITER_TTL_MS } from '../runtime/lock.js';
import type { Runtime } from '../runtime/runtime.js';
import { guardProcess } from '../runtime/process-guard.js';
import { backoffSleep, StallMonitor } from '../runtime/stall-monitor.js';
import { buildPipeline, type TestHooks } from './pipeline.js';
import { daemonHttpHandlers } from './http-handlers.js';

export type DaemonState = 'starting' | 'running' | 'draining' | 'stopped';

export interface DaemonHandle {
  state(): DaemonState;
  /** Resolves when the daemon has stopped (after stop() or a fatal error). */
  readonly done: Promise<void>;
  stop(): void;
  /** Live facts (state, model loaded, HTTP counters) the metrics and /readyz read. */
  readonly live: LiveStats;
}

export interface DaemonOptions {
  /** Called once the HTTP server listens (with the bound port, useful with port 0). */
  readonly onListening?: (host: string, port: number) => void;
}

/**
 * The long-lived process: watcher + periodic rescan feed the loader; the processor runs a batch
 * whenever bronze is ahead of the ledger; HTTP serves health, metrics, status and search.
 * Lifecycle: starting → running → draining → stopped. stop() lets the batch in flight finish, then
 * closes the watcher, the HTTP server and the lease in reverse order of opening (the caller closes
 * the runtime: embedder, LanceDB, SQLite).
 */
export function startDaemon(
  rt: Runtime,
  hooks: TestHooks,
  onReady?: () => void,
  opts: DaemonOptions = {},
): DaemonHandle {
  const live = newLiveStats(rt.clock.nowMs());
  const setState = (s: DaemonState): void => {
    if (live.state === s) return;
    live.state = s;
    rt.logger.info({ event: 'daemon.state', state: s }, `daemon ${s}`);
  };
  const stopCtl = new AbortController();
  // Landing and processing run as two loops so a long batch (seconds of embedding in the worker
  // thread) never delays seeing and landing new files; each sleeps until woken or its interval ends.
  const landingWake = new Wakeup(stopCtl.signal);
  const processorWake = new Wakeup(stopCtl.signal);
  let dirty = true;
  const poke = (): void => {
    dirty = true;
    landingWake.wake();
  };
  const c = rt.config;
  const log = rt.logger;
  // Retry with backoff + stall visibility for the background lanes (docs/operations.md#stalls).
  const stalls = new StallMonitor({
    incidents: () => rt.ledger.incidents(),
    logger: log,
    clock: rt.clock,
    policy: c.retry,
  });
  // Complete → searchable per file and lane (the metrics' histograms); the objective is judged from the ledger.
  const freshness = new FreshnessTracker();
  // The backlog lane's throughput cap; live batches are never paced.
  const pacer = new BacklogPacer({ ...c.processor.backlog, maxRecords: c.processor.maxRecords });

  const unguard = guardProcess(log);
  const done = (async () => {
    const leases = new Leases(rt.db);
    // Single writer: refuse before binding any port, so a second daemon fails fast and clearly.
    const holder = acquireWriter(leases, c.dataDir, rt.clock.nowMs());
    const gate = new MaintenanceGate(leases, rt.clock, log, {
      maxPauseMs: c.optimize.maxWriterPauseMs,
      holder,
    });
    live.storesOpen = true;
    let watcher: FSWatcher | null = null;
    let http: HttpServerHandle | null = null;
    const renew = setInterval(() => {
      // A timer must never throw: a busy or full database is a stall to report, not a crash.
      try {
        if (leases.tryAcquire(WRITER_LEASE, holder, WRITER_TTL_MS, rt.clock.nowMs()))
          stalls.succeeded('lease');
        else
          stalls.failed(
            'lease',
            new SeamlineError('LOCKED', 'the writer lease was taken by another process'),
          );
      } catch (e) {
        stalls.failed('lease', e);
      }
    }, WRITER_TTL_MS / 3);
    renew.unref();
    // Event-loop delay every second at debug level (what searches and /healthz waited behind; see benchmarks).
    const loop = new EventLoopMonitor();
    const loopTimer = setInterval(() => {
      const d = loop.take();
      log.debug(
        { event: 'eventloop.delay', p50_ms: d.p50Ms, p99_ms: d.p99Ms, max_ms: d.maxMs, samples: d.samples },
        'event-loop delay',
      );
    }, 1000);
    loopTimer.unref();
    try {
      if (c.http.enabled) {
        // Up before the model loads: /healthz answers and /readyz says why it is not ready yet.
        http = await startHttpServer(c.http, daemonHttpHandlers(rt, live, { stalls, freshness }), live, log);
        opts.onListening?.(c.http.host, http.port);
      }
      await mkdir(c.landingDir, { recursive: true });
      const redo = await rt.bronze.recoverLanding();
      if (redo.length)
        log.warn(
          { event: 'landing.recovered', files: redo },
          'removed partial landings from a crash; they will be landed again',
        );
      let table = await rt.servingTable(true);
      const pipeline = await buildPipeline(rt, hooks, live.startedAtMs);
      const landing = pipeline.landing;
      let processor = pipeline.processor;
      let embedder = await rt.embedder((await rt.tables.serving())?.modelId ?? c.model.id);
      live.modelLoaded = true;
      if (await table!.ensureFtsIndex())
        log.info({ event: 'fts.created', table: table!.name }, 'created the full-text index');
      watcher = watch(c.landingDir, {
        ignoreInitial: true,
        persistent: true,
        awaitWriteFinish: false,
        depth: 8,
        followSymlinks: false,
      });
      watcher.on('all', poke);
      watcher.on('error', (e) =>
        log.warn({ event: 'watcher.error', err: e }, 'watcher error; periodic rescan continues'),
      );
      if (!stopCtl.signal.aborted) setState('running');
      log.info({ event: 'daemon.running', landing: c.landingDir, table: table!.name }, 'daemon running');
      onReady?.();
      // From here a lock held by another connection is waited out asynchronously, not in a busy loop.
      setBusyTimeout(rt.db, c.sqlite.daemonBusyTimeoutMs);
      const idleMs = Math.max(
        50,
        Math.min(c.processor.triggerIntervalMs, c.completeness.stableWindowMs, c.completeness.closedQuietMs),
      );
      // A landing that finishes wakes both loops: the processor has work, and a landing slot is free.
      landing.onSettled = (): void => {
        processorWake.wake();
        landingWake.wake();
      };
      const landingLoop = (async () => {
        let lastScan = 0;
        while (!stopCtl.signal.aborted) {
          const now = rt.clock.nowMs();
          if (
            dirty ||
            now - lastScan >= c.landing.rescanIntervalMs ||
            landing.waiting().some((w) => w.reason !== 'landing')
          ) {
            dirty = false;
            lastScan = now;
            try {
              // pass() starts landings and returns: a heavy file lands in its own task (bounded by
              // landing.concurrency) while later passes pick up the files behind it.
              const r = await landing.pass(stopCtl.signal);
              if (r.landed.length > 0) processorWake.wake();
              // Files that failed to land back off in the landing service; their error still counts as a stall.
              const failed = r.landed.find((o) => o.kind === 'failed' && o.error !== undefined);
              if (failed?.kind === 'failed') stalls.failed('landing', failed.error);
              else if (!r.waiting.some((w) => w.reason === 'retry-backoff')) stalls.succeeded('landing');
            } catch (e) {
              if (stopCtl.signal.aborted) break;
              dirty = true;
              await backoffSleep(stalls.failed('landing', e).delayMs, stopCtl.signal);
            }
          }
          await landingWake.sleep(idleMs);
        }
      })();
      while (!stopCtl.signal.aborted) {
        let didWork = false;
        let backlogWaitMs = 0;
        try {
          // Follow the serving pointer (reindex swap, rollback) between batches, without a restart.
          const serving = await rt.tables.serving();
          if (serving && serving.tableName !== table!.name) {
            // Build everything first: a failure here leaves the old trio consistent and is retried.
            const next = {
              table: await rt.servingTable(false),
              processor: (await buildPipeline(rt, hooks, live.startedAtMs)).processor,
              embedder: await rt.embedder(serving.modelId),
            };
            ({ table, processor, embedder } = next);
            if (await table!.ensureFtsIndex())
              log.info({ event: 'fts.created', table: table!.name }, 'created the full-text index');
            log.info(
              {
                event: 'daemon.table_switched',
                table: serving.tableName,
                model_id: serving.modelId,
                dim: serving.dim,
              },
              `now writing ${serving.tableName} (${serving.modelId}, ${serving.dim}-d): the serving pointer moved`,
            );
          }
          // The batch in flight is not aborted by stop(): it finishes (or the deadline kills the process).
          const tokensBefore = embedder.stats().realTokens;
          // Between batches only: the optimize job's maintenance lease pauses new merges (bounded).
          await gate.waitIfHeld(stopCtl.signal);
          if (stopCtl.signal.aborted) break;
          // Live first, always; the backlog lane only when its cap allows (else sleep until it does, or a
          // landed file wakes the loop for the live lane).
          const b = await processor.runOnce(table!, undefined, () => {
            backlogWaitMs = pacer.waitMs(rt.clock.nowMs());
            return backlogWaitMs === 0;
          });
          if (b) {
            if (b.lane === 'backlog') pacer.done(b.recordsIn, b.durationMs, rt.clock.nowMs());
            freshness.observe(b.searchable);
            const tokens = embedder.stats().realTokens - tokensBefore;
            live.embedTokens += tokens;
            if (tokens > 0 && b.durationMs > 0) live.tokensPerSecond = (tokens * 1000) / b.durationMs;
          }
          didWork = b !== null;
          stalls.succeeded('processor');
        } catch (e) {
          if (isSeamlineError(e) && !e.retryable && e.code === 'LOCKED') throw e;
          // A gate failure is the processor's own incident (the batch waits for an operator); others back off.
          if (!(isSeamlineError(e) && e.code === 'GATE_FAILED'))
            await backoffSleep(stalls.failed('processor', e).delayMs, stopCtl.signal);
          else log.warn({ event: 'daemon.step_failed', code: e.code, err: e }, 'batch held by a gate');
        }
        if (!didWork) await processorWake.sleep(backlogWaitMs > 0 ? Math.min(idleMs, backlogWaitMs) : idleMs);
      }
      await landingLoop;
      await landing.idle();
      setState('draining');
    } finally {
      clearInterval(renew);
      clearInterval(loopTimer);
      loop.close();
      await watcher?.close();
      await http?.close();
      leases.release(WRITER_LEASE, holder);
      live.storesOpen = false;
      setState('stopped');
      unguard();
    }
  })();

  return {
    state: () => live.state,
    done,
    live,
    stop: () => {
      if (!stopCtl.signal.aborted) {
        if (live.state !== 'stopped') setState('draining');
        stopCtl.abort();
      }
    },
  };
}

/** A sleep that a wake() (or the stop signal) cuts short; a wake() while awake is not lost. */
class Wakeup {
  private pending = false;
  private resolve: (() => void) | null = null;

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', () => this.wake(), { once: true });
  }

  wake(): void {
    this.pending = true;
    this.resolve?.();
  }

  async sleep(ms: number): Promise<void> {
    if (this.pending || this.signal.aborted) {
      this.pending = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.resolve = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.resolve = done;
    });
    this.pending = false;
  }
}
