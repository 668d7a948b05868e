import { mkdir } from 'node:fs/promises';
import { watch, type FSWatcher } from 'chokidar';
import { isSeamlineError, toSeamlineError } from '../errors/errors.js';
import { acquireWriter, Leases, WRITER_LEASE, WRITER_TTL_MS } from '../runtime/lock.js';
import type { Runtime } from '../runtime/runtime.js';
import { buildPipeline, type TestHooks } from './pipeline.js';

export type DaemonState = 'starting' | 'running' | 'draining' | 'stopped';

export interface DaemonHandle {
  state(): DaemonState;
  /** Resolves when the daemon has stopped (after stop() or a fatal error). */
  readonly done: Promise<void>;
  stop(): void;
}

/**
 * The long-lived process: watcher + periodic rescan feed the loader; the processor runs a batch
 * whenever bronze is ahead of the ledger. stop() lets the batch in flight finish, then closes
 * everything in reverse order.
 */
export function startDaemon(rt: Runtime, hooks: TestHooks, onReady?: () => void): DaemonHandle {
  let state: DaemonState = 'starting';
  const stopCtl = new AbortController();
  let wake: (() => void) | null = null;
  let dirty = true;
  const poke = (): void => {
    dirty = true;
    wake?.();
  };
  const c = rt.config;
  const log = rt.logger;

  const done = (async () => {
    const leases = new Leases(rt.db);
    const holder = acquireWriter(leases, c.dataDir, rt.clock.nowMs());
    let watcher: FSWatcher | null = null;
    const renew = setInterval(() => {
      leases.tryAcquire(WRITER_LEASE, holder, WRITER_TTL_MS, rt.clock.nowMs());
    }, WRITER_TTL_MS / 3);
    renew.unref();
    try {
      await mkdir(c.landingDir, { recursive: true });
      const redo = rt.bronze.recoverLanding();
      if (redo.length) log.warn({ event: 'landing.recovered', files: redo }, 'removed partial landings from a crash; they will be landed again');
      const table = await rt.servingTable(true);
      const { landing, processor } = await buildPipeline(rt, hooks);
      watcher = watch(c.landingDir, { ignoreInitial: true, persistent: true, awaitWriteFinish: false, depth: 8 });
      watcher.on('all', poke);
      watcher.on('error', (e) => log.warn({ event: 'watcher.error', err: String(e) }, 'watcher error; periodic rescan continues'));
      state = 'running';
      log.info({ event: 'daemon.running', landing: c.landingDir, table: table!.name }, 'daemon running');
      onReady?.();
      let lastScan = 0;
      while (!stopCtl.signal.aborted) {
        const now = rt.clock.nowMs();
        let didWork = false;
        try {
          if (dirty || now - lastScan >= c.landing.rescanIntervalMs || landing.waiting().length > 0) {
            dirty = false;
            lastScan = now;
            const r = await landing.tick();
            didWork = r.landed.length > 0;
          }
          // The batch in flight is not aborted by stop(): it finishes (or the deadline kills the process).
          const b = await processor.runOnce(table!);
          didWork ||= b !== null;
        } catch (e) {
          const err = toSeamlineError(e);
          log.error({ event: 'daemon.step_failed', code: err.code, err: err.message, retryable: err.retryable }, 'pipeline step failed; retrying after the trigger interval');
          if (isSeamlineError(e) && !e.retryable && e.code === 'LOCKED') throw e;
        }
        if (didWork) continue;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.max(50, Math.min(c.processor.triggerIntervalMs, c.completeness.stableWindowMs)));
          wake = () => {
            clearTimeout(t);
            resolve();
          };
          stopCtl.signal.addEventListener('abort', () => {
            clearTimeout(t);
            resolve();
          }, { once: true });
        });
        wake = null;
      }
      state = 'draining';
    } finally {
      clearInterval(renew);
      await watcher?.close();
      leases.release(WRITER_LEASE, holder);
      state = 'stopped';
    }
  })();

  return {
    state: () => state,
    done,
    stop: () => {
      if (!stopCtl.signal.aborted) {
        state = state === 'stopped' ? state : 'draining';
        stopCtl.abort();
      }
    },
  };
}

