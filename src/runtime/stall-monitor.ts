import type { Incidents } from '../ledger/incidents.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../ports/clock.js';
import { LaneHealth, type RetryPolicy, type Stall, type Verdict } from './stall.js';

/** Incident batch id of a lane's stall (one open incident per lane; guard = the error code). */
export const stallIncidentId = (lane: string): string => `stall:${lane}`;

/**
 * The daemon's view of its background lanes (landing, processor, lease): logs every failed step with
 * its code and retry verdict, keeps the stalls /readyz and /status report, and mirrors each stall as
 * an incident that closes itself on recovery. Incident writes are best effort (the database may be
 * the thing that is stalled): a write that fails is retried on the next event.
 */
export class StallMonitor {
  private readonly lanes = new Map<string, LaneHealth>();
  private readonly persisted = new Set<string>();
  private pending: (() => void)[] = [];

  constructor(
    private readonly deps: {
      readonly incidents: () => Incidents;
      readonly logger: Logger;
      readonly clock: Clock;
      readonly policy: RetryPolicy;
      readonly random?: () => number;
    },
  ) {}

  private lane(name: string): LaneHealth {
    let l = this.lanes.get(name);
    if (!l) {
      l = new LaneHealth(name, this.deps.policy, this.deps.clock, this.deps.random);
      this.lanes.set(name, l);
    }
    return l;
  }

  /** A step of `lane` failed: log, maybe open/refresh the stall incident, return what to do. */
  failed(lane: string, e: unknown): Verdict {
    const v = this.lane(lane).failure(e);
    const s = v.stall;
    const log = this.deps.logger;
    const fields = {
      event: v.kind === 'halt' ? 'lane.halted' : 'lane.retry',
      lane,
      code: s?.code ?? (e as { code?: string } | null)?.code ?? 'INTERNAL',
      retryable: v.kind === 'retry',
      delay_ms: v.delayMs,
      err: e,
    };
    if (v.kind === 'halt')
      log.error(
        fields,
        `${lane} stopped: ${s!.code} is not retryable (${s!.message}); looking again in ${v.delayMs} ms`,
      );
    else log.warn(fields, `${lane} step failed; retrying in ${v.delayMs} ms`);
    if (s && v.opened)
      log.error(
        { event: 'stall.opened', lane, code: s.code, failures: s.failures, since_ms: s.sinceMs },
        `${lane} is stalled: ${s.code}: ${s.message}`,
      );
    this.flush();
    if (s) this.persistOpen(s);
    return v;
  }

  /** A step of `lane` succeeded: closes its stall (and incident), if any. */
  succeeded(lane: string): void {
    const l = this.lanes.get(lane);
    const ended = l?.success() ?? null;
    if (ended) {
      const ms = this.deps.clock.nowMs() - ended.sinceMs;
      this.deps.logger.info(
        { event: 'stall.closed', lane, code: ended.code, stalled_ms: ms },
        `${lane} recovered after ${ms} ms stalled (${ended.code})`,
      );
      const wasPersisted = this.persisted.has(lane);
      this.persisted.delete(lane);
      this.pending.push(() => {
        if (!wasPersisted) this.record(ended);
        this.deps.incidents().close(stallIncidentId(lane), 'resolved', this.deps.clock.nowMs());
      });
    }
    if (this.pending.length > 0) this.flush();
  }

  stalls(): Stall[] {
    return [...this.lanes.values()].map((l) => l.current()).filter((s): s is Stall => s !== null);
  }

  /** Why the daemon is not ready, one line per stalled lane. */
  reasons(): string[] {
    return this.stalls().map(
      (s) =>
        `${s.lane} ${s.halted ? 'stopped' : 'stalled'} since ${new Date(s.sinceMs).toISOString()} (${s.failures} failures): ${s.code}: ${s.message}`,
    );
  }

  private persistOpen(s: Stall): void {
    try {
      this.record(s);
      this.persisted.add(s.lane);
    } catch (e) {
      this.deps.logger.warn(
        { event: 'stall.incident_deferred', lane: s.lane, err: e },
        'could not write the stall incident yet; will retry',
      );
    }
  }

  private record(s: Stall): void {
    const bound = (this.deps.logger.bindings() as { run_id?: unknown }).run_id;
    this.deps.incidents().record({
      atMs: this.deps.clock.nowMs(),
      pipeline: `daemon:${s.lane}`,
      runId: typeof bound === 'string' ? bound : 'unknown',
      batchId: stallIncidentId(s.lane),
      failureMode: 'stall',
      affectedRows: 0,
      guard: s.code,
      message: `${s.lane} ${s.halted ? 'stopped' : 'stalled'} since ${new Date(s.sinceMs).toISOString()}: ${s.message}`,
    });
  }

  private flush(): void {
    const todo = this.pending;
    this.pending = [];
    for (let i = 0; i < todo.length; i++) {
      try {
        todo[i]!();
      } catch (e) {
        this.pending.push(...todo.slice(i));
        this.deps.logger.warn(
          { event: 'stall.incident_deferred', err: e },
          'could not close a stall incident yet; will retry',
        );
        return;
      }
    }
  }
}
