import { mkdir } from 'node:fs/promises';
import { SeamlineError } from '../errors/errors.js';
import { startHttpServer, type HttpServerHandle } from '../http/server.js';
import { EventLoopMonitor } from '../observability/event-loop.js';
import { FreshnessTracker } from '../observability/freshness.js';
import { newLiveStats, type LiveStats } from '../observability/metrics.js';
import type { LandingService } from '../landing/service.js';
import type { Watcher } from '../ports/watcher.js';
import { BacklogPacer } from '../processor/lanes.js';
import { MergeWindow } from '../processor/merge-window.js';
import { every } from '../runtime/every.js';
import { workerLease } from '../ports/leases.js';
import {
  acquireWorker,
  acquireWriter,
  LANDER_LEASE,
  LANDER_TTL_MS,
  WRITER_LEASE,
  WRITER_TTL_MS,
} from '../runtime/lock.js';
import { guardProcess } from '../runtime/process-guard.js';
import type { Runtime } from '../runtime/runtime.js';
import { StallMonitor } from '../runtime/stall-monitor.js';
import { daemonHttpHandlers } from './http-handlers.js';
import { landingLoop, processorLoop, type LoopContext, type Writing } from './loops.js';
import { buildPipeline, type TestHooks } from './pipeline.js';
import { Wakeup } from './wakeup.js';

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

interface Daemon extends LoopContext {
  readonly stopCtl: AbortController;
  setState(s: DaemonState): void;
  /** PostgreSQL: one of several workers (worker lease, lander lease, batch claims). */
  readonly shared: boolean;
  mayLand?: () => Promise<boolean>;
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
  const d = newDaemon(rt, hooks);
  const unguard = guardProcess(rt.logger);
  const done = runDaemon(d, unguard, onReady, opts);
  return {
    state: () => d.live.state,
    done,
    live: d.live,
    stop: () => {
      if (!d.stopCtl.signal.aborted) {
        if (d.live.state !== 'stopped') d.setState('draining');
        d.stopCtl.abort();
      }
    },
  };
}

function newDaemon(rt: Runtime, hooks: TestHooks): Daemon {
  const c = rt.config;
  const live = newLiveStats(rt.clock.nowMs());
  const stopCtl = new AbortController();
  return {
    rt,
    hooks,
    live,
    stopCtl,
    shared: c.db.kind === 'postgres',
    stop: stopCtl.signal,
    setState: (s) => {
      if (live.state === s) return;
      live.state = s;
      rt.logger.info({ event: 'daemon.state', state: s }, `daemon ${s}`);
    },
    // Landing and processing run as two loops so a long batch (seconds of embedding in the worker
    // thread) never delays seeing and landing new files; each sleeps until woken or its interval ends.
    landingWake: new Wakeup(stopCtl.signal, rt.clock),
    processorWake: new Wakeup(stopCtl.signal, rt.clock),
    dirty: true,
    // Retry with backoff + stall visibility for the background lanes (docs/operations.md#stalls).
    stalls: new StallMonitor({
      incidents: () => rt.ledger.incidents(),
      logger: rt.logger,
      clock: rt.clock,
      policy: c.retry,
    }),
    // Complete → searchable per file and lane (the metrics' histograms); the objective is judged from the ledger.
    freshness: new FreshnessTracker(),
    // The backlog lane's throughput cap; live batches are never paced.
    pacer: new BacklogPacer({ ...c.processor.backlog, maxRecords: c.processor.maxRecords }),
  };
}

async function runDaemon(
  d: Daemon,
  unguard: () => void,
  onReady: (() => void) | undefined,
  opts: DaemonOptions,
): Promise<void> {
  const { rt, live } = d;
  const c = rt.config;
  // Single writer (SQLite): refuse before binding any port, so a second daemon fails fast and clearly.
  // PostgreSQL: one of several workers, alive while its own lease is (docs/scale-out.md).
  const holder = d.shared
    ? await acquireWorker(rt.leases, rt.clock.nowMs())
    : await acquireWriter(rt.leases, c.dataDir, rt.clock.nowMs());
  const leaseName = d.shared ? workerLease(holder) : WRITER_LEASE;
  if (d.shared) d.mayLand = landerCheck(d, holder);
  // The optimize job's window holds back only merges that rewrite existing rows (merge-window.ts).
  const window = new MergeWindow(rt.leases, rt.clock, rt.logger, {
    maxPauseMs: c.optimize.maxWriterPauseMs,
    holder,
    stop: d.stopCtl.signal,
  });
  live.storesOpen = true;
  const timers = startTimers(d, holder, leaseName);
  let watcher: Watcher | null = null;
  let http: HttpServerHandle | null = null;
  try {
    if (c.http.enabled) {
      // Up before the model loads: /healthz answers and /readyz says why it is not ready yet.
      http = await startHttpServer(
        c.http,
        daemonHttpHandlers(rt, live, { stalls: d.stalls, freshness: d.freshness }),
        live,
        rt.logger,
      );
      opts.onListening?.(c.http.host, http.port);
    }
    const { landing, writing } = await openPipeline(d, window);
    watcher = rt.watch(
      c.landingDir,
      { depth: 8 },
      () => {
        d.dirty = true;
        d.landingWake.wake();
      },
      (e) => rt.logger.warn({ event: 'watcher.error', err: e }, 'watcher error; periodic rescan continues'),
    );
    if (!d.stop.aborted) d.setState('running');
    rt.logger.info(
      { event: 'daemon.running', landing: c.landingDir, table: writing.table.name },
      'daemon running',
    );
    onReady?.();
    // From here a lock held by another connection is waited out asynchronously, not in a busy loop.
    rt.setBusyTimeout(c.sqlite.daemonBusyTimeoutMs);
    await runLoops(d, window, landing, writing);
    d.setState('draining');
  } finally {
    await window
      .close()
      .catch((e: unknown) =>
        rt.logger.warn(
          { event: 'maintenance.ack_release_failed', err: e },
          'could not remove the maintenance ack',
        ),
      );
    await timers.stop();
    await watcher?.close();
    await http?.close();
    if (d.shared) await rt.leases.release(LANDER_LEASE, holder).catch(() => undefined);
    await rt.leases.release(leaseName, holder);
    live.storesOpen = false;
    d.setState('stopped');
    unguard();
  }
}

/** Lease renewal and event-loop sampling, on the clock, until the daemon has drained (not at stop()). */
function startTimers(d: Daemon, holder: string, leaseName: string): { stop(): Promise<void> } {
  const { rt, stalls } = d;
  const ctl = new AbortController();
  // A timer must never throw: a busy or full database is a stall to report, not a crash.
  const renewing = every(
    rt.clock,
    WRITER_TTL_MS / 3,
    ctl.signal,
    async () => {
      if (await rt.leases.tryAcquire(leaseName, holder, WRITER_TTL_MS, rt.clock.nowMs()))
        stalls.succeeded('lease');
      else
        stalls.failed('lease', new SeamlineError('LOCKED', 'the writer lease was taken by another process'));
    },
    (e) => stalls.failed('lease', e),
  );
  // Event-loop delay every second at debug level (what searches and /healthz waited behind; see benchmarks).
  const loop = new EventLoopMonitor();
  const sampling = every(
    rt.clock,
    1000,
    ctl.signal,
    () => {
      const s = loop.take();
      rt.logger.debug(
        { event: 'eventloop.delay', p50_ms: s.p50Ms, p99_ms: s.p99Ms, max_ms: s.maxMs, samples: s.samples },
        'event-loop delay',
      );
    },
    (e) => rt.logger.warn({ event: 'eventloop.sample_failed', err: e }, 'event-loop sample failed'),
  );
  return {
    stop: async () => {
      ctl.abort();
      await Promise.all([renewing, sampling]);
      loop.close();
    },
  };
}

/** Recovers partial landings, opens (or creates) the serving table and wires landing + processor. */
async function openPipeline(
  d: Daemon,
  window: MergeWindow,
): Promise<{ landing: LandingService; writing: Writing }> {
  const { rt, live } = d;
  const c = rt.config;
  await mkdir(c.landingDir, { recursive: true });
  const redo = await rt.bronze.recoverLanding();
  if (redo.length)
    rt.logger.warn(
      { event: 'landing.recovered', files: redo },
      'removed partial landings from a crash; they will be landed again',
    );
  const table = (await rt.servingTable(true))!;
  const pipeline = await buildPipeline(rt, d.hooks, live.startedAtMs, {
    mergeGate: (kind) => window.beforeMerge(kind),
  });
  const embedder = await rt.embedder((await rt.tables.serving())?.modelId ?? c.model.id);
  live.modelLoaded = true;
  if (await table.ensureFtsIndex())
    rt.logger.info({ event: 'fts.created', table: table.name }, 'created the full-text index');
  return { landing: pipeline.landing, writing: { table, processor: pipeline.processor, embedder } };
}

async function runLoops(
  d: Daemon,
  window: MergeWindow,
  landing: LandingService,
  writing: Writing,
): Promise<void> {
  const c = d.rt.config;
  const idleMs = Math.max(
    50,
    Math.min(c.processor.triggerIntervalMs, c.completeness.stableWindowMs, c.completeness.closedQuietMs),
  );
  // A landing that finishes wakes both loops: the processor has work, and a landing slot is free.
  landing.onSettled = (): void => {
    d.processorWake.wake();
    d.landingWake.wake();
  };
  const landingDone = landingLoop(d, landing, idleMs);
  await processorLoop(d, window, writing, idleMs);
  await landingDone;
  await landing.idle();
}

/**
 * Several workers: lands only while holding the lander lease, checked (and renewed) every few seconds.
 * Taking it over from a dead lander first removes that lander's partial landings (owner-aware recovery).
 */
function landerCheck(d: Daemon, holder: string): () => Promise<boolean> {
  const { rt } = d;
  let held = false;
  let checkedAt = -Infinity;
  return async () => {
    const now = rt.clock.nowMs();
    if (now - checkedAt < LANDER_TTL_MS / 6) return held;
    checkedAt = now;
    try {
      const got = await rt.leases.tryAcquire(LANDER_LEASE, holder, LANDER_TTL_MS, now);
      if (got && !held) {
        const redo = await rt.bronze.recoverLanding();
        rt.logger.info(
          { event: 'landing.lander', recovered: redo },
          'this worker lands the landing folder now (lander lease)',
        );
      }
      held = got;
      d.stalls.succeeded('lease');
    } catch (e) {
      held = false;
      d.stalls.failed('lease', e);
    }
    return held;
  };
}
